package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"
	"testing/fstest"

	messages "github.com/cucumber/messages/go/v21"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const admissionFeature = `@admission
Feature: Admission
  The hospital registers the patient
  and upserts the Encounter.

  Background:
    Given I store "x" as "y"

  @ADM-01 @MUST
  Scenario: Creating a Patient
    When I send a POST request to "Patient" with body from "fixtures/patient.json"
    Then the response status is 201
`

// checkMessages decodes an NDJSON stream strictly and checks that every id
// a message refers to was defined by an earlier message.
func checkMessages(t *testing.T, data []byte) map[string]int {
	t.Helper()
	kinds := map[string]int{}
	pickles, pickleSteps, testCases, testSteps, started := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var env messages.Envelope
		require.NoError(t, dec.Decode(&env), sc.Text())
		switch {
		case env.Meta != nil:
			kinds["meta"]++
			assert.Equal(t, MessagesProtocolVersion, env.Meta.ProtocolVersion)
		case env.Source != nil:
			kinds["source"]++
		case env.GherkinDocument != nil:
			kinds["gherkinDocument"]++
		case env.Pickle != nil:
			kinds["pickle"]++
			if len(env.Pickle.AstNodeIds) > 0 {
				kinds["pickle from source"]++
			}
			pickles[env.Pickle.Id] = true
			for _, s := range env.Pickle.Steps {
				pickleSteps[s.Id] = true
			}
		case env.TestRunStarted != nil:
			kinds["testRunStarted"]++
		case env.TestCase != nil:
			kinds["testCase"]++
			assert.True(t, pickles[env.TestCase.PickleId], "testCase names pickle %s", env.TestCase.PickleId)
			testCases[env.TestCase.Id] = true
			for _, s := range env.TestCase.TestSteps {
				assert.True(t, pickleSteps[s.PickleStepId], "testStep names pickle step %s", s.PickleStepId)
				testSteps[s.Id] = true
			}
		case env.TestCaseStarted != nil:
			kinds["testCaseStarted"]++
			assert.True(t, testCases[env.TestCaseStarted.TestCaseId])
			started[env.TestCaseStarted.Id] = true
		case env.TestStepStarted != nil:
			kinds["testStepStarted"]++
			assert.True(t, started[env.TestStepStarted.TestCaseStartedId])
			assert.True(t, testSteps[env.TestStepStarted.TestStepId])
		case env.Attachment != nil:
			kinds["attachment"]++
			assert.True(t, started[env.Attachment.TestCaseStartedId])
			assert.True(t, testSteps[env.Attachment.TestStepId])
			assert.True(t, json.Valid([]byte(env.Attachment.Body)))
		case env.TestStepFinished != nil:
			kinds["testStepFinished"]++
			assert.True(t, testSteps[env.TestStepFinished.TestStepId])
			assert.NotEmpty(t, env.TestStepFinished.TestStepResult.Status)
		case env.TestCaseFinished != nil:
			kinds["testCaseFinished"]++
			assert.True(t, started[env.TestCaseFinished.TestCaseStartedId])
		case env.TestRunFinished != nil:
			kinds["testRunFinished"]++
		default:
			t.Fatalf("empty envelope: %s", sc.Text())
		}
	}
	require.NoError(t, sc.Err())
	return kinds
}

func TestNDJSONMessagesReferToEachOther(t *testing.T) {
	rec, err := fixtureRecord()
	require.NoError(t, err)
	tests := []struct {
		name    string
		sources fstest.MapFS
		want    map[string]int
	}{
		{name: "without sources", want: map[string]int{"meta": 1, "pickle": 4, "testRunStarted": 1, "testCase": 4, "testCaseStarted": 4,
			"testStepStarted": 7, "testStepFinished": 7, "attachment": 3, "testCaseFinished": 4, "testRunFinished": 1}},
		{name: "with the feature source", sources: fstest.MapFS{"admission/admission.feature": {Data: []byte(admissionFeature)}},
			want: map[string]int{"source": 1, "gherkinDocument": 1, "pickle": 4, "pickle from source": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{}
			if tc.sources != nil {
				opts.Sources = tc.sources
			}
			data, err := Render("ndjson", rec, opts, nil)
			require.NoError(t, err)
			kinds := checkMessages(t, data)
			for k, n := range tc.want {
				assert.Equal(t, n, kinds[k], k)
			}
		})
	}
}
