package report

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/nhsconform/conform/runner"
)

// largeRecord repeats the fixture's scenarios to n scenarios, about the
// size of a run of every built-in pack when n is 100.
func largeRecord(b *testing.B, n int) *Record {
	b.Helper()
	s := fixtureSuite()
	base := s.Record.Scenarios
	var scenarios []runner.Scenario
	for i := 0; i < n; i++ {
		sc := base[i%len(base)]
		sc.ID = fmt.Sprint(i)
		sc.Started = fixedStart.Add(time.Duration(i) * time.Millisecond)
		scenarios = append(scenarios, sc)
	}
	s.Record.Scenarios = scenarios
	rec, err := Build(Input{ToolVersion: "bench", Suite: s, Ended: fixedStart.Add(time.Minute)})
	if err != nil {
		b.Fatal(err)
	}
	return rec
}

func BenchmarkRender(b *testing.B) {
	rec := largeRecord(b, 100)
	for _, f := range Formats() {
		b.Run(f.Name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := f.Write(io.Discard, rec, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWriteBundle(b *testing.B) {
	rec := largeRecord(b, 100)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := WriteBundle(b.TempDir()+"/run", rec, BundleOptions{Zip: true}); err != nil {
			b.Fatal(err)
		}
	}
}
