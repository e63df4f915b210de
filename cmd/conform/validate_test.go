package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/conformance/conformancetest"
)

const (
	goodPatient = `{"resourceType":"Patient","id":"p1","gender":"female"}`
	badPatient  = "{\"resourceType\":\"Patient\",\n  \"gender\":\"woman\"}"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

func TestValidateCommand(t *testing.T) {
	cache := coreCache(t)
	dir := t.TempDir()
	good := writeFile(t, dir, "good.json", goodPatient)
	bad := writeFile(t, dir, "bad.json", badPatient)
	writeFile(t, dir, "tree/sub/also-good.json", goodPatient)
	ndjson := writeFile(t, dir, "many.ndjson", goodPatient+"\n"+`{"resourceType":"Patient","gender":"x"}`+"\n")
	xmlFile := writeFile(t, dir, "p.xml", `<Patient xmlns="http://hl7.org/fhir"><id value="x"/><gender value="male"/></Patient>`)
	tests := []struct {
		name     string
		stdin    string
		args     []string
		want     conformance.ExitCode
		contains string
	}{
		{name: "valid file", args: []string{good}, want: conformance.ExitPass, contains: "PASS"},
		{name: "invalid file", args: []string{bad}, want: conformance.ExitFail, contains: "binding-required"},
		{name: "folder", args: []string{filepath.Join(dir, "tree")}, want: conformance.ExitPass, contains: "1 resources validated, 0 with errors"},
		{name: "ndjson", args: []string{ndjson}, want: conformance.ExitFail, contains: "many.ndjson:2"},
		{name: "xml", args: []string{xmlFile}, want: conformance.ExitPass, contains: "PASS"},
		{name: "stdin", stdin: badPatient, args: []string{"-"}, want: conformance.ExitFail, contains: "[2:3]"},
		{name: "unknown profile", args: []string{"--profile", "http://example.org/nope", good}, want: conformance.ExitUsage, contains: "unknown profile"},
		{name: "unknown output", args: []string{"-o", "yaml", good}, want: conformance.ExitUsage},
		{name: "no input", args: nil, want: conformance.ExitUsage},
		{name: "missing file", args: []string{filepath.Join(dir, "nope.json")}, want: conformance.ExitIncomplete},
		{name: "bad tx url", args: []string{"--tx", "ftp://x", good}, want: conformance.ExitUsage},
		{name: "NHS Number severity", args: []string{"--nhs-number-severity", "loud", good}, want: conformance.ExitUsage},
		{name: "unknown level", args: []string{"--level", "hint", good}, want: conformance.ExitUsage, contains: "unknown --level"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"validate", "--fhir-cache", cache}, tc.args...)
			stdout, stderr, code := runCLI(t, tc.stdin, nil, args...)
			assert.Equal(t, tc.want, code, "stdout: %s\nstderr: %s", stdout, stderr)
			assert.Contains(t, stdout+stderr, tc.contains)
		})
	}
}

func TestValidateOutputs(t *testing.T) {
	cache := coreCache(t)
	dir := t.TempDir()
	good := writeFile(t, dir, "good.json", goodPatient)
	bad := writeFile(t, dir, "bad.json", badPatient)

	stdout, _, code := runCLI(t, "", nil, "validate", "--fhir-cache", cache, "-o", "operationoutcome", bad)
	assert.Equal(t, conformance.ExitFail, code)
	var oo map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &oo))
	assert.Equal(t, "OperationOutcome", oo["resourceType"])

	stdout, _, _ = runCLI(t, "", nil, "validate", "--fhir-cache", cache, "-o", "operationoutcome", good, bad)
	var bundle struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Resource struct {
				Extension []struct {
					URL         string `json:"url"`
					ValueString string `json:"valueString"`
				} `json:"extension"`
			} `json:"resource"`
		} `json:"entry"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &bundle))
	assert.Equal(t, "Bundle", bundle.ResourceType)
	require.Len(t, bundle.Entry, 2)
	assert.Equal(t, "http://hl7.org/fhir/StructureDefinition/operationoutcome-file", bundle.Entry[1].Resource.Extension[0].URL)
	assert.Equal(t, bad, bundle.Entry[1].Resource.Extension[0].ValueString)

	stdout, _, _ = runCLI(t, "", nil, "validate", "--fhir-cache", cache, "-o", "json", bad)
	var outcomes []conformance.Outcome
	require.NoError(t, json.Unmarshal([]byte(stdout), &outcomes))
	require.Len(t, outcomes, 1)
	assert.True(t, outcomes[0].HasErrors())

	stdout, _, _ = runCLI(t, "", nil, "validate", "--fhir-cache", cache, "-o", "junit", good, bad)
	var suite struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	require.NoError(t, xml.Unmarshal([]byte(stdout), &suite))
	assert.Equal(t, 2, suite.Tests)
	assert.Equal(t, 1, suite.Failures)
}

func TestValidateUKCorePatient(t *testing.T) {
	cache := coreCache(t)
	ukcore := conformancetest.Shared(t, "fhir/sources/uk-core")
	example := filepath.Join(ukcore, "examples", "UKCore-Patient-RichardSmith-Example.xml")
	stdout, stderr, code := runCLI(t, "", nil, "validate", "--fhir-cache", cache, "--ig", ukcore,
		"--profile", "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient", "-o", "json", example)
	var outcomes []conformance.Outcome
	require.NoError(t, json.Unmarshal([]byte(stdout), &outcomes), stderr)
	require.Len(t, outcomes, 1)
	for _, is := range outcomes[0].Issues {
		if is.Severity == conformance.SeverityError {
			assert.Equal(t, "nhs-number-invalid", is.MessageID, "%+v", is)
		}
	}
	assert.Contains(t, outcomes[0].Profiles[1], "UKCore-Patient")
	assert.NotEqual(t, conformance.ExitUsage, code)
}

// endless is an input that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestReadLimited(t *testing.T) {
	_, err := readLimited(endless{}, "huge.json", 1<<20)
	assert.ErrorContains(t, err, "huge.json: larger than the 1 MiB limit")
	data, err := readLimited(strings.NewReader(goodPatient), "small.json", 1<<20)
	require.NoError(t, err)
	assert.Equal(t, goodPatient, string(data))
}

// TestValidateWithFolderOfLooseResources loads the NHS England code systems,
// kept as loose XML files without package.json, with --ig: codes are then
// checked against them.
func TestValidateWithFolderOfLooseResources(t *testing.T) {
	cache := coreCache(t)
	nhse := conformancetest.Shared(t, "fhir/sources/nhs-england")
	outcome := func(code string) string {
		return `{"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid", "details": {"coding": [{"system": "https://fhir.nhs.uk/CodeSystem/http-error-codes", "code": "` + code + `"}]}}]}`
	}
	dir := t.TempDir()
	known := writeFile(t, dir, "known.json", outcome("REC_BAD_REQUEST"))
	unknown := writeFile(t, dir, "unknown.json", outcome("NOT_A_CODE"))

	stdout, stderr, code := runCLI(t, "", nil, "validate", "--fhir-cache", cache, known)
	assert.Equal(t, conformance.ExitPass, code, stderr)
	assert.Contains(t, stdout, "codesystem-unknown", "without the folder the code system is unknown")

	stdout, stderr, code = runCLI(t, "", nil, "validate", "--fhir-cache", cache, "--ig", nhse, known)
	assert.Equal(t, conformance.ExitPass, code, stderr)
	assert.NotContains(t, stdout, "codesystem-unknown")

	stdout, stderr, code = runCLI(t, "", nil, "validate", "--fhir-cache", cache, "--ig", nhse, unknown)
	assert.Equal(t, conformance.ExitFail, code, "stdout: %s\nstderr: %s", stdout, stderr)
	assert.Contains(t, stdout, "NOT_A_CODE")
}

func TestValidateLevel(t *testing.T) {
	cache := coreCache(t)
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.json", badPatient)
	stdout, _, code := runCLI(t, "", nil, "validate", "--fhir-cache", cache, bad)
	assert.Equal(t, conformance.ExitFail, code)
	assert.Contains(t, stdout, "warning")
	stdout, _, code = runCLI(t, "", nil, "validate", "--fhir-cache", cache, "--level", "error", bad)
	assert.Equal(t, conformance.ExitFail, code, "the exit code does not depend on --level")
	assert.Contains(t, stdout, "binding-required")
	assert.NotContains(t, stdout, "constraint-dom-6", "warnings are left out")
}
