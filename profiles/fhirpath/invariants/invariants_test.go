package invariants

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/fhirpath"
	"github.com/nhsconform/conform/profiles/model/modeltest"
	"github.com/nhsconform/conform/profiles/packages"
)

func structureDefinitions(t testing.TB, pkgs ...*packages.Package) []map[string]any {
	t.Helper()
	set := packages.NewSet(pkgs...)
	var out []map[string]any
	for _, r := range set.ByType("StructureDefinition") {
		if r.Package != pkgs[len(pkgs)-1] {
			continue
		}
		m, err := r.JSON()
		require.NoError(t, err, r.String())
		out = append(out, m)
	}
	return out
}

func decodeResource(data []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	err := d.Decode(&m)
	return m, err
}

func decode(t testing.TB, data []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	require.NoError(t, d.Decode(&m))
	return m
}

func TestConstraintsParse(t *testing.T) {
	core, err := packages.Open(conformancetest.Shared(t, modeltest.CorePackage))
	require.NoError(t, err)
	uk, err := packages.Open(conformancetest.Shared(t, "fhir/sources/uk-core"))
	require.NoError(t, err)
	uk2, err := packages.Open(conformancetest.Shared(t, "fhir/sources/uk-core-2.0.2"))
	require.NoError(t, err)
	eng := fhirpath.NewEngine(fhirpath.Options{Model: fhirpath.FromModel(modeltest.Core(t)), CollectionAs: true})
	tests := []struct {
		name    string
		sds     []map[string]any
		atLeast int
	}{
		{name: "hl7.fhir.r4.core", sds: structureDefinitions(t, core), atLeast: 2142},
		{name: "UK Core development build", sds: structureDefinitions(t, core, uk), atLeast: 8},
		{name: "UK Core 2.0.2", sds: structureDefinitions(t, core, uk2), atLeast: 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := Collect(tc.sds, func(_ map[string]any, key string) bool { return key != "ele-1" })
			exprs := map[string]bool{}
			for _, c := range set.All() {
				exprs[c.Expression] = true
				_, err := eng.Compile(c.Expression)
				assert.NoError(t, err, "%s %s at %s: %s", c.Source, c.Key, c.Path, c.Expression)
			}
			t.Logf("%s: %d constraints besides ele-1 (%d distinct expressions) all compile", tc.name, len(set.All()), len(exprs))
			assert.GreaterOrEqual(t, len(set.All()), tc.atLeast)
		})
	}
}

func TestInvariantSweepOverR4Examples(t *testing.T) {
	core, err := packages.Open(conformancetest.Shared(t, modeltest.CorePackage))
	require.NoError(t, err)
	set := Collect(structureDefinitions(t, core), nil)
	files, err := modeltest.ReadPackage(conformancetest.Shared(t, "fhir/packages/hl7.fhir.r4.examples-4.0.1.tgz"), "")
	require.NoError(t, err)
	eng := fhirpath.NewEngine(fhirpath.Options{Model: fhirpath.FromModel(modeltest.Core(t)), CollectionAs: true, NoPathChecks: true})
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	type tally struct {
		resources, evaluations, falseResults int
		failures                             []string
	}
	work := make(chan string)
	tallies := make([]tally, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for w := range tallies {
		wg.Add(1)
		go func(tl *tally) {
			defer wg.Done()
			for name := range work {
				res, err := decodeResource(files[name])
				if err != nil {
					tl.failures = append(tl.failures, name+": "+err.Error())
					continue
				}
				if _, ok := res["resourceType"].(string); !ok {
					continue
				}
				tl.resources++
				set.Check(context.Background(), eng, res, func(r Result) {
					tl.evaluations++
					if r.Err != nil {
						tl.failures = append(tl.failures, fmt.Sprintf("%s %s %s at %s: %v", name, r.Constraint.Key, r.Constraint.Expression, r.Path, r.Err))
						return
					}
					if v, empty := fhirpath.Truth(r.Result); !v && !empty {
						tl.falseResults++
					}
				})
			}
		}(&tallies[w])
	}
	for _, name := range names {
		work <- name
	}
	close(work)
	wg.Wait()
	resources, evaluations, falseResults := 0, 0, 0
	var failures []string
	for _, tl := range tallies {
		resources += tl.resources
		evaluations += tl.evaluations
		falseResults += tl.falseResults
		failures = append(failures, tl.failures...)
	}
	sort.Strings(failures)
	t.Logf("%d resources, %d constraint evaluations, %d evaluated false, %d errors", resources, evaluations, falseResults, len(failures))
	for i, f := range failures {
		if i == 50 {
			t.Logf("... %d more", len(failures)-50)
			break
		}
		t.Log(f)
	}
	assert.Greater(t, resources, 5000)
	assert.Empty(t, failures)
}

// TestPathCheckFindsR4Defect shows why the sweep turns path checks off: R4's
// cid-0 names ChargeItemDefinition.name, an element the resource does not have.
func TestPathCheckFindsR4Defect(t *testing.T) {
	files, err := modeltest.ReadPackage(conformancetest.Shared(t, "fhir/packages/hl7.fhir.r4.examples-4.0.1.tgz"), "ChargeItemDefinition-device")
	require.NoError(t, err)
	require.Len(t, files, 1)
	m := fhirpath.FromModel(modeltest.Core(t))
	const cid0 = "name.matches('[A-Z]([A-Za-z0-9_]){0,254}')"
	for _, data := range files {
		res := decode(t, data)
		checked := fhirpath.NewEngine(fhirpath.Options{Model: m})
		x, err := checked.Compile(cid0)
		require.NoError(t, err)
		_, err = x.Evaluate(context.Background(), checked.Resource(res), nil)
		var fe *fhirpath.Error
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, fhirpath.SemanticError, fe.Kind)
		lenient := fhirpath.NewEngine(fhirpath.Options{Model: m, NoPathChecks: true})
		x, err = lenient.Compile(cid0)
		require.NoError(t, err)
		got, err := x.Evaluate(context.Background(), lenient.Resource(res), nil)
		require.NoError(t, err)
		assert.Empty(t, got)
	}
}

func TestSearchParameterExpressions(t *testing.T) {
	core, err := packages.Open(conformancetest.Shared(t, modeltest.CorePackage))
	require.NoError(t, err)
	eng := fhirpath.NewEngine(fhirpath.Options{Model: fhirpath.FromModel(modeltest.Core(t)), CollectionAs: true, NoPathChecks: true})
	files, err := modeltest.ReadPackage(conformancetest.Shared(t, "fhir/packages/hl7.fhir.r4.examples-4.0.1.tgz"), "")
	require.NoError(t, err)
	byType := map[string][]map[string]any{}
	for _, data := range files {
		res := decode(t, data)
		rt, _ := res["resourceType"].(string)
		byType[rt] = append(byType[rt], res)
	}
	compiled, evaluations := 0, 0
	for _, r := range packages.NewSet(core).ByType("SearchParameter") {
		m, err := r.JSON()
		require.NoError(t, err)
		expr, _ := m["expression"].(string)
		if expr == "" {
			continue
		}
		x, err := eng.Compile(expr)
		if !assert.NoError(t, err, "%s: %s", r.URL, expr) {
			continue
		}
		compiled++
		bases, _ := m["base"].([]any)
		for _, b := range bases {
			base, _ := b.(string)
			for _, res := range byType[base] {
				evaluations++
				_, err := x.Evaluate(context.Background(), eng.Resource(res), nil)
				assert.NoError(t, err, "%s on a %s example: %s", r.URL, base, expr)
			}
		}
	}
	t.Logf("%d search parameter expressions compile; %d evaluations over the R4 examples of their base types", compiled, evaluations)
	assert.Greater(t, compiled, 1000)
}

func TestInvariantSweepOverUKCoreExamples(t *testing.T) {
	core, err := packages.Open(conformancetest.Shared(t, modeltest.CorePackage))
	require.NoError(t, err)
	eng := fhirpath.NewEngine(fhirpath.Options{Model: fhirpath.FromModel(modeltest.Core(t)), CollectionAs: true, NoPathChecks: true})
	conformance := map[string]bool{"StructureDefinition": true, "ValueSet": true, "CodeSystem": true, "ConceptMap": true,
		"SearchParameter": true, "CapabilityStatement": true, "OperationDefinition": true, "NamingSystem": true, "ImplementationGuide": true}
	for _, dir := range []string{"fhir/sources/uk-core", "fhir/sources/uk-core-2.0.2"} {
		t.Run(dir, func(t *testing.T) {
			uk, err := packages.Open(conformancetest.Shared(t, dir))
			require.NoError(t, err)
			sds := append(structureDefinitions(t, core), structureDefinitions(t, core, uk)...)
			set := Collect(sds, nil)
			resources, evaluations := 0, 0
			packages.NewSet(core, uk)
			for _, r := range uk.Resources {
				if conformance[r.ResourceType] {
					continue
				}
				res, err := r.JSON()
				require.NoError(t, err, r.String())
				resources++
				set.Check(context.Background(), eng, res, func(c Result) {
					evaluations++
					assert.NoError(t, c.Err, "%s %s %s at %s", r.File, c.Constraint.Key, c.Constraint.Expression, c.Path)
				})
			}
			t.Logf("%d examples, %d constraint evaluations", resources, evaluations)
			assert.Greater(t, resources, 50)
		})
	}
}

// TestConstraintsMatchTheModel compiles every constraint for the element it
// is stated on, so that each element it names is checked against the model.
// The failures are exactly the R4 defects listed.
func TestConstraintsMatchTheModel(t *testing.T) {
	core, err := packages.Open(conformancetest.Shared(t, modeltest.CorePackage))
	require.NoError(t, err)
	uk, err := packages.Open(conformancetest.Shared(t, "fhir/sources/uk-core"))
	require.NoError(t, err)
	eng := fhirpath.NewEngine(fhirpath.Options{Model: fhirpath.FromModel(modeltest.Core(t)), CollectionAs: true})
	notLogical := func(sd map[string]any, _ string) bool { return sd["kind"] != "logical" }
	sds := append(structureDefinitions(t, core), structureDefinitions(t, core, uk)...)
	set := Collect(sds, notLogical)
	var failures []string
	for _, c := range set.All() {
		if _, err := eng.CompileFor(c.Path, c.Expression); err != nil {
			failures = append(failures, c.Source+" "+c.Key+": "+err.Error())
		}
	}
	t.Logf("%d constraints checked against the model", len(set.All()))
	sort.Strings(failures)
	assert.Equal(t, []string{
		"http://hl7.org/fhir/StructureDefinition/ChargeItemDefinition cid-0: fhirpath semantic error at 1:1: ChargeItemDefinition has no element name",
		"http://hl7.org/fhir/StructureDefinition/allergyintolerance-substanceExposureRisk inv-1: fhirpath semantic error at 1:1: Extension has no element substanceExposureRisk",
	}, failures)
}
