package packages

import (
	"context"
	"runtime"
	"testing"
)

// BenchmarkLoadCoreAndUKCore loads hl7.fhir.r4.core and UK Core from an
// installed cache and reads the definitions a UKCore-Patient snapshot starts
// from: the profile and its base.
func BenchmarkLoadCoreAndUKCore(b *testing.B) {
	c := installedCache(b)
	opts := LoadOptions{Cache: c, IGs: []string{"fhir.r4.ukcore.stu3.currentbuild#0.0.0-main.55dd5f7"}}
	b.ReportAllocs()
	var heap uint64
	for b.Loop() {
		s, err := Load(context.Background(), opts)
		if err != nil {
			b.Fatal(err)
		}
		for _, url := range []string{"https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient", "http://hl7.org/fhir/StructureDefinition/Patient"} {
			if _, ok := s.ResolveJSON(url); !ok {
				b.Fatalf("%s not resolved", url)
			}
		}
		b.StopTimer()
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		heap = max(heap, ms.HeapAlloc)
		runtime.KeepAlive(s)
		b.StartTimer()
	}
	b.ReportMetric(float64(heap)/(1<<20), "MiB-heap")
}

// BenchmarkOpenCoreTarball reads the R4 core package straight from its tarball.
func BenchmarkOpenCoreTarball(b *testing.B) {
	src := sharedCoreSource(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenUKCoreSources indexes the UK Core source folder of XML files.
func BenchmarkOpenUKCoreSources(b *testing.B) {
	src := sharedUKCoreSource(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(src); err != nil {
			b.Fatal(err)
		}
	}
}
