package runner

import (
	"time"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/runner/fhirclient"
	"github.com/nhsconform/conform/runner/steps"
)

// Record is the plain-data account of a run: every scenario, step, status
// and exchange. Reports and evidence bundles are made from it.
type Record struct {
	RunID     string        `json:"runId"`
	Target    string        `json:"target"`
	Tags      string        `json:"tags,omitempty"`
	Started   time.Time     `json:"started"`
	Duration  time.Duration `json:"durationNs"`
	Receiver  string        `json:"receiver,omitempty"`
	Scenarios []Scenario    `json:"scenarios"`
}

// Scenario is one executed scenario (one row of a Scenario Outline).
type Scenario struct {
	ID string `json:"id"`
	// Feature is the feature's name; URI its file inside the features folder.
	Feature  string             `json:"feature"`
	URI      string             `json:"uri"`
	Name     string             `json:"name"`
	Line     int                `json:"line"`
	Tags     []string           `json:"tags,omitempty"`
	Status   conformance.Status `json:"status"`
	Started  time.Time          `json:"started"`
	Duration time.Duration      `json:"durationNs"`
	Steps    []Step             `json:"steps"`
	finished bool
}

// Step is one step of a scenario with what it produced.
type Step struct {
	Keyword string             `json:"keyword"`
	Text    string             `json:"text"`
	Line    int                `json:"line"`
	Status  conformance.Status `json:"status"`
	Error   string             `json:"error,omitempty"`
	// Suggestion names the closest known step when this one is undefined.
	Suggestion string                `json:"suggestion,omitempty"`
	Started    time.Time             `json:"started"`
	Duration   time.Duration         `json:"durationNs"`
	Exchanges  []fhirclient.Exchange `json:"exchanges,omitempty"`
	Outcomes   []conformance.Outcome `json:"outcomes,omitempty"`
	Received   []steps.Received      `json:"received,omitempty"`
}

// Counts tallies scenarios by status.
type Counts map[conformance.Status]int

// Counts returns how many scenarios ended in each status.
func (r *Record) Counts() Counts {
	c := Counts{}
	for _, s := range r.Scenarios {
		c[s.Status]++
	}
	return c
}

// ExitCode is the run's exit status: 3 when any step could not be executed
// (error, undefined or ambiguous), else 1 when any scenario failed, else 0.
func (r *Record) ExitCode() conformance.ExitCode {
	c := r.Counts()
	switch {
	case c[conformance.StatusError] > 0 || c[conformance.StatusUndefined] > 0:
		return conformance.ExitIncomplete
	case c[conformance.StatusFail] > 0:
		return conformance.ExitFail
	}
	return conformance.ExitPass
}

// scenarioStatus derives a scenario's status from its steps: the first step
// that did not pass decides; skipped steps after it do not count.
func scenarioStatus(steps []Step) conformance.Status {
	if len(steps) == 0 {
		return conformance.StatusUndefined
	}
	status := conformance.StatusPass
	for _, s := range steps {
		switch s.Status {
		case conformance.StatusError, conformance.StatusUndefined:
			return s.Status
		case conformance.StatusFail:
			status = conformance.StatusFail
		case conformance.StatusSkipped:
			if status == conformance.StatusPass {
				status = conformance.StatusSkipped
			}
		}
	}
	return status
}
