package runner

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/fhirpath"
	"github.com/nhsconform/conform/runner/runnertest"
	"github.com/nhsconform/conform/runner/steps"
)

// BenchmarkStepOverhead measures the runner's cost per request step above a
// raw HTTP round trip to the same loopback server: a feature of 200 GET
// steps each followed by a status check, against 200 plain GETs.
func BenchmarkStepOverhead(b *testing.B) {
	srv := runnertest.New("")
	defer srv.Close()
	const n = 200
	var f strings.Builder
	f.WriteString("Feature: overhead\n  Scenario: many requests\n")
	for range n {
		f.WriteString("    When I send a GET request to \"metadata\"\n    Then the response status should be 200\n")
	}
	fsys := fstest.MapFS{"overhead.feature": {Data: []byte(f.String())}}
	cfg := Config{Target: srv.URL, Features: fsys, Paths: []string{"overhead.feature"}, Timeout: 5 * time.Second}
	client := &http.Client{}
	raw := func() time.Duration {
		start := time.Now()
		for range n {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/metadata", nil)
			req.Header.Set("Accept", "application/fhir+json")
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return time.Since(start)
	}
	var rawTotal, runTotal, rawCPU, runCPU time.Duration
	b.ResetTimer()
	for b.Loop() {
		c0 := conformancetest.ProcessCPU()
		rawTotal += raw()
		c1 := conformancetest.ProcessCPU()
		start := time.Now()
		rec, err := Run(context.Background(), cfg)
		runTotal += time.Since(start)
		runCPU += conformancetest.ProcessCPU() - c1
		rawCPU += c1 - c0
		if err != nil || rec.ExitCode() != conformance.ExitPass {
			b.Fatalf("run failed: %v %+v", err, rec)
		}
	}
	requests := float64(b.N * n)
	b.ReportMetric(float64(rawTotal.Nanoseconds())/requests, "raw-ns/request")
	b.ReportMetric(float64(runTotal.Nanoseconds())/requests, "runner-ns/request-step")
	b.ReportMetric(float64((runTotal-rawTotal).Nanoseconds())/requests, "overhead-ns/request-step")
	b.ReportMetric(float64((runCPU-rawCPU).Nanoseconds())/requests, "overhead-cpu-ns/request-step")
}

// BenchmarkHundredScenarios runs 100 scenarios (create, read, four checks
// including a FHIRPath one) with concurrency 8 against a loopback server.
func BenchmarkHundredScenarios(b *testing.B) {
	srv := runnertest.New("")
	defer srv.Close()
	var f strings.Builder
	f.WriteString("Feature: many scenarios\n")
	for i := range 100 {
		fmt.Fprintf(&f, `  Scenario: patient %d
    Given I store "{{nhsNumber}}" as "nhs"
    When I send a POST request to "Patient" with body from "patient.json"
    Then the response status should be 201
    And I store the FHIRPath "Patient.id" as "id"
    When I send a GET request to "Patient/{{id}}"
    Then the response status should be 200
    And the FHIRPath "Patient.identifier.value = %%nhs" should be true
`, i)
	}
	fsys := fstest.MapFS{
		"many.feature": {Data: []byte(f.String())},
		"patient.json": {Data: []byte(`{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"{{nhs}}"}]}`)},
	}
	cfg := Config{Target: srv.URL, Features: fsys, Paths: []string{"many.feature"}, Concurrency: 8, Timeout: 5 * time.Second,
		FHIRPath: steps.NewEngine(fhirpath.NewEngine(fhirpath.Options{}))}
	var cpu time.Duration
	for b.Loop() {
		c0 := conformancetest.ProcessCPU()
		rec, err := Run(context.Background(), cfg)
		cpu += conformancetest.ProcessCPU() - c0
		if err != nil || rec.ExitCode() != conformance.ExitPass || len(rec.Scenarios) != 100 {
			b.Fatalf("run failed: %v", err)
		}
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}
