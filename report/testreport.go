package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/runner"
)

func init() {
	register(Format{Name: "testreport", File: "testreport.json", Description: "FHIR R4 TestReport resources, one per scenario, in a collection Bundle", Write: writeTestReport})
}

// TestScriptSystem is the identifier system of the TestScript a TestReport
// names: the scenario's feature file and line inside its pack source.
const TestScriptSystem = "https://github.com/nhsconform/conform/scenarios"

func fhirInstant(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// stableUUID derives a UUID (version 4 layout) from parts, so that the same
// record always gives the same Bundle.
func stableUUID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	b := sum[:16]
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func testReportResult(s conformance.Status) string {
	switch s {
	case conformance.StatusPass, conformance.StatusWaived:
		return "pass"
	case conformance.StatusSkipped:
		return "pending"
	}
	return "fail"
}

func actionResult(s conformance.Status) string {
	switch s {
	case conformance.StatusPass:
		return "pass"
	case conformance.StatusFail:
		return "fail"
	case conformance.StatusSkipped:
		return "skip"
	}
	return "error"
}

// TestReports returns the record as a FHIR collection Bundle of TestReport
// resources, one per scenario, in the shapes of encoding/json decoding.
func TestReports(rec *Record, now time.Time) map[string]any {
	tool := strings.TrimSpace(rec.Tool.Name + " " + rec.Tool.Version)
	runKey := rec.RunID + "\x00" + rec.Started.Format(time.RFC3339Nano) + "\x00" + rec.Target
	entries := []any{}
	for i, s := range rec.Scenarios {
		id := stableUUID(runKey, fmt.Sprint(i), s.URI, fmt.Sprint(s.Line))
		entries = append(entries, map[string]any{
			"fullUrl":  "urn:uuid:" + id,
			"resource": scenarioTestReport(rec, s, id, tool),
		})
	}
	bundle := map[string]any{
		"resourceType": "Bundle",
		"id":           stableUUID(runKey, "bundle"),
		"meta":         map[string]any{"lastUpdated": fhirInstant(now)},
		"identifier":   map[string]any{"system": "urn:ietf:rfc:3986", "value": "urn:uuid:" + stableUUID(runKey, "bundle")},
		"type":         "collection",
		"timestamp":    fhirInstant(now),
	}
	if len(entries) > 0 {
		bundle["entry"] = entries
	}
	return bundle
}

func scenarioTestReport(rec *Record, s runner.Scenario, id, tool string) map[string]any {
	script := map[string]any{
		"identifier": map[string]any{"system": TestScriptSystem, "value": fmt.Sprintf("%s:%d", s.URI, s.Line)},
		"display":    s.Feature,
	}
	if pack := rec.packOf(s); pack != "" {
		for _, p := range rec.Packs {
			if p.ID == pack {
				script["display"] = fmt.Sprintf("%s: pack %s %s (%s)", s.Feature, p.ID, p.Version, p.Hash)
			}
		}
	}
	tr := map[string]any{
		"resourceType": "TestReport",
		"id":           id,
		"identifier":   map[string]any{"system": "urn:ietf:rfc:3986", "value": "urn:uuid:" + id},
		"status":       "completed",
		"testScript":   script,
		"result":       testReportResult(s.Status),
		"issued":       fhirInstant(s.Started.Add(s.Duration)),
	}
	if s.Name != "" {
		tr["name"] = s.Name
	}
	if tool != "" {
		tr["tester"] = tool
	}
	participants := []any{map[string]any{"type": "test-engine", "uri": "urn:uuid:" + stableUUID(tool), "display": tool}}
	if rec.Target != "" && !strings.ContainsAny(rec.Target, " \t\r\n") {
		participants = append(participants, map[string]any{"type": "server", "uri": rec.Target})
	}
	tr["participant"] = participants
	actions := []any{}
	assertion := false
	for _, st := range s.Steps {
		switch strings.TrimSpace(st.Keyword) {
		case "Then":
			assertion = true
		case "Given", "When":
			assertion = false
		}
		detail := map[string]any{"result": actionResult(st.Status)}
		message := strings.TrimSpace(fmt.Sprintf("%s %s", strings.TrimSpace(st.Keyword), st.Text))
		if st.Error != "" {
			message += "\n\n" + st.Error
		}
		if message != "" {
			detail["message"] = message
		}
		kind := "operation"
		if assertion {
			kind = "assert"
		}
		actions = append(actions, map[string]any{kind: detail})
	}
	test := map[string]any{}
	if s.Name != "" {
		test["name"] = s.Name
	}
	if crit := rec.scenarioCriteria(s); len(crit) > 0 {
		test["description"] = "Evidence for " + strings.Join(crit, ", ") + "; status " + string(s.Status)
	} else {
		test["description"] = "Status " + string(s.Status)
	}
	if len(actions) > 0 {
		test["action"] = actions
		tr["test"] = []any{test}
	}
	return tr
}

func writeTestReport(w io.Writer, rec *Record, opts Options) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(TestReports(rec, opts.now(rec)))
}
