package suite

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/scenarios/refserver"
)

var update = flag.Bool("update", false, "rewrite testdata/faults.json from what the faults break")

// TestEveryFaultFailsItsCriteriaAndNoOther runs every pack against the
// reference server with each fault switched on, and checks the criteria that
// fail are exactly the ones testdata/faults.json names for it.
func TestEveryFaultFailsItsCriteriaAndNoOther(t *testing.T) {
	base := referenceOptions(t)
	base.Runner.Concurrency = 8
	raw, err := os.ReadFile("testdata/faults.json")
	require.NoError(t, err)
	var want map[string][]string
	require.NoError(t, json.Unmarshal(raw, &want))

	faults := refserver.Faults()
	got := map[string][]string{}
	var mu sync.Mutex
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for _, f := range faults {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			opts := base
			opts.Faults = []string{f.Name}
			res, err := Run(context.Background(), opts)
			if !assert.NoError(t, err, f.Name) {
				return
			}
			for _, p := range res.Packs {
				assert.Empty(t, p.Skipped, "%s: %s", f.Name, p.ID)
			}
			for _, c := range res.Criteria {
				if c.Status != conformance.StatusFail {
					assert.Equal(t, conformance.StatusPass, c.Status, "fault %s: criterion %s", f.Name, c.ID)
				}
			}
			mu.Lock()
			got[f.Name] = res.Failing()
			mu.Unlock()
		}()
	}
	wg.Wait()
	if *update {
		data, err := json.MarshalIndent(got, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile("testdata/faults.json", append(data, '\n'), 0o644))
		return
	}
	names := make([]string, 0, len(faults))
	for _, f := range faults {
		names = append(names, f.Name)
		assert.NotEmpty(t, got[f.Name], "fault %s makes no criterion fail", f.Name)
		assert.Equal(t, want[f.Name], got[f.Name], "fault %s (%s)", f.Name, f.Breaks)
	}
	var listed []string
	for name := range want {
		listed = append(listed, name)
	}
	sort.Strings(listed)
	assert.Equal(t, names, listed, "testdata/faults.json lists exactly the reference server's faults")
}
