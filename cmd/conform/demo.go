package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/runner"
	"github.com/nhsconform/conform/runner/redact"
	"github.com/nhsconform/conform/scenarios/refserver"
)

func init() {
	register(&command{name: "demo", summary: "run every workflow pack against the built-in reference server and write a report", run: runDemo})
}

const demoDescription = `
Starts conform's reference FHIR server in-process, runs every built-in
workflow pack against it (capability, admission, discharge, referral) and
writes the report to --out: report.txt (each acceptance criterion's
verdict, with the failing steps) and report.json (the verdicts, the pack
hashes and the whole run record). It works offline.

The packs judge against UK Core: its package must be installed in the FHIR
package cache ('conform packages install') or given with --ig, with
hl7.fhir.r4.core and hl7.terminology.r4 beside it.

--fault switches on one of the reference server's faults (see 'conform serve
--list-faults') to show the criteria that notice it.

Exit codes: 0 every MUST criterion passed, 1 a MUST criterion failed, 2 usage
or configuration (packages missing), 3 could not complete.`

func runDemo(e *env, args []string) conformance.ExitCode {
	const name = "demo"
	fs := newFlags(e, name, "[--out DIR] [--fault NAME]... [--ig SRC]...", demoDescription)
	out := fs.String("out", "conform-demo-report", "write the report to folder `DIR`")
	faults := fs.StringArray("fault", nil, "switch on the reference server fault `NAME` (repeatable)")
	concurrency := fs.Int("concurrency", 4, "scenarios run at once")
	pf := addPackageFlags(fs)
	if code, done := parseFlags(e, fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, name, "unexpected argument %q", fs.Arg(0))
	}
	if *concurrency < 1 || *concurrency > 256 {
		return usageError(e, name, "--concurrency must be between 1 and 256")
	}
	if err := refserver.CheckFaults(*faults); err != nil {
		return usageError(e, name, "%v", err)
	}
	if *out == "" {
		return usageError(e, name, "--out is empty")
	}
	red := redact.New()
	res, code, err := runPackSuite(e, packSuite{
		faults: *faults,
		runner: runner.Config{Concurrency: *concurrency},
		pf:     pf,
		red:    red,
	})
	if err != nil {
		if code == conformance.ExitUsage {
			return usageError(e, name, "%s", red.String(err.Error()))
		}
		return failure(e, name, fmt.Errorf("%s", red.String(err.Error())))
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return failure(e, name, fmt.Errorf("create the report folder: %w", err))
	}
	for _, f := range []struct{ file, format string }{{"report.txt", "text"}, {"report.json", "json"}} {
		if err := writeSuiteFile(filepath.Join(*out, f.file), f.format, res, red); err != nil {
			return failure(e, name, err)
		}
	}
	if err := writeSuiteOutput(e.stdout, "text", res, red); err != nil {
		return failure(e, name, err)
	}
	abs, err := filepath.Abs(*out)
	if err != nil {
		abs = *out
	}
	fmt.Fprintf(e.stdout, "report written to %s (report.txt, report.json)\n", abs)
	return code
}
