// Package report owns conform's run record (the one account of a run that
// every output is made from, with its published JSON Schema), the output
// formats written from it, waivers, evidence bundle writing, and comparing
// runs over time.
package report

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/report/evidence"
	"github.com/nhsconform/conform/runner"
	"github.com/nhsconform/conform/scenarios/suite"
)

// SchemaVersion is the version of the run record's JSON shape, published in
// schema/run-record.schema.json.
const SchemaVersion = "1.0"

// ToolName is the name recorded as the tool that made a record.
const ToolName = "conform"

// Record is the run record: what ran, against what, judged by which packs
// and FHIR packages, every scenario with its steps and exchanges, and the
// verdict on each acceptance criterion, each pack and the whole run.
type Record struct {
	SchemaVersion string `json:"schemaVersion"`
	Tool          Tool   `json:"tool"`
	RunID         string `json:"runId,omitempty"`
	Target        string `json:"target"`
	// Reference is true when the target was conform's in-process reference server.
	Reference bool              `json:"reference,omitempty"`
	Faults    []string          `json:"faults,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
	Tags      string            `json:"tags,omitempty"`
	Started   time.Time         `json:"started"`
	Ended     time.Time         `json:"ended"`
	// Status is the overall verdict: fail when a MUST criterion failed, error
	// when one could not be judged, else pass (SHOULD criteria are reported only).
	Status     conformance.Status             `json:"status"`
	Summary    Summary                        `json:"summary"`
	Capability string                         `json:"capability,omitempty"`
	Packs      []Pack                         `json:"packs"`
	Packages   []Package                      `json:"packages"`
	Criteria   []conformance.CriterionVerdict `json:"criteria"`
	// Waivers are the waivers given to the run, applied or not (expired).
	Waivers []conformance.Waiver `json:"waivers,omitempty"`
	// Previous links to the last earlier evidence bundle for the same target
	// in the same folder of runs, when the record was written into a bundle.
	Previous  *evidence.RunLink `json:"previous,omitempty"`
	Scenarios []runner.Scenario `json:"scenarios"`
}

// Tool names the program and version that made a record.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Summary counts scenarios and criteria by status.
type Summary struct {
	Scenarios map[conformance.Status]int `json:"scenarios"`
	Criteria  map[conformance.Status]int `json:"criteria"`
}

// Pack is one workflow pack of the run and its verdict.
type Pack struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Title   string `json:"title,omitempty"`
	// Hash is the pack's content hash ("sha256:" and hex).
	Hash   string             `json:"hash"`
	UKCore string             `json:"ukCore,omitempty"`
	Status conformance.Status `json:"status"`
	// Criteria lists the ids of the pack's criteria; their verdicts are in Record.Criteria.
	Criteria []string     `json:"criteria"`
	Skipped  []suite.Skip `json:"skipped,omitempty"`
}

// Package is one FHIR package that judged the run.
type Package struct {
	// ID is name#version.
	ID string `json:"id"`
	// Hash is the SHA-256 of the package's content ("sha256:" and hex), see PackageHash.
	Hash string `json:"hash,omitempty"`
}

// Input is what a record is built from: a suite result (built-in packs) or a
// plain runner record (--features), and the facts around the run.
type Input struct {
	ToolVersion string
	Suite       *suite.Result
	Run         *runner.Record
	Packages    []Package
	Labels      map[string]string
	Waivers     []conformance.Waiver
	Ended       time.Time
	// Now judges waiver expiry; zero means Ended.
	Now time.Time
}

// Build makes the run record, applying the waivers to the criteria verdicts.
func Build(in Input) (*Record, error) {
	rec := &Record{
		SchemaVersion: SchemaVersion,
		Tool:          Tool{Name: ToolName, Version: in.ToolVersion},
		Labels:        in.Labels,
		Ended:         in.Ended.UTC(),
		Packs:         []Pack{},
		Packages:      append([]Package{}, in.Packages...),
		Criteria:      []conformance.CriterionVerdict{},
		Waivers:       in.Waivers,
	}
	sort.Slice(rec.Packages, func(i, j int) bool { return rec.Packages[i].ID < rec.Packages[j].ID })
	run := in.Run
	if in.Suite != nil {
		run = in.Suite.Record
		rec.Reference = in.Suite.Reference
		rec.Faults = in.Suite.Faults
		rec.Capability = in.Suite.Capability
		for _, p := range in.Suite.Packs {
			pack := Pack{ID: p.ID, Version: p.Version, Title: p.Title, Hash: p.Hash, UKCore: p.UKCore, Status: p.Status, Criteria: []string{}, Skipped: p.Skipped}
			for _, c := range p.Criteria {
				pack.Criteria = append(pack.Criteria, c.ID)
			}
			rec.Packs = append(rec.Packs, pack)
		}
		rec.Criteria = append(rec.Criteria, in.Suite.Criteria...)
	}
	if run == nil {
		return nil, errors.New("build the run record: no run")
	}
	rec.RunID, rec.Target, rec.Tags = run.RunID, run.Target, run.Tags
	if in.Suite != nil && in.Suite.Target != "" {
		rec.Target = in.Suite.Target
	}
	rec.Started = run.Started.UTC()
	if rec.Ended.IsZero() {
		rec.Ended = rec.Started.Add(run.Duration)
	}
	rec.Scenarios = run.Scenarios
	if rec.Scenarios == nil {
		rec.Scenarios = []runner.Scenario{}
	}
	now := in.Now
	if now.IsZero() {
		now = rec.Ended
	}
	if err := rec.applyWaivers(in.Waivers, now); err != nil {
		return nil, fmt.Errorf("build the run record: %w", err)
	}
	switch {
	case in.Suite != nil:
		rec.Status = conformance.Overall(rec.Criteria)
		if len(in.Waivers) == 0 {
			rec.Status = in.Suite.Status
		}
	default:
		rec.Status = scenarioStatus(rec.Scenarios)
	}
	rec.Summary = summarize(rec)
	return rec, nil
}

// ExitCode is the exit status the record's overall verdict calls for.
func (r *Record) ExitCode() conformance.ExitCode {
	return conformance.ExitCodeFor(r.Status)
}

// Criterion returns the verdict on criterion id.
func (r *Record) Criterion(id string) (conformance.CriterionVerdict, bool) {
	for _, c := range r.Criteria {
		if c.ID == id {
			return c, true
		}
	}
	return conformance.CriterionVerdict{}, false
}

// UnknownCriterionError is a waiver naming a criterion no pack of the run has.
type UnknownCriterionError struct {
	Criterion string
}

// Error implements error; the message names the criterion.
func (e *UnknownCriterionError) Error() string {
	return fmt.Sprintf("waiver names unknown criterion %q", e.Criterion)
}

// applyWaivers turns failed or unjudged criteria with an unexpired waiver
// into waived, and recomputes the verdicts of the packs they belong to.
func (r *Record) applyWaivers(waivers []conformance.Waiver, now time.Time) error {
	if len(waivers) == 0 {
		return nil
	}
	index := map[string]int{}
	for i, c := range r.Criteria {
		index[c.ID] = i
	}
	changed := false
	for _, w := range waivers {
		i, ok := index[w.Criterion]
		if !ok {
			return &UnknownCriterionError{Criterion: w.Criterion}
		}
		expired, err := w.Expired(now)
		if err != nil {
			return err
		}
		c := &r.Criteria[i]
		if expired || (c.Status != conformance.StatusFail && c.Status != conformance.StatusError) {
			continue
		}
		w := w
		c.Status, c.Waiver = conformance.StatusWaived, &w
		changed = true
	}
	if !changed {
		return nil
	}
	for i := range r.Packs {
		p := &r.Packs[i]
		var verdicts []conformance.CriterionVerdict
		for _, id := range p.Criteria {
			verdicts = append(verdicts, r.Criteria[index[id]])
		}
		p.Status = packStatus(verdicts)
	}
	return nil
}

func packStatus(verdicts []conformance.CriterionVerdict) conformance.Status {
	for _, v := range verdicts {
		if v.Status != conformance.StatusSkipped {
			return conformance.Overall(verdicts)
		}
	}
	return conformance.StatusSkipped
}

func scenarioStatus(scenarios []runner.Scenario) conformance.Status {
	status := conformance.StatusPass
	for _, s := range scenarios {
		switch s.Status {
		case conformance.StatusError, conformance.StatusUndefined:
			return conformance.StatusError
		case conformance.StatusFail:
			status = conformance.StatusFail
		}
	}
	return status
}

func summarize(r *Record) Summary {
	s := Summary{Scenarios: map[conformance.Status]int{}, Criteria: map[conformance.Status]int{}}
	for _, sc := range r.Scenarios {
		s.Scenarios[sc.Status]++
	}
	for _, c := range r.Criteria {
		s.Criteria[c.Status]++
	}
	return s
}
