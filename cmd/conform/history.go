package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/report"
)

func init() {
	register(&command{name: "history", summary: "per criterion across runs: first failure, current failing streak and its days", run: runHistory})
}

func runHistory(e *env, args []string) conformance.ExitCode {
	const name = "history"
	fs := newFlags(e, name, "[-o text|json] [--all] DIR...", `
Reads every run under each DIR (a folder of evidence bundles written by
'conform run --out', bundle zips, a single bundle or a run record) and
prints, per target and per criterion: its current status, the first run in
which it failed, and its current streak of failures: the run that started
it, how many failing runs it has and its length in calendar days (UTC,
counting the first and the latest failing day). A pass or a waiver ends a
streak; a run in which the criterion could not be judged (error, skipped,
not run) neither ends nor extends it. Without --all only criteria that ever
failed are listed.

It also checks the chain of runs in each folder: every run's link to the
previous run for its target must lead to that run, unchanged, so a run
deleted, replaced or moved out of the series is reported.

Exit codes: 0 listed, 1 the chain of runs is broken, 2 usage, 3 a run could
not be read.`)
	format := fs.StringP("output", "o", "text", "output `FORMAT`: text or json")
	all := fs.Bool("all", false, "list every criterion, also those that never failed")
	if code, done := parseFlags(e, fs, args); done {
		return code
	}
	if fs.NArg() == 0 {
		return usageError(e, name, "at least one folder of runs is required")
	}
	if *format != "text" && *format != "json" {
		return usageError(e, name, "unknown output format %q (want text or json)", *format)
	}
	records, err := report.FindRecords(fs.Args())
	if err != nil {
		return failure(e, name, err)
	}
	hs := report.Histories(records)
	broken := false
	for _, dir := range fs.Args() {
		if st, err := os.Stat(filepath.Join(dir, report.RecordFile)); err == nil && !st.IsDir() {
			continue
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		problems, err := report.CheckChain(dir)
		if err != nil {
			return failure(e, name, err)
		}
		for i := range hs {
			hs[i].Chain = append(hs[i].Chain, problems[hs[i].Target]...)
			broken = broken || len(hs[i].Chain) > 0
		}
	}
	if !*all {
		for i := range hs {
			var failed []report.CriterionHistory
			for _, c := range hs[i].Criteria {
				if c.FirstFailed != nil {
					failed = append(failed, c)
				}
			}
			hs[i].Criteria = failed
			if hs[i].Criteria == nil {
				hs[i].Criteria = []report.CriterionHistory{}
			}
		}
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(hs); err != nil {
			return failure(e, name, err)
		}
	} else {
		io.WriteString(e.stdout, renderHistories(hs))
	}
	if broken {
		return conformance.ExitFail
	}
	return conformance.ExitPass
}

func renderHistories(hs []report.History) string {
	var b strings.Builder
	const day = "2006-01-02"
	for i, h := range hs {
		if i > 0 {
			b.WriteString("\n")
		}
		first, last := h.Runs[0].Started, h.Runs[len(h.Runs)-1].Started
		fmt.Fprintf(&b, "%s: %d runs from %s to %s\n", h.Target, len(h.Runs), first.Format(day), last.Format(day))
		for _, p := range h.Chain {
			fmt.Fprintf(&b, "  CHAIN BROKEN: %s\n", p)
		}
		if len(h.Criteria) == 0 {
			b.WriteString("  no criterion failed in any run\n")
			continue
		}
		fmt.Fprintf(&b, "  %-8s %-6s %-8s %-12s %-12s %5s %5s\n", "CRITERION", "LEVEL", "CURRENT", "FIRST FAIL", "STREAK FROM", "RUNS", "DAYS")
		for _, c := range h.Criteria {
			firstFail, streakFrom := "-", "-"
			if c.FirstFailed != nil {
				firstFail = c.FirstFailed.Started.Format(day)
			}
			if c.StreakStart != nil {
				streakFrom = c.StreakStart.Started.Format(day)
			}
			fmt.Fprintf(&b, "  %-8s %-6s %-8s %-12s %-12s %5d %5d\n", c.ID, c.Level, strings.ToUpper(string(c.Current)), firstFail, streakFrom, c.StreakRuns, c.StreakDays)
		}
	}
	return b.String()
}
