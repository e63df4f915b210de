package validate

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
)

var update = flag.Bool("update", false, "rewrite the golden files of documented example errors")

// errorsByFile validates documents in parallel and returns, for each file
// with errors, the sorted distinct message ids of its errors.
func errorsByFile(t *testing.T, v *Validator, docs map[string][]byte, profiles func(string) []string) map[string][]string {
	t.Helper()
	names := make([]string, 0, len(docs))
	for n := range docs {
		names = append(names, n)
	}
	sort.Strings(names)
	result := map[string][]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan string)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range next {
				var prof []string
				if profiles != nil {
					prof = profiles(n)
				}
				out, err := v.Validate(context.Background(), docs[n], prof...)
				if err != nil {
					t.Errorf("%s: %v", n, err)
					continue
				}
				ids := map[string]bool{}
				for _, is := range out.Issues {
					if is.Severity == conformance.SeverityError || is.Severity == conformance.SeverityFatal {
						ids[is.MessageID] = true
					}
				}
				if len(ids) == 0 {
					continue
				}
				list := make([]string, 0, len(ids))
				for id := range ids {
					list = append(list, id)
				}
				sort.Strings(list)
				mu.Lock()
				result[n] = list
				mu.Unlock()
			}
		}()
	}
	for _, n := range names {
		next <- n
	}
	close(next)
	wg.Wait()
	return result
}

// compareGolden checks errors against the documented list in a golden file.
func compareGolden(t *testing.T, golden string, got map[string][]string) {
	t.Helper()
	path := filepath.Join("testdata", golden)
	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, append(b, '\n'), 0o644))
		return
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create %s", path)
	var want map[string][]string
	require.NoError(t, json.Unmarshal(b, &want))
	for file, ids := range got {
		assert.Equal(t, want[file], ids, "%s: errors differ from the documented list in %s", file, path)
	}
	for file := range want {
		if _, ok := got[file]; !ok {
			t.Errorf("%s: documented as invalid in %s but now has no error", file, path)
		}
	}
}

// TestR4ExamplesCorpus validates every resource of the R4 examples package:
// no errors except the documented list (testdata/r4-examples-errors.json,
// reasons in docs/VALIDATION.md).
func TestR4ExamplesCorpus(t *testing.T) {
	v := newCoreValidator(t)
	docs := readExamples(t, nil)
	require.Greater(t, len(docs), 5000)
	compareGolden(t, "r4-examples-errors.json", errorsByFile(t, v, docs, nil))
}
