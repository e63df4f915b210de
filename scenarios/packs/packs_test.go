package packs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
)

const goodManifest = `{
  "id": "demo",
  "version": "1.0.0",
  "title": "Demo pack",
  "ukCore": "fhir.r4.ukcore.stu2#2.0.2",
  "criteria": [
    {"id": "DEM-01", "level": "MUST", "text": "The server answers metadata.", "source": "FHIR R4 capabilities"},
    {"id": "DEM-02", "level": "SHOULD", "text": "The server keeps patients.", "source": "FHIR R4 create"}
  ]
}
`

const goodFeature = `Feature: Demo

  @DEM-01 @MUST
  Scenario: Metadata
    When I send a GET request to "metadata"
    Then the response status should be 200

  @DEM-02 @SHOULD @requires:Patient.create
  Scenario Outline: Patient <n>
    When I send a POST request to "Patient" with body from "fixtures/patient.json"
    Then the response status should be 201

    Examples:
      | n |
      | 1 |
      | 2 |
`

const goodFixture = `{"resourceType": "Patient", "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "{{nhs}}"}]}`

func packFS(overrides map[string]string) fstest.MapFS {
	files := map[string]string{
		"demo/pack.json":             goodManifest,
		"demo/demo.feature":          goodFeature,
		"demo/fixtures/patient.json": goodFixture,
	}
	for k, v := range overrides {
		if v == "" {
			delete(files, k)
			continue
		}
		files[k] = v
	}
	out := fstest.MapFS{}
	for k, v := range files {
		out[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return out
}

func TestLoadGoodPack(t *testing.T) {
	ps, err := Load(packFS(nil))
	require.NoError(t, err)
	require.Len(t, ps, 1)
	p := ps[0]
	assert.Equal(t, "demo", p.ID)
	assert.Equal(t, "fhir.r4.ukcore.stu2#2.0.2", p.UKCore)
	assert.Equal(t, []string{"demo.feature"}, p.Features)
	assert.Equal(t, []string{"fixtures/patient.json"}, p.Fixtures)
	require.Len(t, p.Scenarios, 3)
	assert.Equal(t, Scenario{Name: "Metadata", URI: "demo.feature", Line: 4, Criteria: []string{"DEM-01"}}, p.Scenarios[0])
	assert.Equal(t, "Patient 1", p.Scenarios[1].Name)
	assert.Equal(t, 15, p.Scenarios[1].Line)
	assert.Equal(t, []Requirement{"Patient.create"}, p.Scenarios[2].Requires)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, p.Hash)
	c, ok := p.Criterion("DEM-02")
	assert.True(t, ok)
	assert.Equal(t, conformance.LevelShould, c.Level)
}

func TestHashFollowsContent(t *testing.T) {
	a, err := Load(packFS(nil))
	require.NoError(t, err)
	b, err := Load(packFS(nil))
	require.NoError(t, err)
	assert.Equal(t, a[0].Hash, b[0].Hash)
	c, err := Load(packFS(map[string]string{"demo/fixtures/patient.json": goodFixture + "\n"}))
	require.NoError(t, err)
	assert.NotEqual(t, a[0].Hash, c[0].Hash)
}

func TestLoadRefusesBadPacks(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		file  string
		line  int
		msg   string
	}{
		{
			name:  "manifest fails its schema",
			files: map[string]string{"demo/pack.json": `{"id": "demo", "version": "1.0.0", "title": "Demo pack", "ukCore": "fhir.r4.ukcore.stu2#2.0.2",` + "\n" + `"criteria": [{"id": "DEM-01", "level": "MUSTN'T", "text": "The server answers.", "source": "FHIR"}]}`},
			file:  "demo/pack.json", line: 2, msg: "/criteria/0/level",
		},
		{
			name:  "manifest without criteria",
			files: map[string]string{"demo/pack.json": `{"id": "demo", "version": "1.0.0", "title": "Demo pack", "ukCore": "x#1"}`},
			file:  "demo/pack.json", line: 1, msg: "criteria",
		},
		{
			name:  "manifest that is not JSON",
			files: map[string]string{"demo/pack.json": "{\n\"id\": \"demo\",\n}"},
			file:  "demo/pack.json", line: 3, msg: "not valid JSON",
		},
		{
			name:  "pack id differs from folder",
			files: map[string]string{"demo/pack.json": replace(goodManifest, `"id": "demo"`, `"id": "other"`)},
			file:  "demo/pack.json", line: 2, msg: "does not match its folder",
		},
		{
			name:  "criterion defined twice",
			files: map[string]string{"demo/pack.json": replace(goodManifest, `"DEM-02"`, `"DEM-01"`)},
			file:  "demo/pack.json", line: 7, msg: "defined twice",
		},
		{
			name:  "scenario tagged with an unknown criterion",
			files: map[string]string{"demo/demo.feature": replace(goodFeature, "@DEM-01 @MUST", "@DEM-01 @DEM-09 @MUST")},
			file:  "demo/demo.feature", line: 4, msg: "unknown criterion @DEM-09",
		},
		{
			name:  "scenario without a criterion",
			files: map[string]string{"demo/demo.feature": replace(goodFeature, "@DEM-01 @MUST", "@MUST")},
			file:  "demo/demo.feature", line: 4, msg: "no acceptance criterion",
		},
		{
			name:  "scenario without a level",
			files: map[string]string{"demo/demo.feature": replace(goodFeature, "@DEM-01 @MUST", "@DEM-01")},
			file:  "demo/demo.feature", line: 4, msg: "exactly one level tag",
		},
		{
			name:  "scenario level differs from its criterion",
			files: map[string]string{"demo/demo.feature": replace(goodFeature, "@DEM-01 @MUST", "@DEM-01 @MAY")},
			file:  "demo/demo.feature", line: 4, msg: "criterion DEM-01 is MUST",
		},
		{
			name:  "criterion with no scenario",
			files: map[string]string{"demo/demo.feature": replace(goodFeature, "@DEM-02 @SHOULD", "@DEM-01 @MUST")},
			file:  "demo/pack.json", line: 8, msg: "DEM-02 has no scenario",
		},
		{
			name:  "malformed requirement tag",
			files: map[string]string{"demo/demo.feature": replace(goodFeature, "@requires:Patient.create", "@requires:Patent.create")},
			file:  "demo/demo.feature", line: 15, msg: "not a FHIR R4 resource type",
		},
		{
			name:  "feature that is not Gherkin",
			files: map[string]string{"demo/demo.feature": "Feature: x\n  Scenario: y\n    Given a\n    Then b\nFeature: z\n"},
			file:  "demo/demo.feature", line: 5, msg: "not valid Gherkin",
		},
		{
			name:  "step naming a missing fixture",
			files: map[string]string{"demo/demo.feature": replace(goodFeature, "fixtures/patient.json", "fixtures/missing.json")},
			file:  "demo/demo.feature", line: 10, msg: "fixtures/missing.json",
		},
		{
			name:  "fixture that is not JSON",
			files: map[string]string{"demo/fixtures/patient.json": "{\n  \"resourceType\": \"Patient\",\n  \"id\": x\n}"},
			file:  "demo/fixtures/patient.json", line: 3, msg: "not valid JSON",
		},
		{
			name:  "fixture with duplicate keys",
			files: map[string]string{"demo/fixtures/patient.json": "{\n  \"resourceType\": \"Patient\",\n  \"resourceType\": \"Patient\"\n}"},
			file:  "demo/fixtures/patient.json", line: 3, msg: "not valid JSON",
		},
		{
			name:  "fixture that is not a FHIR resource",
			files: map[string]string{"demo/fixtures/patient.json": "{\n  \"resourceType\": \"Patience\"\n}"},
			file:  "demo/fixtures/patient.json", line: 2, msg: "not a FHIR R4 resource type",
		},
		{
			name:  "fixture with a Bundle entry that is not a resource",
			files: map[string]string{"demo/fixtures/patient.json": "{\"resourceType\": \"Bundle\",\n \"type\": \"collection\",\n \"entry\": [{\"resource\":\n  {\"id\": \"x\"}}]}"},
			file:  "demo/fixtures/patient.json", line: 3, msg: "no resourceType",
		},
		{
			name:  "stray file",
			files: map[string]string{"demo/notes.txt": "hello"},
			file:  "demo/notes.txt", msg: "not a pack file",
		},
		{
			name:  "pack without features",
			files: map[string]string{"demo/demo.feature": ""},
			file:  "demo", msg: "no .feature file",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(packFS(tc.files))
			require.Error(t, err)
			var le *LoadError
			require.True(t, errors.As(err, &le), "%v", err)
			assert.Equal(t, tc.file, le.File)
			assert.Equal(t, tc.line, le.Line, le.Error())
			assert.Contains(t, le.Error(), tc.msg)
		})
	}
}

func TestLoadRefusesCriteriaSharedByPacks(t *testing.T) {
	fsys := packFS(nil)
	for _, f := range []string{"pack.json", "demo.feature", "fixtures/patient.json"} {
		data := fsys["demo/"+f].Data
		if f == "pack.json" {
			data = []byte(replace(string(data), `"id": "demo"`, `"id": "other"`))
		}
		fsys["other/"+f] = &fstest.MapFile{Data: data}
	}
	_, err := Load(fsys)
	assert.ErrorContains(t, err, "criterion DEM-01 is also defined by pack demo")
	_, err = Load(fstest.MapFS{"x/readme.md": &fstest.MapFile{Data: []byte("x")}})
	assert.ErrorIs(t, err, ErrNoPacks)
}

func TestBuiltinPacks(t *testing.T) {
	ps, err := Builtin()
	require.NoError(t, err)
	ids := []string{}
	criteria, scenarios := 0, 0
	for _, p := range ps {
		ids = append(ids, p.ID)
		criteria += len(p.Criteria)
		scenarios += len(p.Scenarios)
		assert.Equal(t, "fhir.r4.ukcore.stu2#2.0.2", p.UKCore, p.ID)
		for _, c := range p.Criteria {
			assert.NotEmpty(t, c.Source, c.ID)
		}
	}
	assert.Equal(t, []string{"admission", "capability", "discharge", "referral"}, ids)
	assert.GreaterOrEqual(t, criteria, 25)
	assert.GreaterOrEqual(t, scenarios, 40)
}

func TestParseRequirement(t *testing.T) {
	for _, ok := range []string{"Encounter.update", "Patient.conditional-create", "Encounter.search.identifier", "Encounter.$validate", "system.transaction", "system.$process-message"} {
		r, err := ParseRequirement(ok)
		assert.NoError(t, err, ok)
		assert.Equal(t, Requirement(ok), r)
	}
	for _, bad := range []string{"", "Encounter", "encounter.update", "Encounter.Update", "Foo.read", "Encounter.search.", "system"} {
		_, err := ParseRequirement(bad)
		assert.Error(t, err, bad)
	}
	r := Requirement("Encounter.search.patient")
	assert.Equal(t, "Encounter", r.Type())
	assert.Equal(t, "search.patient", r.What())
}

func replace(s, old, new string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	panic("replace: " + old + " not found")
}

func FuzzManifest(f *testing.F) {
	f.Add([]byte(goodManifest))
	f.Add([]byte(`{"id": 1}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseManifest("pack.json", data)
		if err == nil && (m.ID == "" || len(m.Criteria) == 0) {
			t.Fatalf("accepted a manifest without id or criteria: %q", data)
		}
	})
}

func FuzzPack(f *testing.F) {
	f.Add([]byte(goodFeature), []byte(goodFixture))
	f.Add([]byte("Feature: x\n Scenario: y\n"), []byte(`{"resourceType": "Bundle", "entry": [{"resource": 1}]}`))
	f.Fuzz(func(t *testing.T, feature, fixture []byte) {
		fsys := packFS(nil)
		fsys["demo/demo.feature"] = &fstest.MapFile{Data: feature}
		fsys["demo/fixtures/patient.json"] = &fstest.MapFile{Data: fixture}
		ps, err := Load(fsys)
		if err == nil && len(ps[0].Scenarios) == 0 {
			t.Fatal("accepted a pack without scenarios")
		}
	})
}

// fakeValidator reports an error issue on the given line for bodies
// containing "bad", none otherwise.
type fakeValidator struct{ line int }

func (f fakeValidator) Validate(_ context.Context, body []byte, _ ...string) (conformance.Outcome, error) {
	if strings.Contains(string(body), "bad") {
		return conformance.Outcome{Issues: []conformance.Issue{{Severity: conformance.SeverityError, Code: "value", Expression: "Patient.gender", Message: "bad gender", Line: f.line}}}, nil
	}
	if strings.Contains(string(body), "{{") {
		return conformance.Outcome{}, errors.New("placeholder left unfilled")
	}
	return conformance.Outcome{}, nil
}

func TestValidateFixtures(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		file  string
		line  int
		msg   string
	}{
		{name: "valid fixtures pass"},
		{
			name:  "an invalid fixture is refused with its line",
			files: map[string]string{"demo/fixtures/patient.json": "{\"resourceType\": \"Patient\",\n \"gender\": \"bad\"}"},
			file:  "demo/fixtures/patient.json", line: 2, msg: "bad gender",
		},
		{
			name:  "a fixture named to be refused must be invalid",
			files: map[string]string{"demo/fixtures/patient-invalid.json": goodFixture},
			file:  "demo/fixtures/patient-invalid.json", msg: "valid FHIR",
		},
		{
			name:  "a fixture named to be refused that is invalid passes",
			files: map[string]string{"demo/fixtures/patient-invalid.json": `{"resourceType": "Patient", "gender": "bad"}`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := packFS(tc.files)
			ps, err := Load(fsys)
			require.NoError(t, err)
			err = ps[0].ValidateFixtures(context.Background(), fsys, fakeValidator{line: tc.line})
			if tc.msg == "" {
				assert.NoError(t, err)
				return
			}
			var le *LoadError
			require.True(t, errors.As(err, &le), "%v", err)
			assert.Equal(t, tc.file, le.File)
			assert.Equal(t, tc.line, le.Line)
			assert.Contains(t, le.Error(), tc.msg)
		})
	}
}

func TestFillPlaceholdersKeepsLines(t *testing.T) {
	in := []byte("{\"a\": \"{{uuid}}\",\n \"b\": \"{{nhs}}\",\n \"c\": \"{{now}}\"}")
	out := FillPlaceholders(in)
	assert.Equal(t, strings.Count(string(in), "\n"), strings.Count(string(out), "\n"))
	assert.NotContains(t, string(out), "{{")
	assert.Contains(t, string(out), `"9434765919"`)
	assert.Regexp(t, `"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}"`, string(out))
}
