package suite

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/runner"
	"github.com/nhsconform/conform/scenarios/packs"
)

const capabilityJSON = `{
  "resourceType": "CapabilityStatement",
  "rest": [{
    "mode": "server",
    "interaction": [{"code": "transaction"}],
    "operation": [{"name": "process-message"}],
    "resource": [
      {"type": "Encounter", "interaction": [{"code": "read"}, {"code": "update"}], "conditionalUpdate": true,
       "searchParam": [{"name": "identifier"}], "operation": [{"name": "validate"}]},
      {"type": "Patient", "interaction": [{"code": "create"}], "conditionalCreate": false}
    ]
  }, {
    "mode": "client",
    "interaction": [{"code": "batch"}]
  }]
}`

func TestDeclares(t *testing.T) {
	var cs map[string]any
	require.NoError(t, json.Unmarshal([]byte(capabilityJSON), &cs))
	tests := []struct {
		req  packs.Requirement
		want bool
	}{
		{req: "Encounter.update", want: true},
		{req: "Encounter.delete", want: false},
		{req: "Encounter.conditional-update", want: true},
		{req: "Patient.conditional-create", want: false},
		{req: "Encounter.search.identifier", want: true},
		{req: "Encounter.search.patient", want: false},
		{req: "Encounter.$validate", want: true},
		{req: "Patient.$validate", want: false},
		{req: "Observation.read", want: false},
		{req: "system.transaction", want: true},
		{req: "system.batch", want: false},
		{req: "system.$process-message", want: true},
		{req: "system.$graphql", want: false},
	}
	for _, tc := range tests {
		t.Run(string(tc.req), func(t *testing.T) {
			assert.Equal(t, tc.want, declares(cs, tc.req))
		})
	}
}

func TestPlanSkipsWhatIsNotDeclared(t *testing.T) {
	ps, err := packs.Builtin()
	require.NoError(t, err)
	var cs map[string]any
	require.NoError(t, json.Unmarshal([]byte(capabilityJSON), &cs))
	skips, tags := plan(ps, cs, "@MUST")
	assert.Contains(t, tags, "@MUST && ")
	assert.Contains(t, tags, "~@requires:Encounter.search.patient")
	assert.NotContains(t, tags, "~@requires:system.$process-message")
	var reasons []string
	for _, s := range skips["admission"] {
		reasons = append(reasons, s.Reason)
		assert.NotEmpty(t, s.Criteria)
		assert.NotZero(t, s.Line)
	}
	assert.Contains(t, reasons, "the server's CapabilityStatement does not declare Encounter.search.patient")
	for _, s := range skips["referral"] {
		assert.NotContains(t, s.Reason, "$process-message", s.Scenario)
	}

	none, same := plan(ps, nil, "@MUST")
	assert.Empty(t, none)
	assert.Equal(t, "@MUST", same)
}

func TestRunAgainstATargetWithoutCapabilityRunsEverything(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]}`))
	}))
	defer srv.Close()
	opts := referenceOptions(t)
	opts.Target = srv.URL
	opts.Runner.Tags = "@capability"
	opts.Runner.MaxAttempts = 1
	res, err := Run(context.Background(), opts)
	require.NoError(t, err)
	assert.False(t, res.Reference)
	assert.Contains(t, res.Capability, "answered 404")
	require.Len(t, res.Packs, 4)
	for _, p := range res.Packs {
		if p.ID != "capability" {
			assert.Empty(t, p.Criteria, "criteria of packs the tags left out are not judged")
			continue
		}
		for _, c := range p.Criteria {
			assert.Equal(t, conformance.StatusFail, c.Status, c.ID)
		}
	}
	assert.Equal(t, conformance.StatusFail, res.Status)
	assert.Equal(t, conformance.ExitFail, res.ExitCode())
}

func TestRunRefusesBadConfiguration(t *testing.T) {
	opts := referenceOptions(t)
	opts.Target = "http://127.0.0.1:1/fhir"
	opts.Faults = []string{"no-etag"}
	_, err := Run(context.Background(), opts)
	var ce *runner.ConfigError
	assert.True(t, errors.As(err, &ce), "%v", err)

	opts = referenceOptions(t)
	opts.Faults = []string{"no-such-fault"}
	_, err = Run(context.Background(), opts)
	assert.True(t, errors.As(err, &ce), "%v", err)
	assert.ErrorContains(t, err, "no-such-fault")

	opts = referenceOptions(t)
	opts.Waivers = []conformance.Waiver{{Criterion: "XYZ-01", Reason: "r", By: "b", Expires: "2099-01-01"}}
	opts.Runner.Tags = "@CAP-01"
	_, err = Run(context.Background(), opts)
	assert.ErrorContains(t, err, "XYZ-01")
	assert.True(t, errors.As(err, &ce), "%v", err)

	opts = referenceOptions(t)
	opts.Waivers = []conformance.Waiver{{Criterion: "CAP-02", Reason: "r", By: "b", Expires: "2099-01-01"}}
	opts.Runner.Tags = "@CAP-01"
	_, err = Run(context.Background(), opts)
	assert.ErrorContains(t, err, `waiver names criterion "CAP-02", which the tags "@CAP-01" do not select`)
	assert.True(t, errors.As(err, &ce), "%v", err)
}

func TestWaiverTurnsAFaultsFailureIntoWaived(t *testing.T) {
	opts := referenceOptions(t)
	opts.Faults = []string{"capability-wrong-version"}
	opts.Runner.Tags = "@capability"
	opts.Now = func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	opts.Waivers = []conformance.Waiver{{Criterion: "CAP-01", Reason: "upgrade planned", By: "assurance", Expires: "2026-06-30"}}
	res, err := Run(context.Background(), opts)
	require.NoError(t, err)
	got := map[string]conformance.Status{}
	for _, c := range res.Criteria {
		got[c.ID] = c.Status
	}
	assert.Equal(t, conformance.StatusWaived, got["CAP-01"])
	assert.Equal(t, conformance.StatusPass, got["CAP-02"])
	assert.Equal(t, conformance.StatusPass, res.Status)
}

func TestResultHidesTargetPassword(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	opts := referenceOptions(t)
	opts.Target = strings.Replace(srv.URL, "http://", "http://user:pw-SECRET-5@", 1)
	opts.Runner.Tags = "@CAP-01"
	opts.Runner.MaxAttempts = 1
	res, err := Run(context.Background(), opts)
	require.NoError(t, err)
	data, err := json.Marshal(res)
	require.NoError(t, err)
	assert.NotContains(t, string(data), "pw-SECRET-5")
	assert.Contains(t, res.Target, srv.Listener.Addr().String())
}
