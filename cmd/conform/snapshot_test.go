package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/packages"
)

// coreCache returns a new FHIR package cache holding hl7.fhir.r4.core.
func coreCache(t *testing.T) string {
	t.Helper()
	p, err := packages.Open(conformancetest.Shared(t, "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz"))
	require.NoError(t, err)
	dir := t.TempDir()
	_, err = packages.Cache{Dir: dir}.Install(p, packages.InstallOptions{})
	require.NoError(t, err)
	return dir
}

func TestSnapshotCommand(t *testing.T) {
	cache := coreCache(t)
	ukcore := conformancetest.Shared(t, "fhir/sources/uk-core")
	const patient = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"
	const bodyweight = "http://hl7.org/fhir/StructureDefinition/bodyweight"
	tests := []struct {
		name   string
		args   []string
		want   conformance.ExitCode
		stdout func(t *testing.T, out string)
		stderr string
	}{
		{
			name: "generates a UK Core snapshot from its XML differential",
			args: []string{"--ig", ukcore, patient},
			want: conformance.ExitPass,
			stdout: func(t *testing.T, out string) {
				var sd map[string]any
				require.NoError(t, json.Unmarshal([]byte(out), &sd))
				assert.True(t, strings.HasPrefix(out, "{\n  \"resourceType\": \"StructureDefinition\","))
				ids := snapshotIDs(t, sd)
				assert.Contains(t, ids, "Patient.identifier:nhsNumber.system")
				assert.Contains(t, ids, "Patient.extension:birthPlace.value[x]")
			},
		},
		{
			name: "several URLs print an array",
			args: []string{"--ig", ukcore, patient, "http://hl7.org/fhir/StructureDefinition/Patient"},
			want: conformance.ExitPass,
			stdout: func(t *testing.T, out string) {
				var sds []map[string]any
				require.NoError(t, json.Unmarshal([]byte(out), &sds))
				require.Len(t, sds, 2)
				assert.Equal(t, "http://hl7.org/fhir/StructureDefinition/Patient", sds[1]["url"])
			},
		},
		{
			name: "regenerates a published snapshot",
			args: []string{"--regenerate", "-o", "text", bodyweight},
			want: conformance.ExitPass,
			stdout: func(t *testing.T, out string) {
				assert.Contains(t, out, "# "+bodyweight+"\n")
				assert.Contains(t, out, "Observation.value[x]:valueQuantity.system  1..1  uri  fixed/pattern: fixedUri=\"http://unitsofmeasure.org\"\n")
			},
		},
		{name: "unknown URL", args: []string{"https://example.org/nothing"}, want: conformance.ExitUsage, stderr: "no StructureDefinition https://example.org/nothing"},
		{name: "no URL", args: nil, want: conformance.ExitUsage, stderr: "no StructureDefinition URL"},
		{name: "unknown output", args: []string{"-o", "yaml", patient}, want: conformance.ExitUsage, stderr: "unknown output format"},
		{name: "not a StructureDefinition", args: []string{"http://hl7.org/fhir/ValueSet/languages"}, want: conformance.ExitUsage, stderr: "not a StructureDefinition"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"snapshot", "--fhir-cache", cache}, tc.args...)
			stdout, stderr, code := runCLI(t, "", nil, args...)
			require.Equal(t, tc.want, code, "stderr: %s", stderr)
			if tc.stdout != nil {
				tc.stdout(t, stdout)
			}
			assert.Contains(t, stderr, tc.stderr)
		})
	}
}

func TestSnapshotCommandWithoutCore(t *testing.T) {
	_, stderr, code := runCLI(t, "", nil, "snapshot", "--fhir-cache", t.TempDir(), "http://hl7.org/fhir/StructureDefinition/Patient")
	assert.Equal(t, conformance.ExitIncomplete, code)
	assert.Contains(t, stderr, "hl7.fhir.r4.core")
}

func snapshotIDs(t *testing.T, sd map[string]any) []string {
	t.Helper()
	snap, ok := sd["snapshot"].(map[string]any)
	require.True(t, ok, "snapshot present")
	var ids []string
	for _, e := range snap["element"].([]any) {
		ids = append(ids, e.(map[string]any)["id"].(string))
	}
	return ids
}
