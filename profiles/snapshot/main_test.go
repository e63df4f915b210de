package snapshot

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/packages"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if installed.dir != "" {
		os.RemoveAll(installed.dir)
	}
	os.Exit(code)
}

// installed is a FHIR package cache holding hl7.fhir.r4.core and UK Core
// (converted to JSON), built once for the benchmarks.
var installed struct {
	sync.Once
	dir    string
	ukcore string
	err    error
}

func installedCache(tb testing.TB) (packages.Cache, string) {
	tb.Helper()
	corePath := conformancetest.Shared(tb, "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz")
	ukCoreSource := conformancetest.Shared(tb, "fhir/sources/uk-core")
	installed.Do(func() {
		installed.err = func() error {
			dir, err := os.MkdirTemp("", "conform-snapshot-cache-")
			if err != nil {
				return err
			}
			installed.dir = dir
			cache := packages.Cache{Dir: dir}
			core, err := packages.Open(corePath)
			if err != nil {
				return err
			}
			if _, err := cache.Install(core, packages.InstallOptions{}); err != nil {
				return err
			}
			set, err := packages.Load(context.Background(), packages.LoadOptions{Cache: cache, IGs: []string{ukCoreSource}, NoTerminology: true})
			if err != nil {
				return err
			}
			uk, ok := set.Package("fhir.r4.ukcore.stu3.currentbuild")
			if !ok {
				return fmt.Errorf("uk core not loaded")
			}
			res, err := cache.Install(uk, packages.InstallOptions{})
			if err != nil {
				return err
			}
			if res.KeptXML > 0 {
				return fmt.Errorf("uk core installed with %d XML resources unconverted", res.KeptXML)
			}
			installed.ukcore = uk.ID()
			return nil
		}()
	})
	if installed.err != nil {
		tb.Fatalf("install packages into a cache: %v", installed.err)
	}
	return packages.Cache{Dir: installed.dir}, installed.ukcore
}

const ukCorePatient = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"

// BenchmarkStartUKCorePatient measures start-up from an installed cache:
// loading hl7.fhir.r4.core and UK Core and producing every snapshot needed to
// validate a UKCore-Patient.
func BenchmarkStartUKCorePatient(b *testing.B) {
	cache, uk := installedCache(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := conformancetest.ProcessCPU()
	var defs int
	for range b.N {
		set, err := packages.Load(context.Background(), packages.LoadOptions{Cache: cache, IGs: []string{uk}, NoTerminology: true})
		if err != nil {
			b.Fatal(err)
		}
		g := &Generator{Resolve: set.ResolveJSON}
		sds, _, err := g.Closure(ukCorePatient)
		if err != nil {
			b.Fatal(err)
		}
		if len(sds) < 20 {
			b.Fatalf("only %d definitions in the closure", len(sds))
		}
		defs = len(sds)
	}
	b.StopTimer()
	if cpu1 := conformancetest.ProcessCPU(); cpu0 > 0 {
		b.ReportMetric(float64(cpu1-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	}
	b.ReportMetric(float64(defs), "definitions/op")
}
