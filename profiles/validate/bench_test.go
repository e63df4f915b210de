package validate

import (
	"context"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func clinicalCorpus(b *testing.B) [][]byte {
	b.Helper()
	ex := readExamples(b, clinicalNames(b))
	names := make([]string, 0, len(ex))
	for n := range ex {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([][]byte, len(names))
	for i, n := range names {
		out[i] = ex[n]
	}
	return out
}

// validateAll validates every document with workers goroutines.
func validateAll(b *testing.B, v *Validator, docs [][]byte, workers int) {
	var next atomic.Int64
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
				if _, err := v.Validate(context.Background(), docs[i]); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func benchmarkClinical(b *testing.B, workers int) {
	v := newCoreValidator(b)
	docs := clinicalCorpus(b)
	validateAll(b, v, docs, workers)
	cpu0 := processCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		validateAll(b, v, docs, workers)
	}
	b.StopTimer()
	b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "resources/s")
	if used := processCPU() - cpu0; used > 0 {
		b.ReportMetric(float64(len(docs)*b.N)/used.Seconds(), "resources/cpu-s")
	}
}

// processCPU is the user and system CPU time the process has used: on a
// shared machine it shows the cost of validation apart from other load.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkClinicalExamples validates the 705 clinical R4 examples with every
// check on, using one worker per available core.
func BenchmarkClinicalExamples(b *testing.B) { benchmarkClinical(b, runtime.GOMAXPROCS(0)) }

// BenchmarkClinicalExamplesOneCore is the same on a single worker; run it
// with -cpu 1 to hold the process to one core.
func BenchmarkClinicalExamplesOneCore(b *testing.B) { benchmarkClinical(b, 1) }
