package suite

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/nhsconform/conform/profiles/fhirpath"
	"github.com/nhsconform/conform/profiles/model"
	"github.com/nhsconform/conform/profiles/packages"
	"github.com/nhsconform/conform/profiles/snapshot"
	"github.com/nhsconform/conform/profiles/validate"
)

// NewValidator returns conform's validator over set, generating snapshots
// for profiles published as differentials only (UK Core and BaRS sources).
func NewValidator(set *packages.Set) (*validate.Validator, error) {
	gen := &snapshot.Generator{Resolve: set.ResolveJSON}
	v, err := validate.New(validate.Options{
		Resolve: set.ResolveJSON,
		Snapshot: func(sd map[string]any) (map[string]any, error) {
			full, _, err := gen.Generate(sd)
			return full, err
		},
	})
	if err != nil {
		return nil, fmt.Errorf("build validator: %w", err)
	}
	return v, nil
}

// FHIRPath evaluates the packs' FHIRPath assertions with conform's engine,
// typed by the R4 model of the package set; it implements the runner's
// FHIRPath seam and compiles each expression once.
type FHIRPath struct {
	engine   *fhirpath.Engine
	compiled sync.Map
}

// NewFHIRPath returns a FHIRPath typed by the hl7.fhir.r4.core definitions in set.
func NewFHIRPath(set *packages.Set) *FHIRPath {
	m := model.New(set.ResolveJSON)
	return &FHIRPath{engine: fhirpath.NewEngine(fhirpath.Options{Model: fhirpath.FromModel(m), CollectionAs: true})}
}

// Evaluate evaluates expression on a decoded resource; env values are
// %NAME variables. Items come back as bool, json.Number, string or the
// JSON object of a complex element.
func (f *FHIRPath) Evaluate(ctx context.Context, resource any, expression string, env map[string]any) ([]any, error) {
	x, err := f.compile(expression)
	if err != nil {
		return nil, err
	}
	root, ok := resource.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("evaluate %s: the subject is not a JSON object", expression)
	}
	vars := fhirpath.Env{}
	for k, v := range env {
		switch t := v.(type) {
		case string:
			vars[k] = fhirpath.Collection{fhirpath.String(t)}
		case bool:
			vars[k] = fhirpath.Collection{fhirpath.Boolean(t)}
		default:
			vars[k] = fhirpath.Collection{fhirpath.String(fmt.Sprint(t))}
		}
	}
	col, err := x.Evaluate(ctx, f.engine.Resource(root), vars)
	if err != nil {
		return nil, fmt.Errorf("evaluate %s: %w", expression, err)
	}
	items := fhirpath.Items(col)
	out := make([]any, len(items))
	for i, it := range items {
		switch v := it.Value.(type) {
		case int64:
			out[i] = json.Number(fmt.Sprint(v))
		case int:
			out[i] = json.Number(fmt.Sprint(v))
		default:
			out[i] = v
		}
	}
	return out, nil
}

func (f *FHIRPath) compile(expression string) (*fhirpath.Expression, error) {
	if x, ok := f.compiled.Load(expression); ok {
		return x.(*fhirpath.Expression), nil
	}
	x, err := f.engine.Compile(expression)
	if err != nil {
		return nil, fmt.Errorf("compile FHIRPath %s: %w", expression, err)
	}
	f.compiled.Store(expression, x)
	return x, nil
}
