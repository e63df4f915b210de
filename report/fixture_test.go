package report

import (
	"net/http"
	"time"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/runner"
	"github.com/nhsconform/conform/runner/fhirclient"
	"github.com/nhsconform/conform/scenarios/suite"
)

var fixedStart = time.Date(2026, 6, 1, 9, 30, 0, 0, time.UTC)

func at(ms int) time.Time {
	return fixedStart.Add(time.Duration(ms) * time.Millisecond)
}

func step(keyword, text string, line int, status conformance.Status, ms int) runner.Step {
	return runner.Step{Keyword: keyword, Text: text, Line: line, Status: status, Started: at(ms), Duration: 2 * time.Millisecond}
}

// fixtureSuite is a small suite result with every status, an exchange with
// bodies, a validation outcome and criteria of two packs.
func fixtureSuite() *suite.Result {
	create := step("When", `I send a POST request to "Patient" with body from "fixtures/patient.json"`, 11, conformance.StatusPass, 10)
	create.Exchanges = []fhirclient.Exchange{{
		Method: "POST", URL: "https://ehr.example.org/fhir/Patient",
		RequestHeaders: http.Header{"Content-Type": {"application/fhir+json"}},
		RequestBody:    `{"resourceType":"Patient","name":[{"family":"Smith <b>"}]}`,
		Status:         201, ResponseHeaders: http.Header{"Location": {"https://ehr.example.org/fhir/Patient/1/_history/1"}},
		ResponseBody: `{"resourceType":"Patient","id":"1"}`,
		Started:      at(10), Duration: 7 * time.Millisecond,
		Attempts: []fhirclient.Attempt{{Number: 1, Started: at(10), Duration: 7 * time.Millisecond, Status: 201, Connected: true}},
	}}
	check := step("Then", "the response status is 201", 12, conformance.StatusPass, 20)
	valid := step("And", "the response body is valid against UK Core", 13, conformance.StatusFail, 22)
	valid.Error = "Patient.identifier: minimum required = 1, but only found 0"
	valid.Outcomes = []conformance.Outcome{{Source: "response", Profiles: []string{"https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"},
		Issues: []conformance.Issue{{Severity: conformance.SeverityError, Code: "structure", Expression: "Patient.identifier", Message: "minimum required = 1, but only found 0"}}}}
	unreachable := step("When", `I send a GET request to "metadata"`, 20, conformance.StatusError, 40)
	unreachable.Error = "GET https://ehr.example.org/fhir/metadata: connection refused"
	unreachable.Exchanges = []fhirclient.Exchange{{Method: "GET", URL: "https://ehr.example.org/fhir/metadata", Started: at(40), Duration: time.Millisecond,
		Error: "connection refused", ErrorKind: fhirclient.KindUnreachable,
		Attempts: []fhirclient.Attempt{{Number: 1, Started: at(40), Duration: time.Millisecond, Error: "connection refused"}}}}
	undefined := step("Given", "a step nobody wrote", 30, conformance.StatusUndefined, 60)
	undefined.Suggestion = `I store "VALUE" as "NAME"`
	rec := &runner.Record{
		RunID: "run-1", Target: "https://ehr.example.org/fhir", Started: fixedStart, Duration: 2 * time.Second,
		Scenarios: []runner.Scenario{
			{ID: "1", Feature: "Admission", URI: "admission/admission.feature", Name: "Creating a Patient", Line: 10,
				Tags: []string{"@admission", "@ADM-01", "@MUST"}, Status: conformance.StatusFail, Started: at(10), Duration: 20 * time.Millisecond,
				Steps: []runner.Step{create, check, valid}},
			{ID: "2", Feature: "Admission", URI: "admission/admission.feature", Name: "Reading the CapabilityStatement", Line: 19,
				Tags: []string{"@ADM-02", "@MUST"}, Status: conformance.StatusError, Started: at(40), Duration: 5 * time.Millisecond,
				Steps: []runner.Step{unreachable, step("Then", "the response status is 200", 21, conformance.StatusSkipped, 45)}},
			{ID: "3", Feature: "Discharge", URI: "discharge/discharge.feature", Name: "Undefined wording", Line: 29,
				Tags: []string{"@DIS-01", "@SHOULD"}, Status: conformance.StatusUndefined, Started: at(60), Duration: time.Millisecond,
				Steps: []runner.Step{undefined}},
			{ID: "4", Feature: "Discharge", URI: "discharge/discharge.feature", Name: "Finishing the Encounter", Line: 40,
				Tags: []string{"@DIS-02", "@MUST"}, Status: conformance.StatusPass, Started: at(70), Duration: 3 * time.Millisecond,
				Steps: []runner.Step{step("Given", `I store "x" as "y"`, 41, conformance.StatusPass, 70)}},
		},
	}
	criteria := []conformance.CriterionVerdict{
		{ID: "ADM-01", Level: conformance.LevelMust, Text: "A create answers 201 with a valid Patient.", Status: conformance.StatusFail, Scenarios: []string{"Creating a Patient"}},
		{ID: "ADM-02", Level: conformance.LevelMust, Text: "The server publishes its CapabilityStatement.", Status: conformance.StatusError, Scenarios: []string{"Reading the CapabilityStatement"}},
		{ID: "DIS-01", Level: conformance.LevelShould, Text: "Discharge notification.", Status: conformance.StatusError, Scenarios: []string{"Undefined wording"}},
		{ID: "DIS-02", Level: conformance.LevelMust, Text: "Finishing the Encounter.", Status: conformance.StatusPass, Scenarios: []string{"Finishing the Encounter"}},
	}
	return &suite.Result{
		Target: rec.Target, Capability: "CapabilityStatement read: 0 scenarios skipped", Status: conformance.StatusFail,
		Packs: []suite.PackResult{
			{ID: "admission", Version: "1.0.0", Title: "Admission", Hash: "sha256:" + repeat("a", 64), UKCore: "fhir.r4.ukcore.stu2#2.0.2", Status: conformance.StatusFail, Criteria: criteria[:2]},
			{ID: "discharge", Version: "1.0.0", Title: "Discharge", Hash: "sha256:" + repeat("b", 64), UKCore: "fhir.r4.ukcore.stu2#2.0.2", Status: conformance.StatusError, Criteria: criteria[2:],
				Skipped: []suite.Skip{{Scenario: "Discharge message", URI: "discharge/discharge.feature", Line: 50, Criteria: []string{"DIS-03"}, Reason: "the server does not declare Encounter.update"}}},
		},
		Criteria: criteria,
		Record:   rec,
	}
}

func repeat(s string, n int) string {
	out := ""
	for i := 0; i < n; i++ {
		out += s
	}
	return out
}

func fixtureRecord(waivers ...conformance.Waiver) (*Record, error) {
	return Build(Input{
		ToolVersion: "1.2.3",
		Suite:       fixtureSuite(),
		Packages:    []Package{{ID: "hl7.fhir.r4.core#4.0.1", Hash: "sha256:" + repeat("c", 64)}, {ID: "fhir.r4.ukcore.stu2#2.0.2", Hash: "sha256:" + repeat("d", 64)}},
		Labels:      map[string]string{"supplier": "Acme EHR", "lot": "2"},
		Waivers:     waivers,
		Ended:       fixedStart.Add(2 * time.Second),
	})
}
