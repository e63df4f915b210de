package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"strconv"
	"time"

	gherkin "github.com/cucumber/gherkin/go/v26"
	messages "github.com/cucumber/messages/go/v21"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/runner"
)

func init() {
	register(Format{Name: "ndjson", File: "messages.ndjson", Description: "Cucumber Messages (NDJSON, protocol 21): sources, pickles, test cases, step results, exchanges as attachments", Write: writeNDJSON})
}

// MessagesProtocolVersion is the Cucumber Messages protocol the ndjson format writes.
const MessagesProtocolVersion = "21.0.1"

// maxSourceBytes bounds a feature file read for the ndjson format.
const maxSourceBytes = 4 << 20

type ndjsonWriter struct {
	enc  *json.Encoder
	next int
	err  error
}

func (n *ndjsonWriter) id() string {
	n.next++
	return strconv.Itoa(n.next)
}

func (n *ndjsonWriter) emit(e *messages.Envelope) {
	if n.err == nil {
		n.err = n.enc.Encode(e)
	}
}

func timestamp(t time.Time) *messages.Timestamp {
	ts := messages.GoTimeToTimestamp(t)
	return &ts
}

func duration(d time.Duration) *messages.Duration {
	md := messages.GoDurationToDuration(d)
	return &md
}

func messageStatus(s conformance.Status) messages.TestStepResultStatus {
	switch s {
	case conformance.StatusPass:
		return messages.TestStepResultStatus_PASSED
	case conformance.StatusFail, conformance.StatusError:
		return messages.TestStepResultStatus_FAILED
	case conformance.StatusUndefined:
		return messages.TestStepResultStatus_UNDEFINED
	case conformance.StatusSkipped:
		return messages.TestStepResultStatus_SKIPPED
	}
	return messages.TestStepResultStatus_UNKNOWN
}

type pickleKey struct {
	uri  string
	line int
}

func writeNDJSON(w io.Writer, rec *Record, opts Options) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	n := &ndjsonWriter{enc: enc}
	n.emit(&messages.Envelope{Meta: &messages.Meta{
		ProtocolVersion: MessagesProtocolVersion,
		Implementation:  &messages.Product{Name: rec.Tool.Name, Version: rec.Tool.Version},
		Runtime:         &messages.Product{Name: "go"},
		Os:              &messages.Product{Name: runtime.GOOS},
		Cpu:             &messages.Product{Name: runtime.GOARCH},
	}})
	pickles := map[pickleKey]*messages.Pickle{}
	if opts.Sources != nil {
		seen := map[string]bool{}
		for _, s := range rec.Scenarios {
			if seen[s.URI] {
				continue
			}
			seen[s.URI] = true
			if err := n.source(opts.Sources, s.URI, pickles); err != nil {
				return err
			}
		}
	}
	type planned struct {
		scenario runner.Scenario
		pickle   *messages.Pickle
		testCase *messages.TestCase
	}
	plan := make([]planned, 0, len(rec.Scenarios))
	for _, s := range rec.Scenarios {
		p := pickles[pickleKey{s.URI, s.Line}]
		if p == nil || len(p.Steps) != len(s.Steps) {
			p = n.syntheticPickle(s)
		}
		n.emit(&messages.Envelope{Pickle: p})
		plan = append(plan, planned{scenario: s, pickle: p})
	}
	n.emit(&messages.Envelope{TestRunStarted: &messages.TestRunStarted{Timestamp: timestamp(rec.Started)}})
	for i := range plan {
		tc := &messages.TestCase{Id: n.id(), PickleId: plan[i].pickle.Id}
		for _, ps := range plan[i].pickle.Steps {
			tc.TestSteps = append(tc.TestSteps, &messages.TestStep{Id: n.id(), PickleStepId: ps.Id})
		}
		plan[i].testCase = tc
		n.emit(&messages.Envelope{TestCase: tc})
	}
	for _, p := range plan {
		s := p.scenario
		started := n.id()
		n.emit(&messages.Envelope{TestCaseStarted: &messages.TestCaseStarted{Id: started, TestCaseId: p.testCase.Id, Timestamp: timestamp(s.Started)}})
		for i, st := range s.Steps {
			stepID := p.testCase.TestSteps[i].Id
			n.emit(&messages.Envelope{TestStepStarted: &messages.TestStepStarted{TestCaseStartedId: started, TestStepId: stepID, Timestamp: timestamp(st.Started)}})
			for _, ex := range st.Exchanges {
				body, err := json.Marshal(ex)
				if err != nil {
					return fmt.Errorf("encode exchange: %w", err)
				}
				n.emit(&messages.Envelope{Attachment: &messages.Attachment{
					Body: string(body), ContentEncoding: messages.AttachmentContentEncoding_IDENTITY,
					FileName: ex.Method + " " + ex.URL, MediaType: "application/json",
					TestCaseStartedId: started, TestStepId: stepID,
				}})
			}
			for _, o := range st.Outcomes {
				body, err := json.Marshal(o)
				if err != nil {
					return fmt.Errorf("encode validation outcome: %w", err)
				}
				n.emit(&messages.Envelope{Attachment: &messages.Attachment{
					Body: string(body), ContentEncoding: messages.AttachmentContentEncoding_IDENTITY,
					FileName: "validation " + o.Source, MediaType: "application/json",
					TestCaseStartedId: started, TestStepId: stepID,
				}})
			}
			n.emit(&messages.Envelope{TestStepFinished: &messages.TestStepFinished{
				TestCaseStartedId: started, TestStepId: stepID, Timestamp: timestamp(st.Started.Add(st.Duration)),
				TestStepResult: &messages.TestStepResult{Duration: duration(st.Duration), Status: messageStatus(st.Status), Message: st.Error},
			}})
		}
		n.emit(&messages.Envelope{TestCaseFinished: &messages.TestCaseFinished{TestCaseStartedId: started, Timestamp: timestamp(s.Started.Add(s.Duration))}})
	}
	n.emit(&messages.Envelope{TestRunFinished: &messages.TestRunFinished{
		Success: rec.Status == conformance.StatusPass, Timestamp: timestamp(rec.Ended),
		Message: "overall: " + string(rec.Status),
	}})
	return n.err
}

// source emits the feature file's source and gherkinDocument and indexes
// its pickles by the line the runner records for a scenario.
func (n *ndjsonWriter) source(fsys fs.FS, uri string, pickles map[pickleKey]*messages.Pickle) error {
	f, err := fsys.Open(uri)
	if err != nil {
		return nil
	}
	data, err := readBounded(f, maxSourceBytes)
	f.Close()
	if err != nil {
		return nil
	}
	doc, err := gherkin.ParseGherkinDocument(bytes.NewReader(data), n.id)
	if err != nil {
		return nil
	}
	doc.Uri = uri
	n.emit(&messages.Envelope{Source: &messages.Source{Uri: uri, Data: string(data), MediaType: messages.SourceMediaType_TEXT_X_CUCUMBER_GHERKIN_PLAIN}})
	n.emit(&messages.Envelope{GherkinDocument: doc})
	lines := astLines(doc)
	for _, p := range gherkin.Pickles(*doc, uri, n.id) {
		if len(p.AstNodeIds) == 0 {
			continue
		}
		line := lines[p.AstNodeIds[len(p.AstNodeIds)-1]]
		pickles[pickleKey{uri, line}] = p
	}
	return nil
}

// astLines maps the ids of scenarios and example rows to their lines.
func astLines(doc *messages.GherkinDocument) map[string]int {
	lines := map[string]int{}
	if doc.Feature == nil {
		return lines
	}
	addScenario := func(s *messages.Scenario) {
		lines[s.Id] = int(s.Location.Line)
		for _, ex := range s.Examples {
			for _, row := range ex.TableBody {
				lines[row.Id] = int(row.Location.Line)
			}
		}
	}
	for _, c := range doc.Feature.Children {
		if c.Scenario != nil {
			addScenario(c.Scenario)
		}
		if c.Rule != nil {
			for _, rc := range c.Rule.Children {
				if rc.Scenario != nil {
					addScenario(rc.Scenario)
				}
			}
		}
	}
	return lines
}

// syntheticPickle describes a scenario whose feature source is not at hand.
func (n *ndjsonWriter) syntheticPickle(s runner.Scenario) *messages.Pickle {
	p := &messages.Pickle{Id: n.id(), Uri: s.URI, Name: s.Name, Language: "en", AstNodeIds: []string{}, Tags: []*messages.PickleTag{}}
	for _, st := range s.Steps {
		p.Steps = append(p.Steps, &messages.PickleStep{Id: n.id(), Text: st.Text, AstNodeIds: []string{}})
	}
	for _, t := range s.Tags {
		p.Tags = append(p.Tags, &messages.PickleTag{Name: t})
	}
	if p.Steps == nil {
		p.Steps = []*messages.PickleStep{}
	}
	return p
}
