package report

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/packages"
	"github.com/nhsconform/conform/scenarios/suite"
)

func TestTestReportBundleIsValidFHIR(t *testing.T) {
	core, err := packages.Open(conformancetest.Shared(t, "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz"))
	require.NoError(t, err)
	v, err := suite.NewValidator(packages.NewSet(core))
	require.NoError(t, err)
	rec, err := fixtureRecord()
	require.NoError(t, err)
	data, err := Render("testreport", rec, Options{}, nil)
	require.NoError(t, err)

	out, err := v.Validate(context.Background(), data)
	require.NoError(t, err)
	for _, is := range out.Issues {
		assert.NotContains(t, []conformance.Severity{conformance.SeverityError, conformance.SeverityFatal}, is.Severity, "%s: %s", is.Expression, is.Message)
	}

	var bundle struct {
		Type  string `json:"type"`
		Entry []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
				Result       string `json:"result"`
				Test         []struct {
					Action []map[string]struct {
						Result string `json:"result"`
					} `json:"action"`
				} `json:"test"`
			} `json:"resource"`
		} `json:"entry"`
	}
	require.NoError(t, json.Unmarshal(data, &bundle))
	assert.Equal(t, "collection", bundle.Type)
	require.Len(t, bundle.Entry, len(rec.Scenarios), "one TestReport per scenario")
	var results []string
	for _, e := range bundle.Entry {
		assert.Equal(t, "TestReport", e.Resource.ResourceType)
		results = append(results, e.Resource.Result)
	}
	assert.Equal(t, []string{"fail", "fail", "fail", "pass"}, results)
	assert.Equal(t, "fail", bundle.Entry[0].Resource.Test[0].Action[2]["assert"].Result)
	assert.Equal(t, "error", bundle.Entry[1].Resource.Test[0].Action[0]["operation"].Result)

	broken := []byte(`{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"TestReport","status":"done"}}]}`)
	out, err = v.Validate(context.Background(), broken)
	require.NoError(t, err)
	assert.True(t, out.HasErrors(), "the validator does reject a TestReport without testScript and result")
}
