// Package fhirpathbench times conform's FHIRPath engine on the R4 invariants
// of the clinical examples and exports the same workload for fhirpath.js
// (see run.sh, which runs both in one go).
package fhirpathbench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/fhirpath"
	"github.com/nhsconform/conform/profiles/fhirpath/invariants"
	"github.com/nhsconform/conform/profiles/model/modeltest"
	"github.com/nhsconform/conform/profiles/packages"
)

var exportDir = flag.String("export", "", "write the workload (plan.json, resources.json) to `DIR` for fhirpath.js")

type workload struct {
	plan      *invariants.Plan
	names     []string
	raw       [][]byte
	resources []map[string]any
	eng       *fhirpath.Engine
}

func decode(data []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	err := d.Decode(&m)
	return m, err
}

func load(tb testing.TB) *workload {
	tb.Helper()
	core, err := packages.Open(conformancetest.Shared(tb, modeltest.CorePackage))
	if err != nil {
		tb.Fatal(err)
	}
	var sds []map[string]any
	for _, r := range packages.NewSet(core).ByType("StructureDefinition") {
		m, err := r.JSON()
		if err != nil {
			tb.Fatal(err)
		}
		sds = append(sds, m)
	}
	w := &workload{plan: invariants.NewPlan(sds, nil)}
	f, err := os.Open(conformancetest.Shared(tb, "testsuites/bench/clinical-examples.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	want := map[string]bool{}
	for sc := bufio.NewScanner(f); sc.Scan(); {
		want[sc.Text()] = true
	}
	files, err := modeltest.ReadPackage(conformancetest.Shared(tb, "fhir/packages/hl7.fhir.r4.examples-4.0.1.tgz"), "")
	if err != nil {
		tb.Fatal(err)
	}
	for name := range files {
		if want[name] {
			w.names = append(w.names, name)
		}
	}
	sort.Strings(w.names)
	for _, name := range w.names {
		m, err := decode(files[name])
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		w.raw = append(w.raw, files[name])
		w.resources = append(w.resources, m)
	}
	w.eng = fhirpath.NewEngine(fhirpath.Options{Model: fhirpath.FromModel(modeltest.Core(tb)), CollectionAs: true, NoPathChecks: true})
	if err := w.plan.Compile(w.eng); err != nil {
		tb.Fatal(err)
	}
	return w
}

// BenchmarkClinicalInvariants evaluates, for each of the 705 clinical R4
// examples, every constraint of its resource type's base definition at every
// element on the constraint's path. One op is one resource.
func BenchmarkClinicalInvariants(b *testing.B) {
	w := load(b)
	ctx := context.Background()
	evaluations, errs := 0, 0
	count := func(r invariants.Result) {
		evaluations++
		if r.Err != nil {
			errs++
		}
	}
	for _, r := range w.resources {
		w.plan.Check(ctx, w.eng, r, count)
	}
	perPass, errsPerPass := evaluations, errs
	b.ReportAllocs()
	// Collect the package loading's garbage now, not inside the timing.
	runtime.GC()
	b.ResetTimer()
	cpu := conformancetest.ProcessCPU()
	for i := 0; i < b.N; i++ {
		w.plan.Check(ctx, w.eng, w.resources[i%len(w.resources)], func(invariants.Result) {})
	}
	cpu = conformancetest.ProcessCPU() - cpu
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "resources/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "resources/cpu-s")
	}
	b.ReportMetric(float64(perPass), "evaluations/pass")
	b.ReportMetric(float64(errsPerPass), "errors/pass")
}

// TestWorkload checks the workload is complete and evaluates without error;
// with -export DIR it also writes it for fhirpath.js.
func TestWorkload(t *testing.T) {
	w := load(t)
	if len(w.resources) != 705 {
		t.Fatalf("clinical set has %d resources, want 705", len(w.resources))
	}
	evaluations := 0
	for i, r := range w.resources {
		w.plan.Check(context.Background(), w.eng, r, func(res invariants.Result) {
			evaluations++
			if res.Err != nil {
				t.Errorf("%s %s at %s: %v", w.names[i], res.Constraint.Key, res.Path, res.Err)
			}
		})
	}
	t.Logf("%d resources, %d evaluations", len(w.resources), evaluations)
	if *exportDir == "" {
		return
	}
	plan, err := json.Marshal(w.plan.Types())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*exportDir, "plan.json"), plan, 0o644); err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	all.WriteString("[")
	for i, raw := range w.raw {
		if i > 0 {
			all.WriteString(",\n")
		}
		all.Write(bytes.TrimSpace(raw))
	}
	all.WriteString("]")
	if err := os.WriteFile(filepath.Join(*exportDir, "resources.json"), all.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
