package invariants

import (
	"bufio"
	"context"
	"os"
	"testing"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/fhirpath"
	"github.com/nhsconform/conform/profiles/model/modeltest"
	"github.com/nhsconform/conform/profiles/packages"
)

// clinicalExamples returns the 705 clinical R4 examples of the shared benchmark set, decoded.
func clinicalExamples(b testing.TB) []map[string]any {
	f, err := os.Open(conformancetest.Shared(b, "testsuites/bench/clinical-examples.txt"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	want := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		want[sc.Text()] = true
	}
	files, err := modeltest.ReadPackage(conformancetest.Shared(b, "fhir/packages/hl7.fhir.r4.examples-4.0.1.tgz"), "")
	if err != nil {
		b.Fatal(err)
	}
	var out []map[string]any
	for name, data := range files {
		if want[name] {
			out = append(out, decode(b, data))
		}
	}
	return out
}

// BenchmarkClinicalInvariants evaluates every R4 base invariant that applies
// to each element of each of the 705 clinical examples; one op is one resource.
func BenchmarkClinicalInvariants(b *testing.B) {
	core, err := packages.Open(conformancetest.Shared(b, modeltest.CorePackage))
	if err != nil {
		b.Fatal(err)
	}
	set := Collect(structureDefinitions(b, core), BaseDefinitions)
	resources := clinicalExamples(b)
	eng := fhirpath.NewEngine(fhirpath.Options{Model: fhirpath.FromModel(modeltest.Core(b)), CollectionAs: true, NoPathChecks: true})
	ctx := context.Background()
	for _, r := range resources {
		set.Check(ctx, eng, r, func(Result) {})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		set.Check(ctx, eng, resources[i%len(resources)], func(Result) {})
	}
}
