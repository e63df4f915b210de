package conformance

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Criterion is one pre-defined acceptance criterion of a pack.
type Criterion struct {
	ID    string `json:"id"`
	Level Level  `json:"level"`
	Text  string `json:"text"`
	// Source names the standard, page or element the criterion comes from.
	Source string `json:"source,omitempty"`
}

// ScenarioOutcome is what verdicts need of one executed scenario.
type ScenarioOutcome struct {
	Name   string   `json:"name"`
	Tags   []string `json:"tags"`
	Status Status   `json:"status"`
}

// Waiver accepts a known failure of one criterion until it expires.
type Waiver struct {
	Criterion string `json:"criterion"`
	Reason    string `json:"reason"`
	By        string `json:"by"`
	// Expires is the last day (YYYY-MM-DD, UTC) on which the waiver applies.
	Expires string `json:"expires"`
}

// Expired reports whether the waiver no longer applies at now.
func (w Waiver) Expired(now time.Time) (bool, error) {
	day, err := time.Parse(time.DateOnly, w.Expires)
	if err != nil {
		return false, fmt.Errorf("waiver for %s: expiry %q is not a date (YYYY-MM-DD): %w", w.Criterion, w.Expires, err)
	}
	return now.UTC().After(day.Add(24 * time.Hour)), nil
}

// CriterionVerdict is the status of one criterion over a run.
type CriterionVerdict struct {
	ID        string   `json:"id"`
	Level     Level    `json:"level"`
	Text      string   `json:"text,omitempty"`
	Status    Status   `json:"status"`
	Scenarios []string `json:"scenarios,omitempty"`
	// Waiver is the waiver that turned a failure into StatusWaived.
	Waiver *Waiver `json:"waiver,omitempty"`
}

// statusRank orders scenario statuses by how much they weigh in a verdict.
var statusRank = map[Status]int{
	StatusPass: 0, StatusSkipped: 1, StatusUndefined: 2, StatusError: 3, StatusFail: 4,
}

// CriterionTag returns the criterion id a scenario tag names ("@ADM-01" ->
// "ADM-01"), or "" for level tags and other tags.
func CriterionTag(tag string) string {
	t := strings.TrimPrefix(tag, "@")
	switch Level(t) {
	case LevelMust, LevelShould, LevelMay:
		return ""
	}
	return t
}

// Verdicts computes one verdict per criterion: pass when every scenario
// tagged with it passed, fail when one failed, error when one could not be
// judged (error or undefined), skipped when all were skipped, and error when
// no scenario ran for it. An unexpired waiver turns fail or error into waived.
func Verdicts(criteria []Criterion, scenarios []ScenarioOutcome, waivers []Waiver, now time.Time) ([]CriterionVerdict, error) {
	byID := map[string]*CriterionVerdict{}
	out := make([]CriterionVerdict, len(criteria))
	for i, c := range criteria {
		out[i] = CriterionVerdict{ID: c.ID, Level: c.Level, Text: c.Text}
		byID[c.ID] = &out[i]
	}
	worst := map[string]Status{}
	for _, s := range scenarios {
		for _, tag := range s.Tags {
			id := CriterionTag(tag)
			v, ok := byID[id]
			if id == "" || !ok {
				continue
			}
			v.Scenarios = append(v.Scenarios, s.Name)
			prev, seen := worst[id]
			if !seen || statusRank[s.Status] > statusRank[prev] {
				worst[id] = s.Status
			}
		}
	}
	waived := map[string]Waiver{}
	for _, w := range waivers {
		if _, ok := byID[w.Criterion]; !ok {
			return nil, fmt.Errorf("waiver names unknown criterion %q", w.Criterion)
		}
		expired, err := w.Expired(now)
		if err != nil {
			return nil, err
		}
		if !expired {
			waived[w.Criterion] = w
		}
	}
	for i := range out {
		v := &out[i]
		s, ran := worst[v.ID]
		switch {
		case !ran:
			v.Status = StatusError
		case s == StatusUndefined:
			v.Status = StatusError
		default:
			v.Status = s
		}
		if w, ok := waived[v.ID]; ok && (v.Status == StatusFail || v.Status == StatusError) {
			v.Status = StatusWaived
			v.Waiver = &w
		}
		sort.Strings(v.Scenarios)
	}
	return out, nil
}

// Overall is the verdict over criteria: fail when a MUST criterion failed,
// error when none failed but a MUST criterion could not be judged, pass
// otherwise. SHOULD and MAY criteria are reported but do not decide it.
func Overall(verdicts []CriterionVerdict) Status {
	overall := StatusPass
	for _, v := range verdicts {
		if v.Level != LevelMust {
			continue
		}
		switch v.Status {
		case StatusFail:
			return StatusFail
		case StatusError:
			overall = StatusError
		}
	}
	return overall
}

// ExitCodeFor maps an overall status to the process exit code.
func ExitCodeFor(s Status) ExitCode {
	switch s {
	case StatusFail:
		return ExitFail
	case StatusError, StatusUndefined:
		return ExitIncomplete
	}
	return ExitPass
}
