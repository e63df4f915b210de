package validate

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/conformance/conformancetest"
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
	// Collect the package loading's garbage now, not inside the timing.
	runtime.GC()
	cpu0 := conformancetest.ProcessCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		validateAll(b, v, docs, workers)
	}
	b.StopTimer()
	b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "resources/s")
	if used := conformancetest.ProcessCPU() - cpu0; used > 0 {
		b.ReportMetric(float64(len(docs)*b.N)/used.Seconds(), "resources/cpu-s")
	}
}

// BenchmarkClinicalExamples validates the 705 clinical R4 examples with every
// check on, using one worker per available core.
func BenchmarkClinicalExamples(b *testing.B) { benchmarkClinical(b, runtime.GOMAXPROCS(0)) }

// BenchmarkClinicalExamplesOneCore is the same on a single worker; run it
// with -cpu 1 to hold the process to one core.
func BenchmarkClinicalExamplesOneCore(b *testing.B) { benchmarkClinical(b, 1) }

// transactionBundle builds a transaction Bundle of n entries: Patients and
// Observations referring to them by urn:uuid fullUrl.
func transactionBundle(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"resourceType":"Bundle","type":"transaction","entry":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		patient := fmt.Sprintf("urn:uuid:%08x-0000-4000-8000-%012x", i-i%2, i-i%2)
		if i%2 == 0 {
			fmt.Fprintf(&b, `{"fullUrl":"%s","resource":{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}],"name":[{"family":"Smith","given":["Ann"]}],"gender":"female","birthDate":"1970-01-0%d"},"request":{"method":"POST","url":"Patient"}}`, patient, 1+i%9)
			continue
		}
		fmt.Fprintf(&b, `{"fullUrl":"urn:uuid:%08x-0000-4000-8000-%012x","resource":{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"%s"},"effectiveDateTime":"2024-01-01T10:00:00Z","valueQuantity":{"value":72,"unit":"beats/min","system":"http://unitsofmeasure.org","code":"/min"}},"request":{"method":"POST","url":"Observation"}}`, i, i, patient)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// BenchmarkTransactionBundle validates transaction Bundles of growing size;
// ns/entry staying flat shows linear growth.
func BenchmarkTransactionBundle(b *testing.B) {
	v := newCoreValidator(b)
	for _, n := range []int{1000, 10000} {
		doc := transactionBundle(n)
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			if _, err := v.Validate(context.Background(), doc); err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				out, err := v.Validate(context.Background(), doc)
				if err != nil {
					b.Fatal(err)
				}
				if out.HasErrors() {
					for _, is := range out.Issues {
						if is.Severity == conformance.SeverityError || is.Severity == conformance.SeverityFatal {
							b.Fatalf("the generated Bundle has errors: %+v", is)
						}
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
		})
	}
}
