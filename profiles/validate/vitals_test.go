package validate

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
)

func TestImpliedVitalSigns(t *testing.T) {
	coding := func(system, code string) map[string]any { return map[string]any{"system": system, "code": code} }
	obs := func(codings ...map[string]any) map[string]any {
		list := make([]any, len(codings))
		for i, c := range codings {
			list[i] = c
		}
		return map[string]any{"resourceType": "Observation", "code": map[string]any{"coding": list}}
	}
	tests := []struct {
		name              string
		obs               map[string]any
		url, system, code string
	}{
		{name: "LOINC body weight", obs: obs(coding("http://loinc.org", "29463-7")), url: "http://hl7.org/fhir/StructureDefinition/bodyweight", system: "LOINC", code: "29463-7"},
		{name: "SNOMED CT body temperature", obs: obs(coding("http://snomed.info/sct", "276885007")), url: "http://hl7.org/fhir/StructureDefinition/bodytemp", system: "SNOMED CT", code: "276885007"},
		{name: "LOINC wins over an earlier SNOMED CT coding", obs: obs(coding("http://snomed.info/sct", "60621009"), coding("http://loinc.org", "8867-4")), url: "http://hl7.org/fhir/StructureDefinition/heartrate", system: "LOINC", code: "8867-4"},
		{name: "profiles tried in order", obs: obs(coding("http://loinc.org", "85354-9"), coding("http://loinc.org", "85353-1")), url: "http://hl7.org/fhir/StructureDefinition/vitalspanel", system: "LOINC", code: "85353-1"},
		{name: "code in the wrong system", obs: obs(coding("http://example.org", "29463-7"))},
		{name: "other LOINC code", obs: obs(coding("http://loinc.org", "2339-0"))},
		{name: "no code", obs: map[string]any{"resourceType": "Observation"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ip, system, code := impliedVitalSigns(tc.obs)
			if tc.url == "" {
				assert.Nil(t, ip)
				return
			}
			require.NotNil(t, ip)
			assert.Equal(t, []string{tc.url, tc.system, tc.code}, []string{ip.url, system, code})
		})
	}
}

func TestVitalSignsProfilesApplyByCode(t *testing.T) {
	v := newCoreValidator(t)
	ctx := context.Background()
	bodyTemp := []byte(`{"resourceType": "Observation", "status": "final",
		"category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
		"code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
		"subject": {"reference": "Patient/p1"},
		"valueQuantity": {"value": 37.1, "unit": "C", "system": "http://unitsofmeasure.org", "code": "Cel"}}`)
	out, err := v.Validate(ctx, bodyTemp)
	require.NoError(t, err)
	ids := map[string]conformance.Severity{}
	for _, is := range out.Issues {
		ids[is.MessageID] = is.Severity
	}
	assert.Equal(t, conformance.SeverityInformation, ids["vital-signs-profile"], "%v", out.Issues)
	assert.Equal(t, conformance.SeverityError, ids["cardinality-min"], "bodytemp requires effective[x]: %v", out.Issues)

	withTime := []byte(`{"resourceType": "Observation", "status": "final",
		"category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
		"code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
		"subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2026-01-02T10:00:00Z",
		"valueQuantity": {"value": 37.1, "unit": "C", "system": "http://unitsofmeasure.org", "code": "Cel"},
		"component": [{"code": {"text": "flow"}, "valueQuantity": {"value": 2, "unit": "L/min", "system": "http://unitsofmeasure.org", "code": "L/min"}}]}`)
	out, err = v.Validate(ctx, withTime)
	require.NoError(t, err)
	assert.False(t, out.HasErrors(), "a component unit outside the vital signs units is not an error: %v", out.Issues)
	warned := false
	for _, is := range out.Issues {
		warned = warned || is.MessageID == "binding-extensible" && is.Severity == conformance.SeverityWarning
	}
	assert.True(t, warned, "but a warning: %v", out.Issues)

	out, err = v.Validate(ctx, withTime, "http://hl7.org/fhir/StructureDefinition/bodytemp")
	require.NoError(t, err)
	for _, is := range out.Issues {
		assert.NotEqual(t, "vital-signs-profile", is.MessageID, "a profile asked for is not implied again")
	}
}
