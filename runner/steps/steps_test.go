package steps

import (
	"context"
	"errors"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cucumber/godog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/profiles/validate"
	"github.com/nhsconform/conform/runner/fhirclient"
)

var update = flag.Bool("update", false, "rewrite docs/STEPS.md from the step catalogue")

func TestCatalogueExamplesMatchExactlyOneStep(t *testing.T) {
	compiled := make([]*regexp.Regexp, len(catalogue))
	for i, d := range catalogue {
		compiled[i] = regexp.MustCompile(d.Pattern)
	}
	for i, d := range catalogue {
		t.Run(firstLine(d.Phrase), func(t *testing.T) {
			assert.NotEmpty(t, d.Group)
			assert.NotEmpty(t, d.Doc)
			text := keyword.ReplaceAllString(firstLine(d.Example), "")
			var matches []int
			for j, re := range compiled {
				if re.MatchString(text) {
					matches = append(matches, j)
				}
			}
			assert.Equal(t, []int{i}, matches, "example %q", text)
		})
	}
}

func TestRequiredPhrasingsExist(t *testing.T) {
	required := []string{
		`I send a GET request to "Patient/1"`,
		`I send a DELETE request to "Patient/1"`,
		`I send a POST request to "Patient" with body from "p.json"`,
		`I send a PUT request to "Patient/1" with body from "p.json"`,
		`I send a PATCH request to "Patient/1" with body from "p.json"`,
		`the response status should be 200`,
		`the response header "Location" should be present`,
		`the FHIRPath "Patient.active" should be true`,
		`the response should conform to "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"`,
		`I store the FHIRPath "Patient.id" as "id"`,
	}
	for _, text := range required {
		n := 0
		for _, d := range catalogue {
			if regexp.MustCompile(d.Pattern).MatchString(text) {
				n++
			}
		}
		assert.Equal(t, 1, n, text)
	}
}

func TestRegisterBindsEveryStep(t *testing.T) {
	var registered int
	suite := godog.TestSuite{
		ScenarioInitializer: func(sc *godog.ScenarioContext) {
			(&Env{}).NewWorld("features/a.feature").Register(sc)
			registered++
		},
		Options: &godog.Options{Format: "progress", Output: discard{}, FeatureContents: []godog.Feature{{Name: "a.feature", Contents: []byte("Feature: a\n  Scenario: b\n    Given I store \"x\" as \"y\"\n")}}, Strict: true},
	}
	assert.Equal(t, 0, suite.Run())
	assert.Equal(t, 1, registered)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestStepsDocIsGenerated(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "STEPS.md")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(Markdown()), 0o644))
	}
	data, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./runner/steps -update")
	assert.Equal(t, Markdown(), string(data), "docs/STEPS.md is stale: run go test ./runner/steps -update")
	for _, d := range catalogue {
		assert.Contains(t, Text(), firstLine(d.Phrase))
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"id": "42", "a.b": "x"}
	lookup := func(n string) (string, bool) { v, ok := vars[n]; return v, ok }
	stored := func() []string { return slices.Sorted(maps.Keys(vars)) }
	tests := []struct {
		name, in, want, wantErr string
	}{
		{name: "plain", in: "Patient/1", want: "Patient/1"},
		{name: "value", in: "Patient/{{id}}/_history", want: "Patient/42/_history"},
		{name: "spaces and dots", in: "{{ a.b }}{{id}}", want: "x42"},
		{name: "unclosed kept", in: "a {{id", want: "a {{id"},
		{name: "not a name kept", in: "{{ 1x }} {{}}", want: "{{ 1x }} {{}}"},
		{name: "never stored", in: "Patient/{{missing}}", wantErr: "{{missing}} was never stored (stored so far: a.b, id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := expand(tc.in, lookup, stored)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				var uv *UndefinedValueError
				assert.True(t, errors.As(err, &uv))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestBuiltins(t *testing.T) {
	w := (&Env{RunID: "run-1"}).NewWorld("features/x.feature:12")
	assert.Equal(t, "features", w.featureDir)
	got, err := w.expand("{{run}} {{uuid}} {{uuid}} {{nhsNumber}} {{now}}")
	require.NoError(t, err)
	parts := strings.Fields(got)
	require.Len(t, parts, 5)
	assert.Equal(t, "run-1", parts[0])
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, parts[1])
	assert.NotEqual(t, parts[1], parts[2], "uuid is fresh at each use")
	assert.True(t, validate.ValidNHSNumber(parts[3]), parts[3])
	assert.Regexp(t, `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`, parts[4])
	_, err = w.expand("{{receiver}}")
	assert.ErrorContains(t, err, "--listen")
	var ex *ExecError
	assert.ErrorAs(t, err, &ex)
}

func TestNHSNumber(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{in: "9000000009", want: true},
		{in: "9434765919", want: true},
		{in: "9434765918", want: false},
		{in: "9912003890", want: false},
		{in: "123", want: false},
		{in: "abcdefghij", want: false},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, validate.ValidNHSNumber(tc.in), tc.in)
	}
	for range 200 {
		n := NewNHSNumber()
		require.True(t, validate.ValidNHSNumber(n), n)
		require.True(t, strings.HasPrefix(n, "999"))
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct {
		text, want string
		found      bool
	}{
		{text: `Then the response code should be 200`, want: `Then the response status should be CODE`, found: true},
		{text: `When I send a GETT request to "Patient"`, want: `When I send a GET request to "PATH"`, found: true},
		{text: `Then the FHIRpath "a" should be truthy`, want: `Then the FHIRPath "EXPRESSION" should be true`, found: true},
		{text: `Given the moon is made of cheese and nothing else at all`, found: false},
	}
	for _, tc := range tests {
		d, ok := Suggest(tc.text)
		assert.Equal(t, tc.found, ok, tc.text)
		if tc.found {
			assert.Equal(t, tc.want, firstLine(d.Phrase), tc.text)
		}
	}
}

func FuzzExpand(f *testing.F) {
	f.Add("Patient/{{id}}")
	f.Add("{{ {{x}} }}")
	f.Add("{{")
	f.Fuzz(func(t *testing.T, s string) {
		lookup := func(n string) (string, bool) { return "v", n == "id" }
		out, err := expand(s, lookup, func() []string { return nil })
		if err == nil && strings.Contains(s, "{{id}}") && strings.Contains(out, "{{id}}") {
			t.Fatalf("{{id}} left in %q", out)
		}
	})
}

func TestHeaderValueWithLineBreakIsNotSent(t *testing.T) {
	client, err := fhirclient.New(fhirclient.Options{BaseURL: "http://127.0.0.1:1"})
	require.NoError(t, err)
	w := (&Env{Client: client}).NewWorld("a.feature")
	w.vars["x"] = "a\r\nInjected: yes"
	w.header.Set("X-A", "{{x}}")
	err = w.send(context.Background(), "GET", "Patient", nil, nil)
	var ex *ExecError
	require.ErrorAs(t, err, &ex)
	assert.Contains(t, err.Error(), "line break")
	assert.Empty(t, w.TakeEvidence().Exchanges, "nothing was sent")
}

func TestSplitFeatureLine(t *testing.T) {
	tests := []struct {
		name, uri, file, line string
	}{
		{name: "with a line", uri: "admission/adm.feature:12", file: "admission/adm.feature", line: "12"},
		{name: "no line", uri: "admission/adm.feature", file: "admission/adm.feature"},
		{name: "not digits", uri: "x.feature:12a", file: "x.feature:12a"},
		{name: "empty line", uri: "x.feature:", file: "x.feature:"},
		{name: "only a line", uri: ":12", file: ":12"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file, line := SplitFeatureLine(tc.uri)
			assert.Equal(t, tc.file, file)
			assert.Equal(t, tc.line, line)
		})
	}
}
