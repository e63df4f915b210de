package fhirpath

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/profiles/model/modeltest"
)

var (
	coreModelOnce sync.Once
	coreModel     Model
)

func testModel(t testing.TB) Model {
	coreModelOnce.Do(func() { coreModel = FromModel(modeltest.Core(t)) })
	return coreModel
}

func mustDecode(t testing.TB, s string) map[string]any {
	t.Helper()
	return decodeJSON(t, []byte(s))
}

func eval(t testing.TB, eng *Engine, input *Node, expr string, env Env) (Collection, error) {
	t.Helper()
	x, err := eng.Compile(expr)
	if err != nil {
		return nil, err
	}
	return x.Evaluate(context.Background(), input, env)
}

func literals(col Collection) []string {
	out := make([]string, len(col))
	for i, v := range col {
		out[i] = TypeName(v) + " " + Literal(v)
	}
	return out
}

const bundleJSON = `{
  "resourceType": "Bundle", "type": "collection",
  "entry": [
    {"fullUrl": "http://example.org/fhir/Patient/p1",
     "resource": {"resourceType": "Patient", "id": "p1", "managingOrganization": {"reference": "Organization/o1"},
                  "contained": [{"resourceType": "Practitioner", "id": "pr", "name": [{"family": "Inner"}]}],
                  "generalPractitioner": [{"reference": "#pr"}], "link": [{"other": {"reference": "Patient/p2"}, "type": "seealso"}]}},
    {"fullUrl": "http://example.org/fhir/Organization/o1",
     "resource": {"resourceType": "Organization", "id": "o1", "name": "Org One"}},
    {"fullUrl": "http://example.org/fhir/Patient/p2",
     "resource": {"resourceType": "Patient", "id": "p2", "link": [{"other": {"reference": "Patient/p1"}, "type": "seealso"}]}}
  ]}`

type fakeTerminology struct{}

func (fakeTerminology) MemberOf(_ context.Context, vs, system, code string) (bool, bool, error) {
	if vs != "http://example.org/vs" {
		return false, false, nil
	}
	return system == "http://example.org/cs" && code == "a", true, nil
}

func (fakeTerminology) Subsumes(_ context.Context, system, a, b string) (bool, bool, error) {
	return a == "parent" && b == "child", true, nil
}

type fakeProfiles struct{}

func (fakeProfiles) ConformsTo(_ context.Context, res map[string]any, profile string) (bool, bool, error) {
	if profile != "http://example.org/StructureDefinition/named" {
		return false, false, nil
	}
	_, named := res["name"]
	return named, true, nil
}

func TestEvaluate(t *testing.T) {
	m := testModel(t)
	eng := NewEngine(Options{Model: m, Terminology: fakeTerminology{}, Profiles: fakeProfiles{}, Now: func() time.Time {
		return time.Date(2026, 3, 4, 5, 6, 7, 8e6, time.UTC)
	}})
	bundle := eng.Resource(mustDecode(t, bundleJSON))
	firstPatient := eng.Children(eng.Children(bundle, "entry")[0], "resource")[0]
	contained := eng.Children(firstPatient, "contained")[0]
	tests := []struct {
		name  string
		input *Node
		expr  string
		env   Env
		want  []string
	}{
		{name: "resolve within the bundle", input: firstPatient, expr: "managingOrganization.resolve().name", want: []string{"string Org One"}},
		{name: "resolve a contained resource", input: firstPatient, expr: "generalPractitioner.resolve().name.family", want: []string{"string Inner"}},
		{name: "resource of a bundle entry", input: firstPatient, expr: "%resource.id", want: []string{"id p1"}},
		{name: "resource and root resource of a contained resource", input: contained, expr: "%resource.id | %rootResource.id", want: []string{"id pr", "id p1"}},
		{name: "context", input: contained, expr: "%context.name.family", want: []string{"string Inner"}},
		{name: "repeat over cyclic references ends", input: firstPatient, expr: "repeat(link.other.resolve()).id", want: []string{"id p2", "id p1"}},
		{name: "caller variables", expr: "%stored + 1", env: Env{"stored": Collection{Integer(41)}}, want: []string{"integer 42"}},
		{name: "memberOf a value set", expr: "%coding.memberOf('http://example.org/vs')", env: Env{"coding": Collection{eng.NewNode(mustDecode(t, `{"system":"http://example.org/cs","code":"a"}`), "Coding")}}, want: []string{"boolean true"}},
		{name: "memberOf an unknown value set is empty", expr: "'a'.memberOf('http://example.org/other')", want: []string{}},
		{name: "subsumes", expr: "%p.subsumes(%c)", env: Env{"p": Collection{eng.NewNode(mustDecode(t, `{"system":"s","code":"parent"}`), "Coding")}, "c": Collection{eng.NewNode(mustDecode(t, `{"system":"s","code":"child"}`), "Coding")}}, want: []string{"boolean true"}},
		{name: "conformsTo a profile", input: eng.Children(eng.Children(bundle, "entry")[1], "resource")[0], expr: "conformsTo('http://example.org/StructureDefinition/named')", want: []string{"boolean true"}},
		{name: "conformsTo a base type", input: firstPatient, expr: "conformsTo('http://hl7.org/fhir/StructureDefinition/DomainResource')", want: []string{"boolean true"}},
		{name: "now from the injected clock", expr: "now() | today() | timeOfDay()", want: []string{"dateTime @2026-03-04T05:06:07.008Z", "date @2026-03-04", "time @T05:06:07.008"}},
		{name: "htmlChecks accepts plain XHTML", expr: "'<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>ok</p></div>'.htmlChecks()", want: []string{"boolean true"}},
		{name: "htmlChecks rejects script", expr: "'<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>x()</script></div>'.htmlChecks()", want: []string{"boolean false"}},
		{name: "htmlChecks rejects event attributes", expr: "'<div xmlns=\"http://www.w3.org/1999/xhtml\" onclick=\"x()\">a</div>'.htmlChecks()", want: []string{"boolean false"}},
		{name: "ucum conversion", expr: "1 'kg' = 1000 'g' and 1 '[in_i]' = 2.54 'cm' and 1 'h' = 60 'min'", want: []string{"boolean true"}},
		{name: "incompatible units compare empty", expr: "1 'kg' = 1 'm'", want: []string{}},
		{name: "calendar duration arithmetic", expr: "@2024-01-31 + 1 month", want: []string{"date @2024-02-29"}},
		{name: "decimal arithmetic is exact", expr: "0.1 + 0.2 = 0.3", want: []string{"boolean true"}},
		{name: "partial dates compare empty", expr: "@2024 < @2024-06", want: []string{}},
		{name: "aggregates", expr: "(1 | 2 | 3 | 4).sum() | (3 | 1 | 2).min() | (3 | 1 | 2).max() | (1 | 2).avg() | (1 'kg' | 500 'g').sum()", want: []string{"integer 10", "integer 1", "integer 3", "decimal 1.5", "Quantity 1.500 'kg'"}},
		{name: "integer overflow is empty", expr: "9223372036854775807 + 1 | 9223372036854775807 * 2 | (-9223372036854775807 - 1) div -1", want: []string{}},
		{name: "getValue of a primitive", input: firstPatient, expr: "id.getValue()", want: []string{"string p1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := eval(t, eng, tc.input, tc.expr, tc.env)
			require.NoError(t, err)
			assert.Equal(t, tc.want, literals(got))
		})
	}
}

func TestHostileInput(t *testing.T) {
	m := testModel(t)
	eng := NewEngine(Options{Model: m, MaxSteps: 5_000_000})
	big := map[string]any{"resourceType": "Patient"}
	names := make([]any, 100_000)
	for i := range names {
		names[i] = map[string]any{"family": fmt.Sprintf("F%d", i)}
	}
	big["name"] = names
	bigNode := eng.Resource(big)
	wide := map[string]any{"resourceType": "Basic"}
	for i := 0; i < 100_000; i++ {
		wide[fmt.Sprintf("k%06d", i)] = "v"
	}
	wideNode := eng.Resource(wide)
	emptyKeyNode := eng.Resource(map[string]any{"resourceType": "Observation", "": map[string]any{}, "valueQuantity": map[string]any{}})
	tests := []struct {
		name    string
		input   *Node
		expr    string
		wantErr string
		want    []string
	}{
		{name: "parentheses nested 10,000 deep", expr: strings.Repeat("(", 10_000) + "1" + strings.Repeat(")", 10_000), wantErr: "nested more than"},
		{name: "unary minus nested 10,000 deep", expr: strings.Repeat("-", 10_000) + "1", wantErr: "nested more than"},
		{name: "function calls nested 10,000 deep", expr: strings.Repeat("iif(true,", 10_000) + "1" + strings.Repeat(",0)", 10_000), wantErr: "nested more than"},
		{name: "10,000 chained additions", expr: strings.Repeat("1+", 10_000) + "1", want: []string{"integer 10001"}},
		{name: "invalid regular expression", expr: "'abc'.matches('(')", wantErr: "invalid regular expression"},
		{name: "catastrophic regular expression runs in linear time", expr: "'" + strings.Repeat("a", 50_000) + "!'.matches('^(a+)+$')", want: []string{"boolean false"}},
		{name: "100,000-item collection", input: bigNode, expr: "name.family.distinct().count()", want: []string{"integer 100000"}},
		{name: "100,000-item collection sorted", input: bigNode, expr: "name.family.sort().first()", want: []string{"string F0"}},
		{name: "object with 100,000 properties", input: wideNode, expr: "children().count() | descendants().count()", want: []string{"integer 100000"}},
		{name: "quadratic exclude is stopped", input: bigNode, expr: "name.family.exclude(name.family).count()", wantErr: "exceeded"},
		{name: "endless repeat is stopped", expr: "1.repeat($this + 1).count()", wantErr: "exceed"},
		{name: "doubling strings are stopped", expr: "'ab'.repeat($this & $this).count()", wantErr: "longer than"},
		{name: "unknown variable", expr: "%nope", wantErr: "unknown variable %nope"},
		{name: "empty property name beside a choice element", input: emptyKeyNode, expr: "value.exists() and children().count() = 1", want: []string{"boolean true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			var got Collection
			var err error
			go func() {
				defer close(done)
				got, err = eval(t, eng, tc.input, tc.expr, nil)
			}()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("evaluation did not end within 30s")
			}
			if tc.wantErr != "" {
				require.Error(t, err)
				var fe *Error
				assert.True(t, errors.As(err, &fe))
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, literals(got))
		})
	}
}

func TestCancelledContextStopsEvaluation(t *testing.T) {
	eng := NewEngine(Options{})
	x, err := eng.Compile("(1 | 2 | 3).repeat($this + 3).count()")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = x.Evaluate(ctx, nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "context canceled")
}

func TestRegexpCacheIsBounded(t *testing.T) {
	eng := NewEngine(Options{})
	patterns := make(Collection, maxCachedRegexps+100)
	for i := range patterns {
		patterns[i] = String("p" + strconv.Itoa(i))
	}
	got, err := eval(t, eng, nil, "%p.all($this.matches($this))", Env{"p": patterns})
	require.NoError(t, err)
	assert.Equal(t, []string{"boolean true"}, literals(got))
	kept := 0
	eng.regexps.Range(func(any, any) bool { kept++; return true })
	assert.Equal(t, maxCachedRegexps, kept)
}

func TestCompileCachesAndIsConcurrent(t *testing.T) {
	eng := NewEngine(Options{Model: testModel(t)})
	a, err := eng.Compile("name.given")
	require.NoError(t, err)
	b, err := eng.Compile("name.given")
	require.NoError(t, err)
	assert.Same(t, a, b)
	res := mustDecode(t, `{"resourceType":"Patient","name":[{"given":["A","B"]}]}`)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				got, err := a.Evaluate(context.Background(), eng.Resource(res), nil)
				assert.NoError(t, err)
				assert.Len(t, got, 2)
			}
		}()
	}
	wg.Wait()
}

func TestTruth(t *testing.T) {
	tests := []struct {
		name      string
		in        Collection
		wantValue bool
		wantEmpty bool
	}{
		{name: "empty", in: nil, wantEmpty: true},
		{name: "true", in: Collection{Boolean(true)}, wantValue: true},
		{name: "false", in: Collection{Boolean(false)}},
		{name: "single non-boolean", in: Collection{String("x")}, wantValue: true},
		{name: "several items", in: Collection{Boolean(true), Boolean(true)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, empty := Truth(tc.in)
			assert.Equal(t, tc.wantValue, v)
			assert.Equal(t, tc.wantEmpty, empty)
		})
	}
}

func TestItemsJSON(t *testing.T) {
	eng := NewEngine(Options{Model: testModel(t)})
	got, err := eval(t, eng, nil, "1 | 1.50 | 'a' | @2014-01-25 | @2014-01-25T10:00:00Z | @T10:00 | 1 'cm' | 2 days | true", nil)
	require.NoError(t, err)
	b, err := json.Marshal(Items(got))
	require.NoError(t, err)
	assert.JSONEq(t, `[{"type":"integer","value":1},{"type":"decimal","value":"1.50"},{"type":"string","value":"a"},
		{"type":"date","value":"@2014-01-25"},{"type":"dateTime","value":"@2014-01-25T10:00:00Z"},{"type":"time","value":"@T10:00"},
		{"type":"Quantity","value":"1 'cm'"},{"type":"Quantity","value":"2 days"},{"type":"boolean","value":true}]`, string(b))
}

func FuzzCompileEvaluate(f *testing.F) {
	for _, seed := range []string{
		"name.given", "Patient.name.where(use = 'official').given.first()", "1 + 2 * 3", "@2014-01-01T10:00:00Z + 1 day",
		"(1 | 2).repeat($this)", "'abc'.matches('[a-z]+')", "descendants().count()", "iif(true, 1, 2)", "1 'mg' = 0.001 'g'",
		"%resource.contained.all(id.exists())", "children().ofType(HumanName)", "`given`", "{}.empty()", "name[0].given[1]",
	} {
		f.Add(seed)
	}
	eng := NewEngine(Options{Model: testModel(f), MaxSteps: 200_000, MaxItems: 10_000})
	res := decodeJSON(f, []byte(`{"resourceType":"Patient","id":"x","name":[{"use":"official","given":["A","B"],"family":"C"}],
		"birthDate":"2000-01-02","_birthDate":{"extension":[{"url":"u","valueString":"s"}]},"contained":[{"resourceType":"Patient","id":"c"}]}`))
	f.Fuzz(func(t *testing.T, expr string) {
		if len(expr) > 4096 {
			return
		}
		x, err := eng.Compile(expr)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("compile error of unexpected type %T: %v", err, err)
			}
			return
		}
		_, err = x.Evaluate(context.Background(), eng.Resource(res), nil)
		if err != nil && strings.Contains(err.Error(), "internal failure") {
			t.Fatalf("%q: %v", expr, err)
		}
	})
}

func TestChildCountMatchesChildren(t *testing.T) {
	eng := NewEngine(Options{Model: testModel(t)})
	res := mustDecode(t, `{"resourceType":"Patient","id":"x","active":true,"_active":{"id":"a"},
		"name":[{"given":["A",null,"C"],"_given":[null,{"extension":[{"url":"u","valueString":"v"}]},null,{"id":"extra"}]}],
		"_birthDate":{"extension":[{"url":"u","valueString":"v"}]},"contained":[{"resourceType":"Patient","id":"c"}]}`)
	for _, expr := range []string{"children()", "name.children()", "name.given.children()", "descendants()", "birthDate.children()"} {
		t.Run(expr, func(t *testing.T) {
			all, err := eval(t, eng, eng.Resource(res), expr, nil)
			require.NoError(t, err)
			counted, err := eval(t, eng, eng.Resource(res), expr+".select(children().count()).aggregate($total + $this, 0)", nil)
			require.NoError(t, err)
			direct, err := eval(t, eng, eng.Resource(res), expr+".select(children()).count()", nil)
			require.NoError(t, err)
			assert.Equal(t, literals(direct), literals(counted), "%d items", len(all))
		})
	}
}

func TestCompileFor(t *testing.T) {
	eng := NewEngine(Options{Model: testModel(t)})
	tests := []struct {
		name    string
		path    string
		expr    string
		wantErr string
	}{
		{name: "known path", path: "Patient", expr: "name.given.exists()"},
		{name: "unknown element", path: "Patient", expr: "name.given1.exists()", wantErr: "1:6: HumanName has no element given1"},
		{name: "backbone context", path: "Patient.contact", expr: "name.family.exists() or telecom.exists()"},
		{name: "backbone context, unknown element", path: "Patient.contact", expr: "gender.exists() and given.exists()", wantErr: "Patient.contact has no element given"},
		{name: "data type context", path: "Observation.component.code", expr: "coding.code.exists()"},
		{name: "lambda arguments see the item", path: "Patient", expr: "name.where(given1.exists())", wantErr: "HumanName has no element given1"},
		{name: "$this in a lambda", path: "Patient", expr: "name.where($this.given.exists())"},
		{name: "plain arguments see the context", path: "Patient", expr: "name.given.combine(name.family)"},
		{name: "as narrows the type", path: "Observation", expr: "(value as Period).unit", wantErr: "Period has no element unit"},
		{name: "choice elements are not checked below", path: "Observation", expr: "value.unit.exists()"},
		{name: "resource elements are not checked below", path: "Bundle", expr: "entry.resource.name.exists()"},
		{name: "unknown path falls back to Compile", path: "Nothing.here", expr: "anything.goes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := eng.CompileFor(tc.path, tc.expr)
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			var fe *Error
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, SemanticError, fe.Kind)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}
