// Package suite owns running conform's workflow packs as one suite: against a
// vendor's FHIR endpoint or against the reference server started in-process,
// skipping (with the reason) the scenarios a server's CapabilityStatement
// does not support, and turning the runner's record into a verdict per
// acceptance criterion, per pack and overall.
package suite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/runner"
	"github.com/nhsconform/conform/runner/redact"
	"github.com/nhsconform/conform/runner/steps"
	"github.com/nhsconform/conform/scenarios"
	"github.com/nhsconform/conform/scenarios/packs"
	"github.com/nhsconform/conform/scenarios/refserver"
)

// Options configures a suite run.
type Options struct {
	// Target is the FHIR base URL of the server under test; empty starts the
	// reference server in-process and runs against it.
	Target string
	// Packs are the packs to run, read from Source; nil means every built-in pack.
	Packs  []*packs.Pack
	Source fs.FS
	// Runner carries the connection settings (headers, auth, TLS, timeouts,
	// concurrency, transport, tags, godog output) for the run; Target,
	// Features, Paths, Validator, FHIRPath and Listen are set by Run.
	Runner runner.Config
	// Validator judges resources against the packs' UK Core profiles, for the
	// steps and for the in-process reference server's writes.
	Validator conformance.Validator
	FHIRPath  steps.FHIRPath
	// Faults are switched on in the in-process reference server.
	Faults []string
	// Listen is the receiving endpoint's address for pushed messages; empty
	// means a free loopback port when the reference server runs in-process,
	// and no receiving endpoint otherwise.
	Listen  string
	Waivers []conformance.Waiver
	// Now is the clock waivers are judged by; nil means time.Now.
	Now func() time.Time
}

// Skip is a scenario that was not run, and why.
type Skip struct {
	Scenario string   `json:"scenario"`
	URI      string   `json:"uri"`
	Line     int      `json:"line"`
	Criteria []string `json:"criteria"`
	Reason   string   `json:"reason"`
}

// PackResult is the verdict on one pack.
type PackResult struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Title   string `json:"title"`
	// Hash is the pack's content hash: which pack content the verdict is about.
	Hash     string                         `json:"hash"`
	UKCore   string                         `json:"ukCore"`
	Status   conformance.Status             `json:"status"`
	Criteria []conformance.CriterionVerdict `json:"criteria"`
	Skipped  []Skip                         `json:"skipped,omitempty"`
}

// Result is a whole suite run: the runner's record and the verdicts.
type Result struct {
	Target string `json:"target"`
	// Reference is true when the target was the in-process reference server.
	Reference bool     `json:"reference"`
	Faults    []string `json:"faults,omitempty"`
	// Capability says how the CapabilityStatement was used to skip scenarios.
	Capability string             `json:"capability"`
	Status     conformance.Status `json:"status"`
	Packs      []PackResult       `json:"packs"`
	// Criteria lists every criterion's verdict, pack by pack.
	Criteria []conformance.CriterionVerdict `json:"criteria"`
	Record   *runner.Record                 `json:"record"`
}

// ExitCode is 0 when every MUST criterion passed (or was waived), 1 when
// one failed, 3 when one could not be judged.
func (r *Result) ExitCode() conformance.ExitCode {
	return conformance.ExitCodeFor(r.Status)
}

// Failing returns the ids of the criteria whose verdict is fail, sorted.
func (r *Result) Failing() []string {
	var out []string
	for _, c := range r.Criteria {
		if c.Status == conformance.StatusFail {
			out = append(out, c.ID)
		}
	}
	sort.Strings(out)
	return out
}

// Run runs the packs and judges every criterion. A returned error means the
// suite could not run (bad configuration, unreadable packs, the reference
// server not starting); conformance failures are in the Result.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Source == nil {
		opts.Source = scenarios.FS
	}
	if opts.Packs == nil {
		ps, err := packs.Load(opts.Source)
		if err != nil {
			return nil, fmt.Errorf("load packs: %w", err)
		}
		opts.Packs = ps
	}
	if len(opts.Packs) == 0 {
		return nil, &runner.ConfigError{Err: errors.New("no pack to run")}
	}
	if err := checkWaivers(opts.Packs, opts.Waivers); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Validator != nil {
		for _, p := range opts.Packs {
			if err := checkFixtures(ctx, p, opts.Source, opts.Validator); err != nil {
				return nil, &runner.FeatureError{Err: err}
			}
		}
	}
	res := &Result{Target: opts.Target, Faults: opts.Faults}
	cfg := opts.Runner
	cfg.Listen = opts.Listen
	if cfg.Redactor == nil {
		cfg.Redactor = redact.New()
	}
	if opts.Target == "" {
		if cfg.Listen == "" {
			addr, err := freeLoopback()
			if err != nil {
				return nil, fmt.Errorf("reserve the receiving endpoint: %w", err)
			}
			cfg.Listen = addr
		}
		srv, err := refserver.New(refserver.Options{
			Validator: opts.Validator,
			Faults:    opts.Faults,
			PushURL:   "http://" + cfg.Listen,
		})
		if err != nil {
			return nil, &runner.ConfigError{Err: err}
		}
		serveCtx, stop := context.WithCancel(ctx)
		base, done, err := srv.Start(serveCtx, "127.0.0.1:0")
		if err != nil {
			stop()
			return nil, fmt.Errorf("start the reference server: %w", err)
		}
		defer func() {
			stop()
			<-done
		}()
		opts.Target = base
		res.Target, res.Reference = base, true
	} else if len(opts.Faults) > 0 {
		return nil, &runner.ConfigError{Err: errors.New("faults apply to the in-process reference server only; drop --target or the faults")}
	}
	cfg.Target = opts.Target
	cfg.Features = opts.Source
	cfg.Validator = opts.Validator
	if opts.FHIRPath != nil {
		cfg.FHIRPath = opts.FHIRPath
	}
	cfg.Paths = nil
	for _, p := range opts.Packs {
		cfg.Paths = append(cfg.Paths, p.Dir)
	}

	capability, capNote := fetchCapability(ctx, cfg)
	res.Capability = capNote
	skips, tags := plan(opts.Packs, capability, cfg.Tags)
	cfg.Tags = tags

	rec, err := runner.Run(ctx, cfg)
	if err != nil && !(errors.Is(err, runner.ErrNoScenarios) && len(skips) > 0) {
		return nil, fmt.Errorf("run packs: %w", err)
	}
	res.Target = cfg.Redactor.String(res.Target)
	if rec == nil {
		rec = &runner.Record{Target: res.Target, Started: time.Now()}
	}
	res.Record = rec
	if err := res.judge(opts, skips); err != nil {
		return nil, err
	}
	return res, nil
}

// checkWaivers requires every waiver to name a criterion of one of the packs,
// before anything runs.
func checkWaivers(ps []*packs.Pack, waivers []conformance.Waiver) error {
	for _, w := range waivers {
		defined := slices.ContainsFunc(ps, func(p *packs.Pack) bool {
			_, ok := p.Criterion(w.Criterion)
			return ok
		})
		if !defined {
			return &runner.ConfigError{Err: fmt.Errorf("waiver names unknown criterion %q", w.Criterion)}
		}
	}
	return nil
}

func freeLoopback() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", err
	}
	return addr, nil
}

// judge computes the verdicts of every pack from the record and the skips.
func (r *Result) judge(opts Options, skips map[string][]Skip) error {
	byPack := map[string][]conformance.ScenarioOutcome{}
	selected := map[string]bool{}
	for _, s := range r.Record.Scenarios {
		for _, p := range opts.Packs {
			if strings.HasPrefix(s.URI, p.Dir+"/") {
				byPack[p.ID] = append(byPack[p.ID], conformance.ScenarioOutcome{Name: s.Name, Tags: s.Tags, Status: s.Status})
				for _, t := range s.Tags {
					selected[conformance.CriterionTag(t)] = true
				}
			}
		}
	}
	now := opts.Now()
	filtered := strings.TrimSpace(opts.Runner.Tags) != ""
	for _, p := range opts.Packs {
		outcomes := byPack[p.ID]
		for _, sk := range skips[p.ID] {
			tags := make([]string, len(sk.Criteria))
			for i, c := range sk.Criteria {
				tags[i] = "@" + c
				selected[c] = true
			}
			outcomes = append(outcomes, conformance.ScenarioOutcome{Name: sk.Scenario, Tags: tags, Status: conformance.StatusSkipped})
		}
		criteria := p.Criteria
		if filtered {
			criteria = nil
			for _, c := range p.Criteria {
				if selected[c.ID] {
					criteria = append(criteria, c)
				}
			}
		}
		var waivers []conformance.Waiver
		for _, w := range opts.Waivers {
			if _, ok := p.Criterion(w.Criterion); !ok {
				continue
			}
			if filtered && !selected[w.Criterion] {
				return &runner.ConfigError{Err: fmt.Errorf("waiver names criterion %q, which the tags %q do not select", w.Criterion, opts.Runner.Tags)}
			}
			waivers = append(waivers, w)
		}
		verdicts, err := conformance.Verdicts(criteria, outcomes, waivers, now)
		if err != nil {
			return fmt.Errorf("judge pack %s: %w", p.ID, err)
		}
		pr := PackResult{
			ID: p.ID, Version: p.Version, Title: p.Title, Hash: p.Hash, UKCore: p.UKCore,
			Status: packStatus(verdicts), Criteria: verdicts, Skipped: skips[p.ID],
		}
		r.Packs = append(r.Packs, pr)
		r.Criteria = append(r.Criteria, verdicts...)
	}
	r.Status = conformance.Overall(r.Criteria)
	return nil
}

// packStatus is the pack's overall verdict, or skipped when none of its
// criteria could be tried on this server.
func packStatus(verdicts []conformance.CriterionVerdict) conformance.Status {
	for _, v := range verdicts {
		if v.Status != conformance.StatusSkipped {
			return conformance.Overall(verdicts)
		}
	}
	return conformance.StatusSkipped
}

// checkedFixtures remembers the packs whose fixtures a validator accepted,
// so repeated runs in one process validate them once.
var checkedFixtures sync.Map

func checkFixtures(ctx context.Context, p *packs.Pack, fsys fs.FS, v conformance.Validator) error {
	var key string
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer {
		key = fmt.Sprintf("%s %T %x", p.Hash, v, rv.Pointer())
		if _, done := checkedFixtures.Load(key); done {
			return nil
		}
	}
	if err := p.ValidateFixtures(ctx, fsys, v); err != nil {
		return err
	}
	if key != "" {
		checkedFixtures.Store(key, true)
	}
	return nil
}
