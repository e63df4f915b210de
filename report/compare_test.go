package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/runner"
)

// withStatuses returns a copy of rec started at day d with the given
// criterion statuses.
func withStatuses(t *testing.T, rec *Record, day int, statuses map[string]conformance.Status) *Record {
	t.Helper()
	data, err := json.Marshal(rec)
	require.NoError(t, err)
	var out Record
	require.NoError(t, json.Unmarshal(data, &out))
	out.Started = time.Date(2026, 6, day, 10, 0, 0, 0, time.UTC)
	for i := range out.Criteria {
		if s, ok := statuses[out.Criteria[i].ID]; ok {
			out.Criteria[i].Status = s
			out.Criteria[i].Waiver = nil
		}
	}
	return &out
}

func TestCompare(t *testing.T) {
	base, err := fixtureRecord()
	require.NoError(t, err)
	a := withStatuses(t, base, 1, map[string]conformance.Status{"ADM-01": "fail", "ADM-02": "pass", "DIS-01": "error", "DIS-02": "pass"})
	b := withStatuses(t, base, 2, map[string]conformance.Status{"ADM-01": "pass", "ADM-02": "fail", "DIS-01": "pass", "DIS-02": "pass"})
	c, err := Compare("a", a, "b", b)
	require.NoError(t, err)
	ids := func(cs []Change) []string {
		var out []string
		for _, ch := range cs {
			out = append(out, ch.Criterion)
		}
		return out
	}
	assert.Equal(t, []string{"ADM-01", "ADM-02", "DIS-01"}, ids(c.Changed))
	assert.Equal(t, []string{"ADM-02"}, ids(c.NewFailures))
	assert.Equal(t, []string{"ADM-01", "DIS-01"}, ids(c.Fixed))
	assert.Empty(t, c.Notes)

	b.Packs[0].Version = "1.1.0"
	b.Criteria = b.Criteria[:3]
	c, err = Compare("a", a, "b", b)
	require.NoError(t, err)
	assert.Equal(t, []string{"pack admission: version 1.0.0 in A, 1.1.0 in B", "criterion DIS-02 was not judged in B"}, c.Notes)

	b.Packs = b.Packs[:1]
	_, err = Compare("a", a, "b", b)
	var mismatch *PackMismatchError
	require.ErrorAs(t, err, &mismatch)
	assert.Contains(t, err.Error(), "admission, discharge against admission")
}

func TestHistories(t *testing.T) {
	base, err := fixtureRecord()
	require.NoError(t, err)
	runs := []SourcedRecord{
		{Source: "d5", Record: withStatuses(t, base, 5, map[string]conformance.Status{"ADM-01": "fail", "ADM-02": "fail", "DIS-02": "pass"})},
		{Source: "d1", Record: withStatuses(t, base, 1, map[string]conformance.Status{"ADM-01": "fail", "ADM-02": "pass", "DIS-02": "pass"})},
		{Source: "d3", Record: withStatuses(t, base, 3, map[string]conformance.Status{"ADM-01": "pass", "ADM-02": "fail", "DIS-02": "pass"})},
		{Source: "d4", Record: withStatuses(t, base, 4, map[string]conformance.Status{"ADM-01": "fail", "ADM-02": "error", "DIS-02": "pass"})},
	}
	other := withStatuses(t, base, 2, nil)
	other.Target = "https://other.example.org/fhir"
	runs = append(runs, SourcedRecord{Source: "other", Record: other})
	hs := Histories(runs)
	require.Len(t, hs, 2)
	h := hs[0]
	assert.Equal(t, "https://ehr.example.org/fhir", h.Target)
	require.Len(t, h.Runs, 4)
	assert.Equal(t, "d1", h.Runs[0].Source, "oldest first")
	byID := map[string]CriterionHistory{}
	for _, c := range h.Criteria {
		byID[c.ID] = c
	}
	tests := []struct {
		id          string
		current     conformance.Status
		firstFailed string
		streakFrom  string
		runs, days  int
	}{
		{id: "ADM-01", current: "fail", firstFailed: "d1", streakFrom: "d4", runs: 2, days: 2},
		{id: "ADM-02", current: "fail", firstFailed: "d3", streakFrom: "d3", runs: 2, days: 3},
		{id: "DIS-02", current: "pass"},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			c := byID[tc.id]
			assert.Equal(t, tc.current, c.Current)
			if tc.firstFailed == "" {
				assert.Nil(t, c.FirstFailed)
				assert.Nil(t, c.StreakStart)
			} else {
				require.NotNil(t, c.FirstFailed)
				assert.Equal(t, tc.firstFailed, c.FirstFailed.Source)
				require.NotNil(t, c.StreakStart)
				assert.Equal(t, tc.streakFrom, c.StreakStart.Source)
			}
			assert.Equal(t, tc.runs, c.StreakRuns)
			assert.Equal(t, tc.days, c.StreakDays)
		})
	}
}

func TestReadRecordAndFindRecords(t *testing.T) {
	rec, err := fixtureRecord()
	require.NoError(t, err)
	dir := t.TempDir()
	res, err := WriteBundle(filepath.Join(dir, "runs", "one"), rec, BundleOptions{Zip: true})
	require.NoError(t, err)
	assert.FileExists(t, res.Zip)
	for _, p := range []string{res.Dir, res.Zip, filepath.Join(res.Dir, RecordFile)} {
		got, err := ReadRecord(p)
		require.NoError(t, err, p)
		assert.Equal(t, rec.Criteria, got.Criteria)
	}
	found, err := FindRecords([]string{filepath.Join(dir, "runs")})
	require.NoError(t, err)
	assert.Len(t, found, 1, "the zip beside its folder is the same run")
	_, err = WriteBundle(res.Dir, rec, BundleOptions{})
	assert.ErrorContains(t, err, "not empty")

	bad := filepath.Join(dir, "bad.json")
	for _, content := range []string{"", "{", `{"schemaVersion":"1.0"}`, `{"schemaVersion":"9"}`, `[]`} {
		require.NoError(t, os.WriteFile(bad, []byte(content), 0o644))
		_, err := ReadRecord(bad)
		assert.Error(t, err, content)
	}
	_, err = ReadRecord(filepath.Join(dir, "none"))
	assert.ErrorContains(t, err, "none")
}

func TestParseWaivers(t *testing.T) {
	tests := []struct {
		name, data, wantErr string
		want                int
	}{
		{name: "valid", data: `{"waivers":[{"criterion":"ADM-01","reason":"agreed","by":"lead","expires":"2026-12-31"}]}`, want: 1},
		{name: "empty list", data: `{"waivers":[]}`, want: 0},
		{name: "missing reason", data: `{"waivers":[{"criterion":"ADM-01","by":"lead","expires":"2026-12-31"}]}`, wantErr: "reason"},
		{name: "unknown field", data: `{"waivers":[{"criterion":"ADM-01","reason":"r","by":"b","expires":"2026-12-31","until":"x"}]}`, wantErr: "until"},
		{name: "not a date", data: `{"waivers":[{"criterion":"ADM-01","reason":"r","by":"b","expires":"2026-13-01"}]}`, wantErr: "2026-13-01"},
		{name: "twice", data: `{"waivers":[{"criterion":"A-1","reason":"r","by":"b","expires":"2026-01-01"},{"criterion":"A-1","reason":"r","by":"b","expires":"2026-01-01"}]}`, wantErr: "twice"},
		{name: "a line break in the reason", data: `{"waivers":[{"criterion":"A-1","reason":"ok\noverall: PASS","by":"b","expires":"2026-01-01"}]}`, wantErr: "reason"},
		{name: "a criterion id with spaces", data: `{"waivers":[{"criterion":"A 1","reason":"r","by":"b","expires":"2026-01-01"}]}`, wantErr: "criterion"},
		{name: "not JSON", data: `waivers:`, wantErr: "waivers file"},
		{name: "an array", data: `[]`, wantErr: "waivers file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ws, err := ParseWaivers([]byte(tc.data))
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Len(t, ws, tc.want)
		})
	}
}

func FuzzParseWaivers(f *testing.F) {
	f.Add([]byte(`{"waivers":[{"criterion":"ADM-01","reason":"agreed","by":"lead","expires":"2026-12-31"}]}`))
	f.Add([]byte(`{"waivers":[{"criterion":"","reason":"","by":"","expires":"0000-00-00"}]}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ws, err := ParseWaivers(data)
		if err != nil {
			return
		}
		for _, w := range ws {
			if _, err := w.Expired(time.Now()); err != nil {
				t.Fatalf("accepted waiver with a bad date: %v", err)
			}
		}
	})
}

func FuzzParseRecord(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "golden", "record.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add([]byte(`{"schemaVersion":"1.0"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := ParseRecord(data)
		if err != nil {
			return
		}
		for _, f := range Formats() {
			if _, err := Render(f.Name, rec, Options{}, nil); err != nil {
				t.Fatalf("a record matching its schema does not render as %s: %v", f.Name, err)
			}
		}
	})
}

func TestCompareFeatureRunsByScenario(t *testing.T) {
	run := fixtureSuite().Record
	a, err := Build(Input{ToolVersion: "dev", Run: run})
	require.NoError(t, err)
	b, err := Build(Input{ToolVersion: "dev", Run: run})
	require.NoError(t, err)
	b.Scenarios = append([]runner.Scenario{}, b.Scenarios...)
	b.Scenarios[3].Status = conformance.StatusFail
	b.Scenarios[0].Status = conformance.StatusPass
	c, err := Compare("a", a, "b", b)
	require.NoError(t, err)
	require.Len(t, c.Scenarios, 2)
	assert.Equal(t, ScenarioChange{URI: "admission/admission.feature", Line: 10, Name: "Creating a Patient", Before: "fail", After: "pass"}, c.Scenarios[0])
	assert.Equal(t, conformance.StatusFail, c.Scenarios[1].After)
	assert.True(t, c.NewlyFailing())
	assert.Contains(t, c.Notes, "neither run judged acceptance criteria: scenarios compared")

	c, err = Compare("a", a, "a", a)
	require.NoError(t, err)
	assert.Empty(t, c.Scenarios)
	assert.False(t, c.NewlyFailing())
}
