package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/profiles/packages"
	"github.com/nhsconform/conform/runner"
	"github.com/nhsconform/conform/runner/redact"
	"github.com/nhsconform/conform/scenarios/packs"
	"github.com/nhsconform/conform/scenarios/suite"
)

func init() {
	register(&command{name: "packs", summary: "list the built-in workflow packs and their acceptance criteria", run: runPacks})
}

const packsUsage = `Usage: conform packs list [-o text|json]

Lists the workflow packs built into conform: id, version, the UK Core
package (id#version) each judges against, its content hash (recorded with
every result), its acceptance criteria and its number of scenarios.

'conform run' without --features runs every pack; without --target it runs
them against the reference server started in-process.

Exit codes: 0 listed, 2 usage, 3 a built-in pack could not be read.
`

// packSummary is one pack in 'conform packs list -o json'.
type packSummary struct {
	ID        string             `json:"id"`
	Version   string             `json:"version"`
	Title     string             `json:"title"`
	Hash      string             `json:"hash"`
	UKCore    string             `json:"ukCore"`
	Criteria  []criterionSummary `json:"criteria"`
	Scenarios int                `json:"scenarios"`
}

type criterionSummary struct {
	ID    string            `json:"id"`
	Level conformance.Level `json:"level"`
	Text  string            `json:"text"`
}

func runPacks(e *env, args []string) conformance.ExitCode {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := e.stdout
		code := conformance.ExitPass
		if len(args) == 0 {
			w, code = e.stderr, conformance.ExitUsage
		}
		io.WriteString(w, packsUsage)
		return code
	}
	if args[0] != "list" {
		return usageError(e, "packs", "unknown subcommand %q (want list)", args[0])
	}
	fs := newFlags(e, "packs list", "[-o text|json]", packsUsage)
	output := fs.StringP("output", "o", "text", "output `FORMAT`: text or json")
	if code, done := parseFlags(e, fs, args[1:]); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, "packs list", "unexpected argument %q", fs.Arg(0))
	}
	if *output != "text" && *output != "json" {
		return usageError(e, "packs list", "unknown output format %q (want text or json)", *output)
	}
	ps, err := packs.Builtin()
	if err != nil {
		return failure(e, "packs list", err)
	}
	out := make([]packSummary, 0, len(ps))
	for _, p := range ps {
		s := packSummary{ID: p.ID, Version: p.Version, Title: p.Title, Hash: p.Hash, UKCore: p.UKCore, Scenarios: len(p.Scenarios)}
		for _, c := range p.Criteria {
			s.Criteria = append(s.Criteria, criterionSummary{ID: c.ID, Level: c.Level, Text: c.Text})
		}
		out = append(out, s)
	}
	if *output == "json" {
		data, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return failure(e, "packs list", err)
		}
		fmt.Fprintf(e.stdout, "%s\n", data)
		return conformance.ExitPass
	}
	var b strings.Builder
	for _, s := range out {
		fmt.Fprintf(&b, "%s %s  %s\n  judged against %s; %d criteria, %d scenarios; %s\n", s.ID, s.Version, s.Title, s.UKCore, len(s.Criteria), s.Scenarios, s.Hash)
		for _, c := range s.Criteria {
			fmt.Fprintf(&b, "  %-7s %-6s %s\n", c.ID, c.Level, c.Text)
		}
		b.WriteString("\n")
	}
	io.WriteString(e.stdout, b.String())
	return conformance.ExitPass
}

// packSuite is what running the built-in packs needs from a command.
type packSuite struct {
	// target empty means the in-process reference server.
	target string
	faults []string
	// runner carries connection settings, tags, concurrency and the receiving endpoint.
	runner runner.Config
	pf     *packageFlags
	red    *redact.Redactor
	// set, when given, is the package set already loaded for the packs.
	set *packages.Set
}

// ukCoreMissingError is a pack whose UK Core package is neither loaded with
// --ig nor in the FHIR package cache.
type ukCoreMissingError struct {
	pack, ref, cache string
}

func (e *ukCoreMissingError) Error() string {
	return fmt.Sprintf("pack %s judges against %s, which is neither given with --ig nor installed in the FHIR package cache %s: install it with 'conform packages install SRC' (the package tarball or its IG source folder) or pass --ig SRC", e.pack, e.ref, e.cache)
}

// loadPackPackages loads the FHIR packages the packs judge against: the
// --ig sources, and each pack's UK Core package from the cache when no
// --ig provides it.
func loadPackPackages(e *env, pf *packageFlags, ps []*packs.Pack) (*packages.Set, error) {
	set, err := pf.load(e)
	if err != nil {
		return nil, err
	}
	cache := pf.cache(e)
	for _, p := range ps {
		name, version, err := packages.ParseRef(p.UKCore)
		if err != nil {
			return nil, fmt.Errorf("pack %s: UK Core package %q: %w", p.ID, p.UKCore, err)
		}
		if have, ok := set.Package(name); ok && have.Version == version {
			continue
		}
		pkg, err := cache.Open(name, version)
		if err != nil {
			var ni *packages.NotInstalledError
			if errors.As(err, &ni) {
				return nil, &ukCoreMissingError{pack: p.ID, ref: p.UKCore, cache: cache.Dir}
			}
			return nil, fmt.Errorf("open %s from the FHIR package cache: %w", p.UKCore, err)
		}
		set.Add(pkg)
	}
	return set, nil
}

// runPackSuite runs every built-in pack and returns the result; the error
// says why the suite could not run, with the exit code to use.
func runPackSuite(e *env, ps packSuite) (*suite.Result, conformance.ExitCode, error) {
	all, err := packs.Builtin()
	if err != nil {
		return nil, conformance.ExitIncomplete, err
	}
	set := ps.set
	if set == nil {
		set, err = loadPackPackages(e, ps.pf, all)
		if err != nil {
			return nil, conformance.ExitUsage, err
		}
	}
	v, err := suite.NewValidator(set)
	if err != nil {
		return nil, conformance.ExitIncomplete, err
	}
	cfg := ps.runner
	cfg.Redactor = ps.red
	listen := cfg.Listen
	cfg.Listen = ""
	res, err := suite.Run(e.ctx, suite.Options{
		Target:    ps.target,
		Packs:     all,
		Runner:    cfg,
		Validator: v,
		FHIRPath:  suite.NewFHIRPath(set),
		Faults:    ps.faults,
		Listen:    listen,
	})
	var cfgErr *runner.ConfigError
	var featErr *runner.FeatureError
	switch {
	case errors.As(err, &cfgErr), errors.As(err, &featErr), errors.Is(err, runner.ErrNoScenarios):
		return nil, conformance.ExitUsage, err
	case err != nil:
		return nil, conformance.ExitIncomplete, err
	}
	return res, res.ExitCode(), nil
}

// writeSuiteOutput writes a suite result as text or JSON, redacted.
func writeSuiteOutput(w io.Writer, format string, res *suite.Result, red *redact.Redactor) error {
	switch format {
	case "json":
		data, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return fmt.Errorf("encode the result: %w", err)
		}
		_, err = w.Write(append(red.Bytes(data), '\n'))
		return err
	default:
		_, err := io.WriteString(w, red.String(renderSuiteText(res)))
		return err
	}
}

func renderSuiteText(res *suite.Result) string {
	var b strings.Builder
	where := res.Target
	if res.Reference {
		where = "the in-process reference server at " + res.Target
	}
	fmt.Fprintf(&b, "conform: %d workflow packs against %s\n", len(res.Packs), where)
	if len(res.Faults) > 0 {
		fmt.Fprintf(&b, "faults switched on: %s\n", strings.Join(res.Faults, ", "))
	}
	fmt.Fprintf(&b, "%s\n", res.Capability)
	scenarios := map[string][]runner.Scenario{}
	for _, s := range res.Record.Scenarios {
		for _, t := range s.Tags {
			if id := conformance.CriterionTag(t); id != "" {
				scenarios[id] = append(scenarios[id], s)
			}
		}
	}
	for _, p := range res.Packs {
		fmt.Fprintf(&b, "\n%s %s (%s) judged against %s: %s\n  %s\n", p.ID, p.Version, p.Title, p.UKCore, strings.ToUpper(string(p.Status)), p.Hash)
		for _, c := range p.Criteria {
			fmt.Fprintf(&b, "  %-8s %-7s %-6s %s\n", strings.ToUpper(string(c.Status)), c.ID, c.Level, c.Text)
			if c.Status == conformance.StatusPass || c.Status == conformance.StatusSkipped {
				continue
			}
			for _, s := range scenarios[c.ID] {
				if s.Status == conformance.StatusPass {
					continue
				}
				fmt.Fprintf(&b, "           %s: %s (%s:%d)\n", strings.ToUpper(string(s.Status)), s.Name, s.URI, s.Line)
				for _, st := range s.Steps {
					if st.Status == conformance.StatusPass || st.Status == conformance.StatusSkipped {
						continue
					}
					fmt.Fprintf(&b, "             %s %s (line %d)\n", st.Keyword, st.Text, st.Line)
					if st.Error != "" {
						fmt.Fprintf(&b, "             %s\n", strings.ReplaceAll(st.Error, "\n", "\n             "))
					}
					break
				}
			}
		}
		for _, sk := range p.Skipped {
			fmt.Fprintf(&b, "  skipped: %s (%s:%d): %s\n", sk.Scenario, sk.URI, sk.Line, sk.Reason)
		}
	}
	counts := map[conformance.Status]int{}
	must := 0
	for _, c := range res.Criteria {
		counts[c.Status]++
		if c.Level == conformance.LevelMust {
			must++
		}
	}
	fmt.Fprintf(&b, "\n%d criteria (%d MUST): %d pass, %d fail, %d error, %d skipped, %d waived; %d scenarios in %s\n",
		len(res.Criteria), must, counts[conformance.StatusPass], counts[conformance.StatusFail], counts[conformance.StatusError],
		counts[conformance.StatusSkipped], counts[conformance.StatusWaived], len(res.Record.Scenarios), res.Record.Duration.Round(time.Millisecond))
	fmt.Fprintf(&b, "overall: %s\n", strings.ToUpper(string(res.Status)))
	return b.String()
}
