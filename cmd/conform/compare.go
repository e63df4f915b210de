package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/report"
)

func init() {
	register(&command{name: "compare", summary: "compare two runs: criteria that changed, new failures, fixed ones", run: runCompare})
}

func runCompare(e *env, args []string) conformance.ExitCode {
	const name = "compare"
	fs := newFlags(e, name, "[-o text|json] A B", `
Compares the criteria verdicts of run A (the earlier) with run B. A and B are
run records (record.json, or -o json output), evidence bundle folders or
bundle zips written by 'conform run --out DIR [--zip]'. Both runs must have
run the same packs; differences in pack versions, pack contents or targets
are noted.

Lists every criterion whose status changed, the new failures (failing in B,
not in A) and the fixed ones (failing or unjudged in A, passing or waived
in B), and every scenario whose status changed. Runs of --features judge no
criterion: their scenarios are compared.

Exit codes: 0 no new failure, 1 new failures in B (criteria, or scenarios
when no criterion was judged), 2 usage (including runs of different packs),
3 a run could not be read.`)
	format := fs.StringP("output", "o", "text", "output `FORMAT`: text or json")
	if code, done := parseFlags(e, fs, args); done {
		return code
	}
	if fs.NArg() != 2 {
		return usageError(e, name, "exactly two runs (A and B) are required")
	}
	if *format != "text" && *format != "json" {
		return usageError(e, name, "unknown output format %q (want text or json)", *format)
	}
	a, err := report.ReadRecord(fs.Arg(0))
	if err != nil {
		return failure(e, name, err)
	}
	b, err := report.ReadRecord(fs.Arg(1))
	if err != nil {
		return failure(e, name, err)
	}
	c, err := report.Compare(fs.Arg(0), a, fs.Arg(1), b)
	var mismatch *report.PackMismatchError
	switch {
	case errors.As(err, &mismatch):
		return usageError(e, name, "%v", err)
	case err != nil:
		return failure(e, name, err)
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(c); err != nil {
			return failure(e, name, err)
		}
	} else {
		io.WriteString(e.stdout, renderComparison(c))
	}
	if c.NewlyFailing() {
		return conformance.ExitFail
	}
	return conformance.ExitPass
}

func renderComparison(c *report.Comparison) string {
	var b strings.Builder
	for _, r := range []struct {
		label string
		run   report.RunSummary
	}{{"A", c.A}, {"B", c.B}} {
		fmt.Fprintf(&b, "%s: %s  %s against %s: %s\n", r.label, r.run.Source, r.run.Started.Format("2006-01-02 15:04:05Z07:00"), r.run.Target, strings.ToUpper(string(r.run.Status)))
	}
	section := func(title string, changes []report.Change) {
		fmt.Fprintf(&b, "\n%s (%d)\n", title, len(changes))
		for _, ch := range changes {
			fmt.Fprintf(&b, "  %-8s %-6s %-8s -> %-8s %s\n", ch.Criterion, ch.Level, strings.ToUpper(string(ch.Before)), strings.ToUpper(string(ch.After)), ch.Text)
		}
	}
	section("new failures", c.NewFailures)
	section("fixed", c.Fixed)
	section("changed status", c.Changed)
	if len(c.Scenarios) > 0 {
		fmt.Fprintf(&b, "\nscenarios that changed status (%d)\n", len(c.Scenarios))
		for _, s := range c.Scenarios {
			fmt.Fprintf(&b, "  %-9s -> %-9s %s (%s:%d)\n", strings.ToUpper(string(s.Before)), strings.ToUpper(string(s.After)), s.Name, s.URI, s.Line)
		}
	}
	if len(c.Notes) > 0 {
		b.WriteString("\nnotes\n")
		for _, n := range c.Notes {
			fmt.Fprintf(&b, "  %s\n", n)
		}
	}
	return b.String()
}
