// Package validatebench times conform's validator on the 705 clinical R4
// examples and exports the same resources for @medplum/core and FHIR.js (see
// run.sh, which runs all three in one go).
package validatebench

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/packages"
	"github.com/nhsconform/conform/profiles/validate"
)

var exportDir = flag.String("export", "", "write resources.json and structuredefinitions.json to `DIR` for the JavaScript peers")

type corpus struct {
	names []string
	raw   [][]byte
	set   *packages.Set
}

func load(tb testing.TB) *corpus {
	tb.Helper()
	var pkgs []*packages.Package
	for _, f := range []string{"fhir/packages/hl7.fhir.r4.core-4.0.1.tgz", "fhir/packages/hl7.terminology.r4-7.0.1.tgz"} {
		p, err := packages.Open(conformancetest.Shared(tb, f))
		if err != nil {
			tb.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	c := &corpus{set: packages.NewSet(pkgs...)}
	list, err := os.ReadFile(conformancetest.Shared(tb, "testsuites/bench/clinical-examples.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	want := map[string]bool{}
	for _, l := range strings.Split(string(list), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			want[l] = true
		}
	}
	f, err := os.Open(conformancetest.Shared(tb, "fhir/packages/hl7.fhir.r4.examples-4.0.1.tgz"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	tr := tar.NewReader(gz)
	byName := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		name := strings.TrimPrefix(h.Name, "package/")
		if !want[name] {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			tb.Fatal(err)
		}
		byName[name] = b
	}
	if len(byName) != len(want) {
		tb.Fatalf("found %d of the %d clinical examples", len(byName), len(want))
	}
	for n := range byName {
		c.names = append(c.names, n)
	}
	sort.Strings(c.names)
	for _, n := range c.names {
		c.raw = append(c.raw, byName[n])
	}
	return c
}

func validateAll(tb testing.TB, v *validate.Validator, docs [][]byte, workers int) int {
	var next atomic.Int64
	var invalid atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(docs) {
					return
				}
				out, err := v.Validate(context.Background(), docs[i])
				if err != nil {
					tb.Error(err)
					return
				}
				if out.HasErrors() {
					invalid.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return int(invalid.Load())
}

func bench(b *testing.B, workers int) {
	c := load(b)
	v, err := validate.FromPackages(c.set, validate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	invalid := validateAll(b, v, c.raw, workers)
	// Collect the package loading's garbage now, not inside the timing.
	runtime.GC()
	cpu0 := conformancetest.ProcessCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		validateAll(b, v, c.raw, workers)
	}
	b.StopTimer()
	n := float64(len(c.raw) * b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "resources/s")
	if used := conformancetest.ProcessCPU() - cpu0; used > 0 {
		b.ReportMetric(n/used.Seconds(), "resources/cpu-s")
	}
	b.ReportMetric(float64(invalid), "flagged-invalid")
}

// BenchmarkClinical validates the 705 clinical examples with every check on,
// one worker per core.
func BenchmarkClinical(b *testing.B) { bench(b, runtime.GOMAXPROCS(0)) }

// BenchmarkClinicalOneWorker is the same with one worker (run with -cpu 1 for
// one core).
func BenchmarkClinicalOneWorker(b *testing.B) { bench(b, 1) }

// TestExport writes the workload for the JavaScript peers when -export is set.
func TestExport(t *testing.T) {
	c := load(t)
	if *exportDir == "" {
		if len(c.raw) != 705 {
			t.Fatalf("the clinical set has %d resources, want 705", len(c.raw))
		}
		return
	}
	resources := make([]json.RawMessage, len(c.raw))
	for i, r := range c.raw {
		resources[i] = r
	}
	write := func(name string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*exportDir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("resources.json", resources)
	var entries []map[string]any
	for _, r := range c.set.ByType("StructureDefinition") {
		if r.Package.Name != "hl7.fhir.r4.core" {
			continue
		}
		m, err := r.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if m["derivation"] == "constraint" || m["kind"] == "logical" {
			continue
		}
		entries = append(entries, map[string]any{"resource": m})
	}
	write("structuredefinitions.json", map[string]any{"resourceType": "Bundle", "type": "collection", "entry": entries})
}
