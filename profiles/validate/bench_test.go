package validate

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/nhsconform/conform/conformance"
)

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
