package validate

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
)

const testQuestionnaire = `{"resourceType": "Questionnaire", "url": "http://example.org/Questionnaire/q", "status": "active", "item": [
	{"linkId": "smoker", "text": "Do you smoke?", "type": "boolean", "required": true},
	{"linkId": "colour", "text": "Colour", "type": "choice", "answerOption": [
		{"valueCoding": {"system": "http://example.org/colours", "code": "red"}},
		{"valueCoding": {"system": "http://example.org/colours", "code": "blue"}}]},
	{"linkId": "allergies", "text": "Allergies", "type": "string", "repeats": true},
	{"linkId": "about", "text": "About you", "type": "group", "item": [
		{"linkId": "age", "text": "Age", "type": "integer"}]},
	{"linkId": "note", "text": "Thank you", "type": "display"},
	{"linkId": "sex", "text": "Sex", "type": "choice", "answerValueSet": "http://hl7.org/fhir/ValueSet/administrative-gender"}]}`

func TestQuestionnaireResponseAgainstItsQuestionnaire(t *testing.T) {
	set := loadCore(t)
	var q map[string]any
	require.NoError(t, json.Unmarshal([]byte(testQuestionnaire), &q))
	v, err := New(Options{Resolve: func(c string) (map[string]any, bool) {
		if c == "http://example.org/Questionnaire/q" {
			return q, true
		}
		return set.ResolveJSON(c)
	}})
	require.NoError(t, err)
	qr := func(items string) []byte {
		return []byte(`{"resourceType": "QuestionnaireResponse", "questionnaire": "http://example.org/Questionnaire/q", "status": "completed", "item": [` + items + `]}`)
	}
	smoker := `{"linkId": "smoker", "answer": [{"valueBoolean": false}]}`
	tests := []struct {
		name   string
		doc    []byte
		wantID string
	}{
		{name: "valid", doc: qr(smoker + `, {"linkId": "colour", "answer": [{"valueCoding": {"system": "http://example.org/colours", "code": "red", "display": "Red"}}]}, {"linkId": "allergies", "answer": [{"valueString": "nuts"}, {"valueString": "eggs"}]}, {"linkId": "about", "item": [{"linkId": "age", "answer": [{"valueInteger": 40}]}]}`)},
		{name: "unknown linkId", doc: qr(smoker + `, {"linkId": "shoe-size", "answer": [{"valueInteger": 9}]}`), wantID: "questionnaire-item-unknown"},
		{name: "wrong answer type", doc: qr(`{"linkId": "smoker", "answer": [{"valueString": "no"}]}`), wantID: "questionnaire-answer-type"},
		{name: "two answers to a single item", doc: qr(`{"linkId": "smoker", "answer": [{"valueBoolean": false}, {"valueBoolean": true}]}`), wantID: "questionnaire-answer-repeated"},
		{name: "item given twice", doc: qr(smoker + `, ` + smoker), wantID: "questionnaire-item-repeated"},
		{name: "answer not among the options", doc: qr(smoker + `, {"linkId": "colour", "answer": [{"valueCoding": {"system": "http://example.org/colours", "code": "green"}}]}`), wantID: "questionnaire-answer-option"},
		{name: "answer to a group", doc: qr(smoker + `, {"linkId": "about", "answer": [{"valueString": "x"}]}`), wantID: "questionnaire-answer-unexpected"},
		{name: "answer to a display item", doc: qr(smoker + `, {"linkId": "note", "answer": [{"valueString": "x"}]}`), wantID: "questionnaire-answer-unexpected"},
		{name: "items out of order", doc: qr(`{"linkId": "allergies", "answer": [{"valueString": "nuts"}]}, ` + smoker), wantID: "questionnaire-item-order"},
		{name: "answer in the answer value set", doc: qr(smoker + `, {"linkId": "sex", "answer": [{"valueCoding": {"system": "http://hl7.org/fhir/administrative-gender", "code": "female"}}]}`)},
		{name: "answer outside the answer value set", doc: qr(smoker + `, {"linkId": "sex", "answer": [{"valueCoding": {"system": "http://example.org/sexes", "code": "x"}}]}`), wantID: "binding-required"},
		{name: "required item missing", doc: qr(`{"linkId": "allergies", "answer": [{"valueString": "nuts"}]}`), wantID: "questionnaire-required-missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := v.Validate(context.Background(), tc.doc)
			require.NoError(t, err)
			var errs []string
			for _, is := range out.Issues {
				if is.Severity == conformance.SeverityError {
					errs = append(errs, is.MessageID)
				}
			}
			if tc.wantID == "" {
				assert.Empty(t, errs, "%v", out.Issues)
				return
			}
			assert.Equal(t, []string{tc.wantID}, errs, "%v", out.Issues)
		})
	}

	out, err := v.Validate(context.Background(), []byte(`{"resourceType": "QuestionnaireResponse", "questionnaire": "http://example.org/Questionnaire/missing", "status": "completed"}`))
	require.NoError(t, err)
	found := false
	for _, is := range out.Issues {
		if is.MessageID == "questionnaire-not-found" {
			found = true
			assert.Equal(t, conformance.SeverityWarning, is.Severity)
		}
	}
	assert.True(t, found, "%v", out.Issues)
}
