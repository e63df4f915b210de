package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/conformance/conformancetest"
)

// sharedPackageArgs gives the packs' FHIR packages from the shared data
// with --ig, and an empty FHIR package cache.
func sharedPackageArgs(t *testing.T) []string {
	t.Helper()
	return []string{
		"--fhir-cache", t.TempDir(),
		"--ig", conformancetest.Shared(t, "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz"),
		"--ig", conformancetest.Shared(t, "fhir/packages/hl7.terminology.r4-7.0.1.tgz"),
		"--ig", conformancetest.Shared(t, "fhir/sources/uk-core-2.0.2"),
	}
}

type suiteJSON struct {
	Status    string `json:"status"`
	Reference bool   `json:"reference"`
	Packs     []struct {
		ID   string `json:"id"`
		Hash string `json:"hash"`
	} `json:"packs"`
	Criteria []struct {
		ID     string `json:"id"`
		Level  string `json:"level"`
		Status string `json:"status"`
	} `json:"criteria"`
}

func TestDemoWritesAPassingReport(t *testing.T) {
	out := filepath.Join(t.TempDir(), "demo")
	args := append([]string{"demo", "--out", out}, sharedPackageArgs(t)...)
	stdout, stderr, code := runCLI(t, "", nil, args...)
	require.Equal(t, conformance.ExitPass, code, stderr+stdout)
	assert.Contains(t, stdout, "report written to "+out+string(filepath.Separator))
	assert.Contains(t, stdout, "PASS     ADM-01")
	assert.Contains(t, stdout, "overall: PASS")
	runs, err := os.ReadDir(out)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	dir := filepath.Join(out, runs[0].Name())
	for _, f := range []string{"report.html", "report.txt", "manifest.json", "junit.xml"} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
	data, err := os.ReadFile(filepath.Join(dir, "record.json"))
	require.NoError(t, err)
	var res suiteJSON
	require.NoError(t, json.Unmarshal(data, &res))
	assert.Equal(t, "pass", res.Status)
	assert.True(t, res.Reference)
	assert.Len(t, res.Packs, 4)
	assert.GreaterOrEqual(t, len(res.Criteria), 25)
	for _, c := range res.Criteria {
		assert.Equal(t, "pass", c.Status, c.ID)
	}
	for _, p := range res.Packs {
		assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, p.Hash, p.ID)
	}
}

func TestDemoWithAFaultFailsItsCriterion(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report")
	args := append([]string{"demo", "--out", out, "--fault", "no-replay-conflict"}, sharedPackageArgs(t)...)
	stdout, stderr, code := runCLI(t, "", nil, args...)
	require.Equal(t, conformance.ExitFail, code, stderr)
	assert.Contains(t, stdout, "FAIL     REF-06")
	assert.Contains(t, stdout, "overall: FAIL")
}

func TestRunWithoutTargetRunsThePacks(t *testing.T) {
	file := filepath.Join(t.TempDir(), "run.json")
	args := append([]string{"run", "--concurrency", "4", "-o", "json=" + file}, sharedPackageArgs(t)...)
	_, stderr, code := runCLI(t, "", nil, args...)
	require.Equal(t, conformance.ExitPass, code, stderr)
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	var res suiteJSON
	require.NoError(t, json.Unmarshal(data, &res))
	assert.Equal(t, "pass", res.Status)
	require.NotEmpty(t, res.Criteria)
	assert.Equal(t, "ADM-01", res.Criteria[0].ID)
	assert.Equal(t, "MUST", res.Criteria[0].Level)
}

func TestDemoUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{name: "unknown fault", args: []string{"demo", "--fault", "no-such-fault"}, msg: "unknown fault"},
		{name: "stray argument", args: []string{"demo", "now"}, msg: "unexpected argument"},
		{name: "bad concurrency", args: []string{"demo", "--concurrency", "0"}, msg: "--concurrency"},
		{name: "no packages", args: []string{"demo", "--fhir-cache", "EMPTY"}, msg: "hl7.fhir.r4.core"},
		{name: "features without target", args: []string{"run", "--features", "x.feature"}, msg: "--target is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if len(args) == 3 && args[2] == "EMPTY" {
				args = []string{"demo", "--fhir-cache", t.TempDir(), "--out", filepath.Join(t.TempDir(), "r")}
			}
			_, stderr, code := runCLI(t, "", nil, args...)
			assert.Equal(t, conformance.ExitUsage, code)
			assert.Contains(t, stderr, tc.msg)
		})
	}
}

func TestDemoNamesTheMissingUKCorePackage(t *testing.T) {
	args := []string{"demo", "--out", filepath.Join(t.TempDir(), "r"), "--fhir-cache", t.TempDir(),
		"--ig", conformancetest.Shared(t, "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz")}
	_, stderr, code := runCLI(t, "", nil, args...)
	assert.Equal(t, conformance.ExitUsage, code)
	assert.Contains(t, stderr, "fhir.r4.ukcore.stu2#2.0.2")
	assert.Contains(t, stderr, "conform packages install")
}
