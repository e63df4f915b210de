package validate

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
)

var update = flag.Bool("update", false, "rewrite the golden files of documented example errors")

// exampleError is one distinct error of an example: its message id and
// where and what it says.
type exampleError struct {
	id, text string
}

// errorsByFile validates documents in parallel and returns, for each file
// with errors, its distinct errors sorted by message id and text.
func errorsByFile(t *testing.T, v *Validator, docs map[string][]byte, profiles func(string) []string) map[string][]exampleError {
	t.Helper()
	names := make([]string, 0, len(docs))
	for n := range docs {
		names = append(names, n)
	}
	sort.Strings(names)
	result := map[string][]exampleError{}
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
				seen := map[exampleError]bool{}
				var list []exampleError
				for _, is := range out.Issues {
					if is.Severity != conformance.SeverityError && is.Severity != conformance.SeverityFatal {
						continue
					}
					e := exampleError{is.MessageID, is.Expression + ": " + is.Message}
					if !seen[e] {
						seen[e] = true
						list = append(list, e)
					}
				}
				if len(list) == 0 {
					continue
				}
				sort.Slice(list, func(i, j int) bool {
					if list[i].id != list[j].id {
						return list[i].id < list[j].id
					}
					return list[i].text < list[j].text
				})
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

func messageIDs(errs []exampleError) []string {
	var ids []string
	for _, e := range errs {
		if len(ids) == 0 || ids[len(ids)-1] != e.id {
			ids = append(ids, e.id)
		}
	}
	return ids
}

// compareGolden checks errors against the documented list: golden (a JSON
// file of message ids by file) and beside it a Markdown file quoting each
// example's errors under the heading title.
func compareGolden(t *testing.T, golden, title string, got map[string][]exampleError) {
	t.Helper()
	path := filepath.Join("testdata", golden)
	ids := map[string][]string{}
	files := make([]string, 0, len(got))
	for file, errs := range got {
		ids[file] = messageIDs(errs)
		files = append(files, file)
	}
	sort.Strings(files)
	var md strings.Builder
	fmt.Fprintf(&md, "# %s\n\nEach example with errors, quoting the first error of each kind (message id) and counting the others; written by `go test ./profiles/validate -update`.\n", title)
	for _, file := range files {
		fmt.Fprintf(&md, "\n## %s\n\n", file)
		errs := got[file]
		for i, e := range errs {
			if i > 0 && errs[i-1].id == e.id {
				continue
			}
			n := 1
			for n < len(errs)-i && errs[i+n].id == e.id {
				n++
			}
			fmt.Fprintf(&md, "- `%s` %s", e.id, e.text)
			if n > 1 {
				fmt.Fprintf(&md, " (and %d more like it)", n-1)
			}
			md.WriteString("\n")
		}
	}
	mdPath := strings.TrimSuffix(path, ".json") + ".md"
	if *update {
		b, err := json.MarshalIndent(ids, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, append(b, '\n'), 0o644))
		require.NoError(t, os.WriteFile(mdPath, []byte(md.String()), 0o644))
		return
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create %s", path)
	var want map[string][]string
	require.NoError(t, json.Unmarshal(b, &want))
	for file, got := range ids {
		assert.Equal(t, want[file], got, "%s: errors differ from the documented list in %s", file, path)
	}
	for file := range want {
		if _, ok := ids[file]; !ok {
			t.Errorf("%s: documented as invalid in %s but now has no error", file, path)
		}
	}
	quoted, err := os.ReadFile(mdPath)
	require.NoError(t, err, "run with -update to create %s", mdPath)
	assert.Equal(t, string(quoted), md.String(), "%s quotes other errors than validation gives now; run with -update", mdPath)
}

// TestR4ExamplesCorpus validates every resource of the R4 examples package:
// no errors except the documented list (testdata/r4-examples-errors.json,
// reasons in docs/VALIDATION.md).
func TestR4ExamplesCorpus(t *testing.T) {
	v := newCoreValidator(t)
	docs := readExamples(t, nil)
	require.Greater(t, len(docs), 5000)
	compareGolden(t, "r4-examples-errors.json", "Errors in the R4 examples", errorsByFile(t, v, docs, nil))
}
