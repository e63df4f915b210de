package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/nhsconform/conform/profiles/fhirpath"
)

// Engine adapts conform's FHIRPath engine (which compiles each expression
// once) to the FHIRPath seam: results come back as JSON-shaped values (bool,
// string, json.Number, maps and slices). Safe for concurrent use.
type Engine struct {
	fp *fhirpath.Engine
}

// NewEngine wraps a FHIRPath engine.
func NewEngine(fp *fhirpath.Engine) *Engine {
	return &Engine{fp: fp}
}

// Evaluate implements FHIRPath.
func (e *Engine) Evaluate(ctx context.Context, resource any, expression string, env map[string]any) ([]any, error) {
	x, err := e.fp.Compile(expression)
	if err != nil {
		return nil, err
	}
	obj, ok := resource.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the input is a %T, not a resource", resource)
	}
	vars := make(fhirpath.Env, len(env))
	for k, v := range env {
		vars[k] = fhirpath.Collection{fhirpath.String(fmt.Sprint(v))}
	}
	col, err := x.Evaluate(ctx, e.fp.Resource(obj), vars)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(col))
	for i, v := range col {
		out[i] = plain(v)
	}
	return out, nil
}

// plain converts one FHIRPath item to the JSON shapes the steps compare.
func plain(v fhirpath.Value) any {
	if n, ok := v.(*fhirpath.Node); ok {
		return n.Data()
	}
	switch x := v.(type) {
	case fhirpath.Boolean:
		return bool(x)
	case fhirpath.String:
		return string(x)
	case fhirpath.Integer:
		return json.Number(strconv.FormatInt(int64(x), 10))
	case fhirpath.Decimal:
		return json.Number(fhirpath.Literal(x))
	}
	lit := strings.TrimPrefix(fhirpath.Literal(v), "@")
	if fhirpath.TypeName(v) == "time" {
		lit = strings.TrimPrefix(lit, "T")
	}
	return lit
}
