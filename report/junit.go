package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/runner"
)

func init() {
	register(Format{Name: "junit", File: "junit.xml", Description: "JUnit XML: one test suite per feature, a failure for a failed scenario and an error for one that could not complete", Write: writeJUnit})
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitProblem `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr,omitempty"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", d.Seconds())
}

func writeJUnit(w io.Writer, rec *Record, _ Options) error {
	out := junitSuites{Name: "conform " + rec.Target, Time: seconds(rec.Ended.Sub(rec.Started))}
	index := map[string]int{}
	for _, s := range rec.Scenarios {
		i, ok := index[s.URI]
		if !ok {
			i = len(out.Suites)
			index[s.URI] = i
			out.Suites = append(out.Suites, junitSuite{
				Name: s.Feature, Timestamp: s.Started.UTC().Format("2006-01-02T15:04:05"),
				Properties: []junitProperty{{Name: "uri", Value: s.URI}, {Name: "target", Value: rec.Target}},
			})
		}
		suite := &out.Suites[i]
		c := junitCase{Name: s.Name, Classname: strings.TrimSuffix(s.URI, ".feature"), File: s.URI, Line: s.Line, Time: seconds(s.Duration)}
		if crit := rec.scenarioCriteria(s); len(crit) > 0 {
			c.SystemOut = "criteria: " + strings.Join(crit, ", ")
		}
		message, detail := firstProblem(s)
		switch s.Status {
		case conformance.StatusFail:
			c.Failure = &junitProblem{Message: message, Type: "fail", Body: detail}
			suite.Failures++
		case conformance.StatusError, conformance.StatusUndefined:
			c.Error = &junitProblem{Message: message, Type: string(s.Status), Body: detail}
			suite.Errors++
		case conformance.StatusSkipped:
			c.Skipped = &junitProblem{Message: message}
			suite.Skipped++
		}
		suite.Tests++
		suite.Cases = append(suite.Cases, c)
	}
	for i := range out.Suites {
		s := &out.Suites[i]
		var d time.Duration
		for _, sc := range rec.Scenarios {
			if sc.URI == s.Properties[0].Value {
				d += sc.Duration
			}
		}
		s.Time = seconds(d)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Skipped += s.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// firstProblem returns a one-line message and the detail of the first step
// that did not pass.
func firstProblem(s runner.Scenario) (string, string) {
	for _, st := range s.Steps {
		if st.Status == conformance.StatusPass || st.Status == conformance.StatusSkipped {
			continue
		}
		msg := st.Error
		if msg == "" {
			msg = string(st.Status)
		}
		if st.Suggestion != "" {
			msg += " (did you mean: " + st.Suggestion + ")"
		}
		line, _, _ := strings.Cut(msg, "\n")
		return fmt.Sprintf("%s %s: %s", st.Keyword, st.Text, line), fmt.Sprintf("line %d: %s %s\n%s", st.Line, st.Keyword, st.Text, msg)
	}
	if s.Status == conformance.StatusSkipped {
		return "skipped", ""
	}
	return string(s.Status), ""
}
