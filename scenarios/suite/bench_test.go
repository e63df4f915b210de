package suite

import (
	"context"
	"testing"

	"github.com/nhsconform/conform/conformance"
)

// BenchmarkAllPacksAgainstReferenceServer measures one whole suite run: the
// in-process reference server started, every pack run against it with
// validation, verdicts drawn. The target is at most 2 s per run.
func BenchmarkAllPacksAgainstReferenceServer(b *testing.B) {
	opts := referenceOptions(b)
	opts.Runner.Concurrency = 8
	warm, err := Run(context.Background(), opts)
	if err != nil || warm.Status != conformance.StatusPass {
		b.Fatalf("warm-up run: %v %v", err, warm.Failing())
	}
	scenarios := len(warm.Record.Scenarios)
	for b.Loop() {
		res, err := Run(context.Background(), opts)
		if err != nil {
			b.Fatal(err)
		}
		if res.Status != conformance.StatusPass {
			b.Fatalf("run failed: %v", res.Failing())
		}
	}
	b.ReportMetric(float64(scenarios), "scenarios/op")
}
