package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestGoldenFormats(t *testing.T) {
	rec, err := fixtureRecord(conformance.Waiver{Criterion: "ADM-02", Reason: "server move agreed with the trust", By: "assurance lead", Expires: "2026-06-30"})
	require.NoError(t, err)
	for _, f := range Formats() {
		t.Run(f.Name, func(t *testing.T) {
			got, err := Render(f.Name, rec, Options{}, nil)
			require.NoError(t, err)
			got = bytes.ReplaceAll(got, []byte(`"os":{"name":"`+runtime.GOOS+`"},"cpu":{"name":"`+runtime.GOARCH+`"}`), []byte(`"os":{"name":"linux"},"cpu":{"name":"amd64"}`))
			golden := filepath.Join("testdata", "golden", f.File)
			if *update {
				require.NoError(t, os.WriteFile(golden, got, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./report -run TestGoldenFormats -update")
			assert.Equal(t, string(want), string(got))
		})
	}
}

func TestRecordMatchesItsSchema(t *testing.T) {
	rec, err := fixtureRecord(conformance.Waiver{Criterion: "ADM-02", Reason: "agreed", By: "assurance", Expires: "2026-06-30"})
	require.NoError(t, err)
	data, err := json.Marshal(rec)
	require.NoError(t, err)
	require.NoError(t, ValidateRecord(data))

	tests := []struct {
		name   string
		mutate func(m map[string]any)
		want   string
	}{
		{name: "no schema version", mutate: func(m map[string]any) { delete(m, "schemaVersion") }, want: "schemaVersion"},
		{name: "unknown status", mutate: func(m map[string]any) { m["status"] = "great" }, want: "/status"},
		{name: "waived without its waiver", mutate: func(m map[string]any) {
			c := m["criteria"].([]any)[1].(map[string]any)
			delete(c, "waiver")
		}, want: "/criteria/1"},
		{name: "pack hash not sha256", mutate: func(m map[string]any) { m["packs"].([]any)[0].(map[string]any)["hash"] = "md5:00" }, want: "/packs/0/hash"},
		{name: "unexpected property", mutate: func(m map[string]any) { m["verdict"] = "pass" }, want: "verdict"},
		{name: "bad step status", mutate: func(m map[string]any) {
			m["scenarios"].([]any)[0].(map[string]any)["steps"].([]any)[0].(map[string]any)["status"] = "ok"
		}, want: "/scenarios/0/steps/0/status"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			require.NoError(t, json.Unmarshal(data, &m))
			tc.mutate(m)
			bad, err := json.Marshal(m)
			require.NoError(t, err)
			err = ValidateRecord(bad)
			var se *SchemaError
			require.ErrorAs(t, err, &se)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestBuildVerdictsAndWaivers(t *testing.T) {
	tests := []struct {
		name     string
		waivers  []conformance.Waiver
		overall  conformance.Status
		adm01    conformance.Status
		admPack  conformance.Status
		wantErr  string
		exitCode conformance.ExitCode
	}{
		{name: "no waivers", overall: conformance.StatusFail, adm01: conformance.StatusFail, admPack: conformance.StatusFail, exitCode: conformance.ExitFail},
		{name: "a waiver turns the failure into waived", waivers: []conformance.Waiver{
			{Criterion: "ADM-01", Reason: "r", By: "b", Expires: "2026-06-01"},
			{Criterion: "ADM-02", Reason: "r", By: "b", Expires: "2026-06-01"},
		}, overall: conformance.StatusPass, adm01: conformance.StatusWaived, admPack: conformance.StatusPass, exitCode: conformance.ExitPass},
		{name: "an expired waiver no longer applies", waivers: []conformance.Waiver{{Criterion: "ADM-01", Reason: "r", By: "b", Expires: "2026-05-31"}},
			overall: conformance.StatusFail, adm01: conformance.StatusFail, admPack: conformance.StatusFail, exitCode: conformance.ExitFail},
		{name: "a waiver naming an unknown criterion", waivers: []conformance.Waiver{{Criterion: "XYZ-99", Reason: "r", By: "b", Expires: "2030-01-01"}}, wantErr: "XYZ-99"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := fixtureRecord(tc.waivers...)
			if tc.wantErr != "" {
				var unknown *UnknownCriterionError
				require.ErrorAs(t, err, &unknown)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.overall, rec.Status)
			c, ok := rec.Criterion("ADM-01")
			require.True(t, ok)
			assert.Equal(t, tc.adm01, c.Status)
			if c.Status == conformance.StatusWaived {
				require.NotNil(t, c.Waiver)
				assert.Equal(t, "r", c.Waiver.Reason)
			}
			assert.Equal(t, tc.admPack, rec.Packs[0].Status)
			assert.Equal(t, tc.exitCode, rec.ExitCode())
			assert.Equal(t, 4, len(rec.Scenarios))
			assert.Equal(t, 1, rec.Summary.Scenarios[conformance.StatusFail])
		})
	}
}

func TestBuildFromFeatureRun(t *testing.T) {
	rec, err := Build(Input{ToolVersion: "dev", Run: fixtureSuite().Record})
	require.NoError(t, err)
	assert.Equal(t, conformance.StatusError, rec.Status, "an error or undefined step makes the run incomplete")
	assert.Empty(t, rec.Criteria)
	assert.Equal(t, fixedStart.Add(2e9), rec.Ended)
	var buf bytes.Buffer
	require.NoError(t, json.NewEncoder(&buf).Encode(rec))
	require.NoError(t, ValidateRecord(buf.Bytes()))
	_, err = Build(Input{})
	assert.Error(t, err)
}

func TestParseOutputs(t *testing.T) {
	outs, err := ParseOutputs(nil)
	require.NoError(t, err)
	assert.Equal(t, []Output{{Format: "text"}}, outs)
	outs, err = ParseOutputs([]string{"html=r.html", "junit=j.xml", "json"})
	require.NoError(t, err)
	assert.Equal(t, []Output{{"html", "r.html"}, {"junit", "j.xml"}, {"json", ""}}, outs)
	_, err = ParseOutputs([]string{"xml"})
	var unknown *UnknownFormatError
	require.ErrorAs(t, err, &unknown)
	assert.Contains(t, err.Error(), "cucumber, html, json, junit, ndjson, testreport, text")
	_, err = ParseOutputs([]string{"text", "json"})
	assert.ErrorContains(t, err, "only one -o")
}
