package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/report"
	"github.com/nhsconform/conform/runner"
	"github.com/nhsconform/conform/runner/redact"
	"github.com/nhsconform/conform/scenarios"
	"github.com/nhsconform/conform/scenarios/packs"
	"github.com/nhsconform/conform/scenarios/refserver"
)

func init() {
	register(&command{name: "demo", summary: "run every workflow pack against the built-in reference server and write a report", run: runDemo})
}

const demoDescription = `
Starts conform's reference FHIR server in-process, runs every built-in
workflow pack against it (capability, admission, discharge, referral),
prints each acceptance criterion's verdict and writes the report as an
evidence bundle (every report format, each exchange and a manifest of
SHA-256 hashes) into a new folder under --out, named by the run's start
time, saying where. It works offline.

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
	out := fs.String("out", "conform-demo", "write the report into a new folder under `DIR`")
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
	all, err := packs.Builtin()
	if err != nil {
		return failure(e, name, err)
	}
	set, err := loadPackPackages(e, pf, all)
	if err != nil {
		return usageError(e, name, "%v", err)
	}
	red := redact.New()
	res, code, err := runPackSuite(e, packSuite{
		faults: *faults,
		runner: runner.Config{Concurrency: *concurrency},
		pf:     pf,
		red:    red,
		set:    set,
	})
	if err != nil {
		if code == conformance.ExitUsage {
			return usageError(e, name, "%s", red.String(err.Error()))
		}
		return failure(e, name, fmt.Errorf("%s", red.String(err.Error())))
	}
	ids, err := report.PackageIdentities(set.Packages())
	if err != nil {
		return failure(e, name, err)
	}
	rec, err := report.Build(report.Input{ToolVersion: version, Suite: res, Packages: ids, Ended: time.Now()})
	if err != nil {
		return failure(e, name, fmt.Errorf("build the run record: %w", err))
	}
	dir := filepath.Join(*out, res.Record.Started.UTC().Format("20060102T150405Z"))
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return failure(e, name, fmt.Errorf("create the report folder: %w", err))
	}
	written, err := report.WriteBundle(dir, rec, report.BundleOptions{
		Redact:  red.Bytes,
		Options: report.Options{Sources: scenarios.FS},
	})
	if err != nil {
		return failure(e, name, fmt.Errorf("write the report: %w", err))
	}
	if err := writeSuiteOutput(e.stdout, "text", res, red); err != nil {
		return failure(e, name, err)
	}
	abs, err := filepath.Abs(written.Dir)
	if err != nil {
		abs = written.Dir
	}
	fmt.Fprintf(e.stdout, "report written to %s (%d files; open report.html)\n", abs, len(written.Manifest.Files))
	return code
}
