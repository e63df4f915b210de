package validate

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/profiles/snapshot"
)

// findings returns the message ids of the issues at or above severity.
func findings(out conformance.Outcome, min conformance.Severity) []string {
	var ids []string
	for _, is := range out.Issues {
		if is.Severity.Rank() <= min.Rank() {
			ids = append(ids, is.MessageID)
		}
	}
	return ids
}

func TestValidateFindings(t *testing.T) {
	v := newCoreValidator(t)
	tests := []struct {
		name     string
		resource string
		// wantErrors lists message ids that must be among the errors; nil
		// means the resource must have no error at all.
		wantErrors []string
		wantLine   int
	}{
		{name: "valid patient", resource: `{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1970-01-01","name":[{"family":"Smith"}]}`},
		{name: "unknown element", resource: "{\"resourceType\":\"Patient\",\n \"colour\":\"blue\"}", wantErrors: []string{"unknown-element"}, wantLine: 2},
		{name: "array expected", resource: `{"resourceType":"Patient","name":{"family":"Smith"}}`, wantErrors: []string{"json-not-array"}},
		{name: "single value expected", resource: `{"resourceType":"Patient","gender":["female"]}`, wantErrors: []string{"json-array-not-allowed"}},
		{name: "wrong JSON type", resource: `{"resourceType":"Patient","active":"true"}`, wantErrors: []string{"json-wrong-type"}},
		{name: "bad date", resource: `{"resourceType":"Patient","birthDate":"1970-02-30"}`, wantErrors: []string{"date-invalid"}},
		{name: "dateTime without timezone", resource: `{"resourceType":"Observation","status":"final","code":{"text":"x"},"effectiveDateTime":"2020-01-01T10:00:00"}`, wantErrors: []string{"datetime-no-timezone"}},
		{name: "empty string", resource: `{"resourceType":"Patient","name":[{"family":""}]}`, wantErrors: []string{"primitive-empty"}},
		{name: "empty object", resource: `{"resourceType":"Patient","name":[{}]}`, wantErrors: []string{"empty-object"}},
		{name: "bad id", resource: `{"resourceType":"Patient","id":"a b"}`, wantErrors: []string{"resource-id-invalid"}},
		{name: "missing required element", resource: `{"resourceType":"Observation","code":{"text":"x"}}`, wantErrors: []string{"cardinality-min"}},
		{name: "required binding", resource: `{"resourceType":"Patient","gender":"woman"}`, wantErrors: []string{"binding-required"}},
		{name: "choice type", resource: `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"a","valueBoolean":true}`, wantErrors: []string{"choice-multiple"}},
		{name: "wrong reference target", resource: `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Medication/1"}}`, wantErrors: []string{"reference-wrong-target"}},
		{name: "unresolved contained reference", resource: `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"#p"}}`, wantErrors: []string{"reference-contained-missing"}},
		{name: "contained not referenced", resource: `{"resourceType":"Observation","status":"final","code":{"text":"x"},"contained":[{"resourceType":"Patient","id":"p"}]}`, wantErrors: []string{"constraint-dom-3"}},
		{name: "invariant", resource: `{"resourceType":"Patient","contact":[{"gender":"male"}]}`, wantErrors: []string{"constraint-pat-1"}},
		{name: "period invariant", resource: `{"resourceType":"Encounter","status":"planned","class":{"code":"AMB"},"period":{"start":"2020-02-01","end":"2020-01-01"}}`, wantErrors: []string{"constraint-per-1"}},
		{name: "narrative script", resource: `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>x</script></div>"}}`, wantErrors: []string{"xhtml-element"}},
		{name: "unknown extension", resource: `{"resourceType":"Patient","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/no-such","valueString":"x"}]}`, wantErrors: []string{"extension-unknown"}},
		{name: "extension value type", resource: `{"resourceType":"Patient","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthPlace","valueString":"x"}]}`, wantErrors: []string{"unknown-element"}},
		{name: "NHS Number check digit", resource: `{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765918"}]}`, wantErrors: []string{"nhs-number-invalid"}},
		{name: "valid NHS Number", resource: `{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}]}`},
		{name: "bundle fullUrl", resource: `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"Patient/1","resource":{"resourceType":"Patient","id":"1"}}]}`, wantErrors: []string{"bundle-fullurl-relative"}},
		{name: "bundle reference resolved by fullUrl", resource: `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:3b8c5f1e-1111-4a2b-9c3d-1234567890ab","resource":{"resourceType":"Medication"}},{"fullUrl":"urn:uuid:3b8c5f1e-2222-4a2b-9c3d-1234567890ab","resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:3b8c5f1e-1111-4a2b-9c3d-1234567890ab"}}}]}`, wantErrors: []string{"reference-wrong-target"}},
		{name: "reference between parameters", resource: `{"resourceType":"Parameters","parameter":[{"name":"a","resource":{"resourceType":"Patient","id":"1"}},{"name":"b","resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/1"}}}]}`},
		{name: "reference missing from parameters", resource: `{"resourceType":"Parameters","parameter":[{"name":"a","resource":{"resourceType":"Patient","id":"1"}},{"name":"b","resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/2"}}}]}`, wantErrors: []string{"reference-parameters-missing"}},
		{name: "searchset match", resource: `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"self","url":"http://example.org/fhir/Patient?name=x"}],"entry":[{"fullUrl":"http://example.org/fhir/Patient/1","resource":{"resourceType":"Patient","id":"1"},"search":{"mode":"match"}}]}`},
		{name: "searchset match without id", resource: `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"urn:uuid:3b8c5f1e-1111-4a2b-9c3d-1234567890ab","resource":{"resourceType":"Patient"},"search":{"mode":"match"}}]}`, wantErrors: []string{"searchset-match-no-id"}},
		{name: "searchset match of another type", resource: `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"self","url":"http://example.org/fhir/Patient?name=x"}],"entry":[{"fullUrl":"http://example.org/fhir/Observation/1","resource":{"resourceType":"Observation","id":"1","status":"final","code":{"text":"x"}},"search":{"mode":"match"}}]}`, wantErrors: []string{"searchset-match-type"}},
		{name: "duplicate key", resource: `{"resourceType":"Patient","active":true,"active":false}`, wantErrors: []string{"json-duplicate-key"}},
		{name: "invalid UTF-8", resource: "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"\xff\"}]}", wantErrors: []string{"json-invalid-utf8"}},
		{name: "too deep", resource: `{"resourceType":"Patient","extension":` + strings.Repeat(`[{"extension":`, 200) + `[]` + strings.Repeat(`}]`, 200) + `}`, wantErrors: []string{"json-too-deep"}},
		{name: "unknown resource type", resource: `{"resourceType":"Patience"}`, wantErrors: []string{"resource-type-unknown"}},
		{name: "not a resource", resource: `[1,2]`, wantErrors: []string{"json-not-object"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := v.Validate(context.Background(), []byte(tc.resource))
			require.NoError(t, err)
			errs := findings(out, conformance.SeverityError)
			if tc.wantErrors == nil {
				assert.Empty(t, errs, "issues: %+v", out.Issues)
				return
			}
			for _, id := range tc.wantErrors {
				assert.Contains(t, errs, id, "issues: %+v", out.Issues)
			}
			if tc.wantLine > 0 {
				for _, is := range out.Issues {
					if is.MessageID == tc.wantErrors[0] {
						assert.Equal(t, tc.wantLine, is.Line)
					}
				}
			}
		})
	}
}

func TestExpressionsAsTheJavaValidatorWritesThem(t *testing.T) {
	v := newCoreValidator(t)
	out, err := v.Validate(context.Background(), []byte(`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:3b8c5f1e-1111-4a2b-9c3d-1234567890ab","resource":{"resourceType":"Patient","id":"x","identifier":[{"system":"s"}],"birthDate":"1970-13-01"}}]}`))
	require.NoError(t, err)
	var exprs []string
	for _, is := range out.Issues {
		exprs = append(exprs, is.Expression)
	}
	assert.Contains(t, exprs, "Bundle.entry[0].resource/*Patient/x*/.identifier[0].system")
	assert.Contains(t, exprs, "Bundle.entry[0].resource/*Patient/x*/.birthDate")
}

func TestNHSNumberSeverity(t *testing.T) {
	set := loadCore(t)
	v, err := New(Options{Resolve: set.ResolveJSON, NHSNumberSeverity: conformance.SeverityWarning})
	require.NoError(t, err)
	out, err := v.Validate(context.Background(), []byte(`{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765918"}]}`))
	require.NoError(t, err)
	assert.False(t, out.HasErrors())
	assert.Contains(t, findings(out, conformance.SeverityWarning), "nhs-number-invalid")
	for _, is := range out.Issues {
		if is.MessageID == "nhs-number-invalid" {
			assert.Contains(t, is.Message, "9434765918")
			assert.Contains(t, is.Message, "NHS Number")
		}
	}
	_, err = New(Options{Resolve: set.ResolveJSON, NHSNumberSeverity: "loud"})
	assert.Error(t, err)
}

func TestValidNHSNumber(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"9434765919", true}, {"9434765918", false}, {"943476591", false}, {"94347659190", false}, {"943476591X", false}, {"0000000000", true}, {"1000000001", true}, {"1000000002", false},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, ValidNHSNumber(tc.in), tc.in)
	}
}

func TestUnknownProfiles(t *testing.T) {
	v := newCoreValidator(t)
	patient := []byte(`{"resourceType":"Patient","meta":{"profile":["http://example.org/fhir/StructureDefinition/nope"]}}`)
	out, err := v.Validate(context.Background(), patient)
	require.NoError(t, err)
	assert.False(t, out.HasErrors(), "an unresolvable meta.profile is a warning")
	assert.Contains(t, findings(out, conformance.SeverityWarning), "profile-unknown")
	out, err = v.Validate(context.Background(), patient, "http://example.org/fhir/StructureDefinition/also-nope")
	require.NoError(t, err)
	assert.True(t, out.HasErrors(), "an unresolvable requested profile is an error")
}

func TestCancelledContext(t *testing.T) {
	v := newCoreValidator(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := v.Validate(ctx, []byte(`{"resourceType":"Patient"}`))
	assert.ErrorIs(t, err, context.Canceled)
}

func TestOperationOutcome(t *testing.T) {
	out := conformance.Outcome{Source: "a.json", Issues: []conformance.Issue{{Severity: conformance.SeverityError, Code: "structure", Expression: "Patient.x", Message: "m", MessageID: "unknown-element", Line: 2, Column: 3}}}
	oo := OperationOutcome(out)
	assert.Equal(t, "OperationOutcome", oo["resourceType"])
	issue := oo["issue"].([]any)[0].(map[string]any)
	assert.Equal(t, []any{"Patient.x"}, issue["expression"])
	assert.Len(t, issue["extension"], 3)
	b := OutcomeBundle([]conformance.Outcome{out, {Source: "b.json"}})
	assert.Len(t, b["entry"], 2)
}

func FuzzValidate(f *testing.F) {
	v := newCoreValidator(f)
	for _, s := range []string{
		`{"resourceType":"Patient","name":[{"family":"x"}]}`,
		`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient"}}]}`,
		`{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1"}]},"valueQuantity":{"value":1}}`,
		`{"resourceType":"Patient","contained":[{"resourceType":"Patient","id":"a"}],"link":[{"other":{"reference":"#a"},"type":"seealso"}]}`,
		`{"resourceType":"Bundle","type":"document","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Composition","subject":{"reference":"Patient/1/_history/2"},"section":[{"entry":[{"reference":"urn:uuid:2"}],"section":[{}]}]}},{"fullUrl":"urn:uuid:2","resource":{"resourceType":"Patient","id":"1"}}]}`,
		`{"resourceType":"Bundle","type":"searchset","link":[{"relation":"self","url":"?_type=Patient,"}],"entry":[{"search":{"mode":"match"},"resource":{"resourceType":"Patient"}}]}`,
		`{"resourceType":"Parameters","parameter":[{"name":"a","part":[{"name":"b","resource":{"resourceType":"Observation","subject":{"reference":"Patient/1"}}}]}]}`,
		`{"resourceType":"StructureDefinition","type":"Patient","baseDefinition":"http://hl7.org/fhir/StructureDefinition/Patient","derivation":"constraint","differential":{"element":[{"path":"Patient.name","slicing":{"discriminator":[{"type":"value","path":"x.y"}]},"type":[{"code":"HumanName","profile":["http://hl7.org/fhir/StructureDefinition/Count"]}],"fixedString":"a"}]}}`,
		`{"resourceType":"ValueSet","compose":{"include":[{"system":"http://hl7.org/fhir/administrative-gender","filter":[{"property":"notSelectable","op":"in","value":"true,,x"}]}]}}`,
		`{"resourceType":"MeasureReport","measure":"http://example.org/m","group":[{"stratifier":[{"code":[{}]}]}]}`,
		`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://snomed.info/sct","code":"276885007"},{"system":"http://loinc.org","code":"85354-9"}]},"component":[{"code":{"text":"x"},"valueQuantity":{"value":1,"code":"L/min"}}]}}]}`,
		`{"resourceType":"Patient","identifier":[{"id":"x"},{"\u0069d":"x"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := v.Validate(context.Background(), data)
		if err != nil {
			t.Fatalf("validation could not complete: %v", err)
		}
		for _, is := range out.Issues {
			if is.Message == "" || is.Severity == "" {
				t.Fatalf("issue without message or severity: %+v", is)
			}
		}
	})
}

func TestCircularProfileDerivation(t *testing.T) {
	set := loadCore(t)
	a := map[string]any{"resourceType": "StructureDefinition", "url": "http://example.org/a", "name": "A", "type": "Patient", "kind": "resource", "derivation": "constraint",
		"baseDefinition": "http://example.org/b", "differential": map[string]any{"element": []any{map[string]any{"id": "Patient", "path": "Patient"}}}}
	b := map[string]any{"resourceType": "StructureDefinition", "url": "http://example.org/b", "name": "B", "type": "Patient", "kind": "resource", "derivation": "constraint",
		"baseDefinition": "http://example.org/a", "differential": map[string]any{"element": []any{map[string]any{"id": "Patient", "path": "Patient"}}}}
	resolve := func(c string) (map[string]any, bool) {
		switch c {
		case "http://example.org/a":
			return a, true
		case "http://example.org/b":
			return b, true
		}
		return set.ResolveJSON(c)
	}
	gen := &snapshot.Generator{Resolve: resolve}
	v, err := New(Options{Resolve: resolve, Snapshot: func(sd map[string]any) (map[string]any, error) {
		full, _, err := gen.Generate(sd)
		return full, err
	}})
	require.NoError(t, err)
	done := make(chan conformance.Outcome, 1)
	go func() {
		out, err := v.Validate(context.Background(), []byte(`{"resourceType":"Patient"}`), "http://example.org/a")
		assert.NoError(t, err)
		done <- out
	}()
	select {
	case out := <-done:
		assert.True(t, out.HasErrors())
		assert.Contains(t, findings(out, conformance.SeverityError), "profile-unusable")
	case <-time.After(30 * time.Second):
		t.Fatal("circular profile derivation did not finish")
	}
}

func TestValueSetFilterValues(t *testing.T) {
	set := loadCore(t)
	const system = "http://example.org/fhir/CodeSystem/filtered"
	cs := map[string]any{"resourceType": "CodeSystem", "url": system, "status": "active", "content": "complete",
		"property": []any{map[string]any{"code": "kind", "type": "code"}, map[string]any{"code": "flag", "type": "boolean"}},
		"concept":  []any{map[string]any{"code": "a"}, map[string]any{"code": "b"}}}
	resolve := func(url string) (map[string]any, bool) {
		if url == system {
			return cs, true
		}
		return set.ResolveJSON(url)
	}
	v, err := New(Options{Resolve: resolve})
	require.NoError(t, err)
	tests := []struct {
		name     string
		property string
		op       string
		value    string
		want     bool
	}{
		{name: "known code", property: "kind", op: "=", value: "a"},
		{name: "unknown code", property: "kind", op: "=", value: "z", want: true},
		{name: "unknown code in a list", property: "kind", op: "in", value: "a,z", want: true},
		{name: "boolean", property: "flag", op: "=", value: "true"},
		{name: "not a boolean", property: "flag", op: "=", value: "1", want: true},
		{name: "undeclared property", property: "other", op: "=", value: "z"},
		{name: "standard boolean property", property: "notSelectable", op: "=", value: "1", want: true},
		{name: "hierarchy filter", property: "kind", op: "is-a", value: "z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vs := `{"resourceType":"ValueSet","url":"http://example.org/fhir/ValueSet/f","status":"active","compose":{"include":[{"system":"` + system +
				`","filter":[{"property":"` + tc.property + `","op":"` + tc.op + `","value":"` + tc.value + `"}]}]}}`
			out, err := v.Validate(context.Background(), []byte(vs))
			require.NoError(t, err)
			assert.Equal(t, tc.want, contains(findings(out, conformance.SeverityError), "valueset-filter-value"), "issues: %+v", out.Issues)
		})
	}
}

func TestDiscriminatorPaths(t *testing.T) {
	v := newCoreValidator(t)
	tests := []struct {
		name, path, discriminator string
		want                      bool
	}{
		{name: "extension by url", path: "AuditEvent.agent.extension", discriminator: "url"},
		{name: "extension by a child it lacks", path: "AuditEvent.agent.extension", discriminator: "type", want: true},
		{name: "backbone element by its child", path: "AuditEvent.agent", discriminator: "type"},
		{name: "backbone element by a child it lacks", path: "AuditEvent.agent", discriminator: "colour", want: true},
		{name: "choice element", path: "AuditEvent.entity.detail", discriminator: "value"},
		{name: "data type element", path: "AuditEvent.agent.role", discriminator: "coding.code"},
		{name: "this", path: "AuditEvent.agent.role", discriminator: "$this"},
		{name: "function", path: "AuditEvent.agent.who", discriminator: "resolve()"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sd := `{"resourceType":"StructureDefinition","url":"http://example.org/fhir/StructureDefinition/ae","name":"AE","status":"draft","kind":"resource","abstract":false,"type":"AuditEvent",` +
				`"baseDefinition":"http://hl7.org/fhir/StructureDefinition/AuditEvent","derivation":"constraint","differential":{"element":[{"id":"` + tc.path + `","path":"` + tc.path +
				`","slicing":{"discriminator":[{"type":"value","path":"` + tc.discriminator + `"}],"rules":"open"}}]}}`
			out, err := v.Validate(context.Background(), []byte(sd))
			require.NoError(t, err)
			assert.Equal(t, tc.want, contains(findings(out, conformance.SeverityError), "discriminator-path-invalid"), "issues: %+v", out.Issues)
		})
	}
}

func TestInheritedFixedValues(t *testing.T) {
	v := newCoreValidator(t)
	const base = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
	tests := []struct {
		name, url string
		want      bool
	}{
		{name: "same fixed url", url: base},
		{name: "changed fixed url", url: "http://example.org/fhir/StructureDefinition/birth-place", want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sd := `{"resourceType":"StructureDefinition","url":"http://example.org/fhir/StructureDefinition/birth-place","name":"BirthPlace","status":"draft","kind":"complex-type","abstract":false,` +
				`"context":[{"type":"element","expression":"Patient"}],"type":"Extension","baseDefinition":"` + base + `","derivation":"constraint",` +
				`"differential":{"element":[{"id":"Extension.url","path":"Extension.url","fixedUri":"` + tc.url + `"}]}}`
			out, err := v.Validate(context.Background(), []byte(sd))
			require.NoError(t, err)
			assert.Equal(t, tc.want, contains(findings(out, conformance.SeverityError), "fixed-value-changed"), "issues: %+v", out.Issues)
		})
	}
}

func TestTypeProfiles(t *testing.T) {
	v := newCoreValidator(t)
	tests := []struct {
		name, path, code, profile string
		want                      bool
	}{
		{name: "constraint on the type", path: "Observation.valueQuantity", code: "Quantity", profile: "http://hl7.org/fhir/StructureDefinition/SimpleQuantity"},
		{name: "specialisation of a concrete type", path: "Observation.valueQuantity", code: "Quantity", profile: "http://hl7.org/fhir/StructureDefinition/Count", want: true},
		{name: "resource for Resource", path: "Observation.contained", code: "Resource", profile: "http://hl7.org/fhir/StructureDefinition/Patient"},
		{name: "other type", path: "Observation.subject", code: "Reference", profile: "http://hl7.org/fhir/StructureDefinition/Patient", want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sd := `{"resourceType":"StructureDefinition","url":"http://example.org/fhir/StructureDefinition/o","name":"O","status":"draft","kind":"resource","abstract":false,"type":"Observation",` +
				`"baseDefinition":"http://hl7.org/fhir/StructureDefinition/Observation","derivation":"constraint","differential":{"element":[{"id":"` + tc.path + `","path":"` + tc.path +
				`","type":[{"code":"` + tc.code + `","profile":["` + tc.profile + `"]}]}]}}`
			out, err := v.Validate(context.Background(), []byte(sd))
			require.NoError(t, err)
			assert.Equal(t, tc.want, contains(findings(out, conformance.SeverityError), "type-profile-wrong-type"), "issues: %+v", out.Issues)
		})
	}
}

func TestIssuesLocatedInXMLAndAtMissingElements(t *testing.T) {
	v, err := FromPackages(loadCore(t), Options{})
	require.NoError(t, err)
	ctx := context.Background()
	xmlDoc := "<Patient xmlns=\"http://hl7.org/fhir\">\n  <name>\n    <family value=\"Smith\"/>\n  </name>\n  <gender value=\"woman\"/>\n</Patient>"
	out, err := v.Validate(ctx, []byte(xmlDoc))
	require.NoError(t, err)
	found := false
	for _, is := range out.Issues {
		if is.MessageID == "binding-required" {
			found = true
			assert.Equal(t, []int{5, 3}, []int{is.Line, is.Column}, "the <gender> element")
		}
	}
	assert.True(t, found, "%v", out.Issues)

	out, err = v.Validate(ctx, []byte("{\n  \"resourceType\": \"Observation\",\n  \"code\": {\"text\": \"x\"}\n}"))
	require.NoError(t, err)
	found = false
	for _, is := range out.Issues {
		if is.MessageID == "cardinality-min" {
			found = true
			assert.Equal(t, []int{1, 1}, []int{is.Line, is.Column}, "a missing status is placed at the resource: %+v", is)
		}
	}
	assert.True(t, found, "%v", out.Issues)
}

func TestBundleFullUrlMatchesResource(t *testing.T) {
	v := newCoreValidator(t)
	bundle := func(fullURL string) []byte {
		return []byte(`{"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "` + fullURL + `", "resource": {"resourceType": "Patient", "id": "p1"}}]}`)
	}
	for _, tc := range []struct {
		fullURL  string
		mismatch bool
	}{
		{"http://example.org/fhir/Patient/p1", false},
		{"https://example.org/fhir/Patient/p1/_history/3", false},
		{"http://example.org/fhir/Patient/p2", true},
		{"http://example.org/fhir/Observation/p1", true},
		{"urn:uuid:9d0c6f1e-4a36-4b4c-8d8e-1f2a3b4c5d6e", false},
		{"http://example.org/things/Thing/p2", false},
	} {
		out, err := v.Validate(context.Background(), bundle(tc.fullURL))
		require.NoError(t, err)
		found := false
		for _, is := range out.Issues {
			found = found || is.MessageID == "bundle-fullurl-mismatch"
		}
		assert.Equal(t, tc.mismatch, found, "%s: %v", tc.fullURL, out.Issues)
	}
}
