package report

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nhsconform/conform/conformance"
)

// RunSummary names one run in a comparison or a history.
type RunSummary struct {
	Source  string             `json:"source"`
	Target  string             `json:"target"`
	Started time.Time          `json:"started"`
	Status  conformance.Status `json:"status"`
	Packs   []string           `json:"packs"`
}

func summaryOf(source string, r *Record) RunSummary {
	s := RunSummary{Source: source, Target: r.Target, Started: r.Started, Status: r.Status, Packs: []string{}}
	if r.Reference {
		s.Target = ReferenceChain
	}
	for _, p := range r.Packs {
		s.Packs = append(s.Packs, p.ID+"@"+p.Version)
	}
	return s
}

// Change is one criterion whose verdict differs between two runs.
type Change struct {
	Criterion string             `json:"criterion"`
	Level     conformance.Level  `json:"level"`
	Text      string             `json:"text,omitempty"`
	Before    conformance.Status `json:"before"`
	After     conformance.Status `json:"after"`
}

// Comparison is what changed from run A to run B.
type Comparison struct {
	A RunSummary `json:"a"`
	B RunSummary `json:"b"`
	// criteriaJudged is true when either run judged criteria.
	criteriaJudged bool
	// Changed lists every criterion whose status changed.
	Changed []Change `json:"changed"`
	// NewFailures are criteria failing in B that were not failing in A.
	NewFailures []Change `json:"newFailures"`
	// Fixed are criteria failing (or unjudged) in A that pass or are waived in B.
	Fixed []Change `json:"fixed"`
	// Scenarios lists every scenario (by feature file, line and name) whose
	// status changed; for runs of --features, which judge no criterion, it
	// is the whole comparison.
	Scenarios []ScenarioChange `json:"scenarios"`
	// Notes name pack versions or contents that differ between the runs.
	Notes []string `json:"notes"`
}

// ScenarioChange is one scenario whose status differs between two runs.
type ScenarioChange struct {
	URI    string             `json:"uri"`
	Line   int                `json:"line"`
	Name   string             `json:"name"`
	Before conformance.Status `json:"before"`
	After  conformance.Status `json:"after"`
}

// NewlyFailing reports whether B fails anything A did not: a criterion, or
// a scenario when neither run judged criteria.
func (c *Comparison) NewlyFailing() bool {
	if len(c.NewFailures) > 0 {
		return true
	}
	for _, s := range c.Scenarios {
		if c.criteriaJudged {
			break
		}
		if s.After == conformance.StatusFail && s.Before != conformance.StatusFail {
			return true
		}
	}
	return false
}

// PackMismatchError is two records that did not run the same packs.
type PackMismatchError struct {
	A, B []string
}

// Error implements error; the message names the pack ids of both runs.
func (e *PackMismatchError) Error() string {
	return fmt.Sprintf("the runs did not run the same packs (%s against %s): compare runs of the same packs", strings.Join(e.A, ", "), strings.Join(e.B, ", "))
}

func packIDs(r *Record) []string {
	ids := []string{}
	for _, p := range r.Packs {
		ids = append(ids, p.ID)
	}
	sort.Strings(ids)
	return ids
}

// Compare returns the criteria whose verdicts differ from a to b. Both
// records must have run the same packs (by id).
func Compare(aSource string, a *Record, bSource string, b *Record) (*Comparison, error) {
	ai, bi := packIDs(a), packIDs(b)
	if strings.Join(ai, "\x00") != strings.Join(bi, "\x00") {
		return nil, &PackMismatchError{A: ai, B: bi}
	}
	c := &Comparison{A: summaryOf(aSource, a), B: summaryOf(bSource, b), Changed: []Change{}, NewFailures: []Change{}, Fixed: []Change{}, Scenarios: []ScenarioChange{}, Notes: []string{}}
	bPacks := map[string]Pack{}
	for _, p := range b.Packs {
		bPacks[p.ID] = p
	}
	for _, p := range a.Packs {
		q := bPacks[p.ID]
		switch {
		case p.Version != q.Version:
			c.Notes = append(c.Notes, fmt.Sprintf("pack %s: version %s in A, %s in B", p.ID, p.Version, q.Version))
		case p.Hash != q.Hash:
			c.Notes = append(c.Notes, fmt.Sprintf("pack %s %s: content differs (%s in A, %s in B)", p.ID, p.Version, p.Hash, q.Hash))
		}
	}
	if a.Target != b.Target && !(a.Reference && b.Reference) {
		c.Notes = append(c.Notes, fmt.Sprintf("targets differ: %s in A, %s in B", a.Target, b.Target))
	}
	before := map[string]conformance.CriterionVerdict{}
	for _, v := range a.Criteria {
		before[v.ID] = v
	}
	for _, v := range b.Criteria {
		old, ok := before[v.ID]
		if !ok {
			c.Notes = append(c.Notes, fmt.Sprintf("criterion %s was not judged in A", v.ID))
			continue
		}
		delete(before, v.ID)
		if old.Status == v.Status {
			continue
		}
		ch := Change{Criterion: v.ID, Level: v.Level, Text: v.Text, Before: old.Status, After: v.Status}
		c.Changed = append(c.Changed, ch)
		failing := func(s conformance.Status) bool { return s == conformance.StatusFail }
		switch {
		case failing(v.Status) && !failing(old.Status):
			c.NewFailures = append(c.NewFailures, ch)
		case (failing(old.Status) || old.Status == conformance.StatusError) && (v.Status == conformance.StatusPass || v.Status == conformance.StatusWaived):
			c.Fixed = append(c.Fixed, ch)
		}
	}
	c.criteriaJudged = len(a.Criteria) > 0 || len(b.Criteria) > 0
	c.Scenarios = scenarioChanges(a, b)
	if !c.criteriaJudged {
		c.Notes = append(c.Notes, "neither run judged acceptance criteria: scenarios compared")
	}
	var gone []string
	for id := range before {
		gone = append(gone, id)
	}
	sort.Strings(gone)
	for _, id := range gone {
		c.Notes = append(c.Notes, fmt.Sprintf("criterion %s was not judged in B", id))
	}
	return c, nil
}

func scenarioChanges(a, b *Record) []ScenarioChange {
	type key struct {
		uri, name string
		line      int
	}
	before := map[key]conformance.Status{}
	for _, s := range a.Scenarios {
		before[key{s.URI, s.Name, s.Line}] = s.Status
	}
	out := []ScenarioChange{}
	for _, s := range b.Scenarios {
		old, ok := before[key{s.URI, s.Name, s.Line}]
		if ok && old != s.Status {
			out = append(out, ScenarioChange{URI: s.URI, Line: s.Line, Name: s.Name, Before: old, After: s.Status})
		}
	}
	return out
}

// HistoryRun is one run in a criterion's history.
type HistoryRun struct {
	Source  string             `json:"source"`
	Started time.Time          `json:"started"`
	Status  conformance.Status `json:"status"`
}

// CriterionHistory is one criterion across runs: when it first failed and
// its current streak of failures.
type CriterionHistory struct {
	ID      string             `json:"id"`
	Level   conformance.Level  `json:"level"`
	Text    string             `json:"text,omitempty"`
	Current conformance.Status `json:"current"`
	// FirstFailed is the earliest run in which the criterion failed.
	FirstFailed *HistoryRun `json:"firstFailed,omitempty"`
	// StreakStart is the first failing run of the current streak: the
	// criterion failed in it and in every judged run since, up to the latest.
	StreakStart *HistoryRun `json:"streakStart,omitempty"`
	// StreakRuns counts the failing runs in the current streak.
	StreakRuns int `json:"streakRuns"`
	// StreakDays is the streak's length in calendar days (UTC), counting
	// both the day of its first and of its latest failing run.
	StreakDays int `json:"streakDays"`
	// Statuses lists the criterion's status in every run, oldest first
	// ("" when a run did not judge it).
	Statuses []conformance.Status `json:"statuses"`
}

// History is the criteria of a series of runs against one target.
type History struct {
	Target   string             `json:"target"`
	Runs     []RunSummary       `json:"runs"`
	Criteria []CriterionHistory `json:"criteria"`
	// Chain lists the breaks in the chain of sealed runs (see CheckChain).
	Chain []string `json:"chain"`
}

// SourcedRecord is a record with where it was read from.
type SourcedRecord struct {
	Source string
	Record *Record
}

// Histories groups records by target and returns the history of each,
// runs oldest first. A criterion's streak runs over its failing runs; runs
// where it could not be judged (error, skipped, absent) neither end nor
// extend a streak; a pass or a waiver ends it.
func Histories(records []SourcedRecord) []History {
	groups := map[string][]SourcedRecord{}
	for _, r := range records {
		groups[ChainKey(r.Record)] = append(groups[ChainKey(r.Record)], r)
	}
	var targets []string
	for t := range groups {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	out := []History{}
	for _, t := range targets {
		out = append(out, history(t, groups[t]))
	}
	return out
}

func history(target string, runs []SourcedRecord) History {
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].Record.Started.Before(runs[j].Record.Started) })
	h := History{Target: target, Runs: []RunSummary{}, Criteria: []CriterionHistory{}, Chain: []string{}}
	index := map[string]int{}
	for _, r := range runs {
		h.Runs = append(h.Runs, summaryOf(r.Source, r.Record))
	}
	for i, r := range runs {
		for _, v := range r.Record.Criteria {
			k, ok := index[v.ID]
			if !ok {
				k = len(h.Criteria)
				index[v.ID] = k
				h.Criteria = append(h.Criteria, CriterionHistory{ID: v.ID, Statuses: make([]conformance.Status, len(runs))})
			}
			c := &h.Criteria[k]
			c.Level, c.Text = v.Level, v.Text
			c.Statuses[i] = v.Status
		}
	}
	for k := range h.Criteria {
		c := &h.Criteria[k]
		var last *HistoryRun
		for i, s := range c.Statuses {
			run := &HistoryRun{Source: runs[i].Source, Started: runs[i].Record.Started, Status: s}
			if s != "" {
				c.Current = s
			}
			switch s {
			case conformance.StatusFail:
				if c.FirstFailed == nil {
					c.FirstFailed = run
				}
				if c.StreakStart == nil {
					c.StreakStart = run
				}
				c.StreakRuns++
				last = run
			case conformance.StatusPass, conformance.StatusWaived:
				c.StreakStart, c.StreakRuns, last = nil, 0, nil
			}
		}
		if c.StreakStart != nil && last != nil {
			c.StreakDays = calendarDays(c.StreakStart.Started, last.Started)
		}
	}
	sort.Slice(h.Criteria, func(i, j int) bool { return h.Criteria[i].ID < h.Criteria[j].ID })
	return h
}

func calendarDays(from, to time.Time) int {
	a := time.Date(from.UTC().Year(), from.UTC().Month(), from.UTC().Day(), 0, 0, 0, 0, time.UTC)
	b := time.Date(to.UTC().Year(), to.UTC().Month(), to.UTC().Day(), 0, 0, 0, 0, time.UTC)
	return int(b.Sub(a).Hours()/24) + 1
}

// FindRecords expands paths into run records: a record file, a bundle
// folder or zip, or a folder of runs (its bundle folders and zips; a zip
// beside a folder of the same name is the same run and is read once). The
// records come back without their scenarios, so that years of runs fit in
// memory: a history needs the verdicts only.
func FindRecords(paths []string) ([]SourcedRecord, error) {
	var out []SourcedRecord
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("find runs: %w", err)
		}
		if !st.IsDir() || isBundleDir(p) {
			rec, err := ReadRecord(p)
			if err != nil {
				return nil, err
			}
			rec.Scenarios = nil
			out = append(out, SourcedRecord{Source: p, Record: rec})
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("find runs in %s: %w", p, err)
		}
		dirs := map[string]bool{}
		for _, e := range entries {
			if e.IsDir() && isBundleDir(filepath.Join(p, e.Name())) {
				dirs[e.Name()] = true
			}
		}
		found := 0
		for _, e := range entries {
			name := e.Name()
			full := filepath.Join(p, name)
			switch {
			case dirs[name]:
			case !e.IsDir() && strings.EqualFold(filepath.Ext(name), ".zip") && !dirs[strings.TrimSuffix(name, filepath.Ext(name))]:
			default:
				continue
			}
			rec, err := ReadRecord(full)
			if err != nil {
				return nil, err
			}
			rec.Scenarios = nil
			out = append(out, SourcedRecord{Source: full, Record: rec})
			found++
		}
		if found == 0 {
			return nil, fmt.Errorf("find runs in %s: no evidence bundle (a folder holding %s, or its zip) found", p, RecordFile)
		}
	}
	return out, nil
}

func isBundleDir(p string) bool {
	st, err := os.Stat(filepath.Join(p, RecordFile))
	return err == nil && st.Mode().IsRegular()
}
