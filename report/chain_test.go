package report

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckChain(t *testing.T) {
	runs := filepath.Join(t.TempDir(), "runs")
	seal := func(name string, day int, zipOnly bool) {
		rec, err := fixtureRecord()
		require.NoError(t, err)
		_, err = WriteBundle(filepath.Join(runs, name), rec, BundleOptions{Zip: zipOnly, Created: time.Date(2026, 6, day, 9, 0, 0, 0, time.UTC)})
		require.NoError(t, err)
		if zipOnly {
			require.NoError(t, os.RemoveAll(filepath.Join(runs, name)))
		}
	}
	seal("a", 1, false)
	seal("b", 2, false)
	seal("c", 3, true)
	const target = "https://ehr.example.org/fhir"

	problems, err := CheckChain(runs)
	require.NoError(t, err)
	assert.Empty(t, problems, "an unbroken chain, zip-only runs included")

	seal("d", 4, false)
	tests := []struct {
		name   string
		tamper func(t *testing.T) func()
		want   string
	}{
		{name: "a run deleted", tamper: func(t *testing.T) func() {
			require.NoError(t, os.Rename(filepath.Join(runs, "b"), filepath.Join(runs, "..", "b")))
			return func() { require.NoError(t, os.Rename(filepath.Join(runs, "..", "b"), filepath.Join(runs, "b"))) }
		}, want: "run c links the previous run b, which is missing"},
		{name: "a run's manifest replaced", tamper: func(t *testing.T) func() {
			path := filepath.Join(runs, "a", "manifest.json")
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, append(data, ' '), 0o644))
			return func() { require.NoError(t, os.WriteFile(path, data, 0o644)) }
		}, want: "run b links the previous run a with manifest SHA-256"},
		{name: "a zip-only run deleted", tamper: func(t *testing.T) func() {
			require.NoError(t, os.Rename(filepath.Join(runs, "c.zip"), filepath.Join(runs, "..", "c.zip")))
			return func() {
				require.NoError(t, os.Rename(filepath.Join(runs, "..", "c.zip"), filepath.Join(runs, "c.zip")))
			}
		}, want: "run d links the previous run c, which is missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			restore := tc.tamper(t)
			problems, err := CheckChain(runs)
			restore()
			require.NoError(t, err)
			require.Len(t, problems[target], 1, "%v", problems)
			assert.Contains(t, problems[target][0], tc.want)
		})
	}
	problems, err = CheckChain(runs)
	require.NoError(t, err)
	assert.Empty(t, problems)

	require.NoError(t, os.WriteFile(filepath.Join(runs, "broken.zip"), []byte("PK\x03\x04 not really"), 0o644))
	_, err = CheckChain(runs)
	assert.ErrorContains(t, err, "broken.zip")
	_, err = CheckChain(filepath.Join(runs, "nope"))
	assert.ErrorContains(t, err, "nope")
}
