package refserver

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/packages"
	"github.com/nhsconform/conform/profiles/snapshot"
	"github.com/nhsconform/conform/profiles/validate"
)

var (
	realValidatorOnce sync.Once
	realValidator     conformance.Validator
	realValidatorErr  error
)

// ukCoreValidator is conform's validator over hl7.fhir.r4.core and UK Core 2.0.2.
func ukCoreValidator(t *testing.T) conformance.Validator {
	t.Helper()
	core := conformancetest.Shared(t, "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz")
	ukcore := conformancetest.Shared(t, "fhir/sources/uk-core-2.0.2")
	realValidatorOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		set, err := packages.Load(ctx, packages.LoadOptions{Cache: packages.Cache{Dir: t.TempDir()}, IGs: []string{core, ukcore}, NoTerminology: true})
		if err != nil {
			realValidatorErr = err
			return
		}
		gen := &snapshot.Generator{Resolve: set.ResolveJSON}
		realValidator, realValidatorErr = validate.New(validate.Options{Resolve: set.ResolveJSON, Snapshot: gen.Snapshot})
	})
	require.NoError(t, realValidatorErr)
	return realValidator
}

// TestResponsesAreValidFHIR validates every resource the server answers
// with (stored resources, searchset, history, transaction and batch
// responses, OperationOutcomes, the CapabilityStatement, pushed messages)
// with conform's validator against R4: the packs judge them the same way.
func TestResponsesAreValidFHIR(t *testing.T) {
	v := ukCoreValidator(t)
	rec := &pushRecorder{}
	srv, err := New(Options{Validator: v, PushURL: testPushURL, PushClient: &http.Client{Transport: rec}})
	require.NoError(t, err)
	e := &testEnv{t: t, srv: srv, pushes: rec}

	p := patient("9449305552")
	p["generalPractitioner"] = []any{map[string]any{"identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Y12345"}}}
	var answers []*result
	keep := func(r *result) *result {
		answers = append(answers, r)
		return r
	}
	pid := keep(e.do("POST", "/fhir/Patient", p, nil)).str("id")
	require.NotEmpty(t, pid, "the test Patient must be accepted: %s", answers[0].raw)
	cond := "/fhir/Encounter?identifier=https://trust.example/encounter|E1"
	enc := keep(e.do("PUT", cond, encounter("E1", "in-progress", "Patient/"+pid), nil))
	require.Equal(t, 201, enc.status, string(enc.raw))
	fin := encounter("E1", "finished", "Patient/"+pid)
	fin["period"].(map[string]any)["end"] = "2025-01-02T10:00:00Z"
	keep(e.do("PUT", cond, fin, nil))
	keep(e.do("GET", "/fhir/Encounter?patient="+pid, nil, nil))
	keep(e.do("GET", "/fhir/Encounter/"+enc.str("id")+"/_history", nil, nil))
	keep(e.do("GET", "/fhir/metadata", nil, nil))
	keep(e.do("GET", "/fhir/Patient/unknown", nil, nil))
	keep(e.do("POST", "/fhir/Encounter", encounter("E2", "", "Patient/"+pid), nil))
	keep(e.do("POST", "/fhir/Encounter/$validate", encounter("E2", "", "Patient/"+pid), nil))
	keep(e.do("POST", "/fhir", transaction(), nil))
	keep(e.do("POST", "/fhir", map[string]any{"resourceType": "Bundle", "type": "batch", "entry": []any{
		map[string]any{"request": map[string]any{"method": "GET", "url": "Patient/" + pid}},
		map[string]any{"request": map[string]any{"method": "GET", "url": "Patient/nobody"}},
	}}, nil))
	h := barsHeaders()
	keep(e.do("POST", "/fhir/$process-message", referral(newUUID(), newUUID(), "new", "active"), h))
	keep(e.do("POST", "/fhir/$process-message", referral(newUUID(), newUUID(), "new", "active"), h))
	for _, m := range e.pushed() {
		raw, err := json.Marshal(m.body)
		require.NoError(t, err)
		answers = append(answers, &result{raw: raw, body: m.body})
	}
	for i, a := range answers {
		t.Logf("answer %d: %d %s", i, a.status, a.raw)
	}
	require.Len(t, answers, 15, "13 answers and 2 pushed messages")
	for i, a := range answers {
		out, err := v.Validate(context.Background(), a.raw)
		require.NoError(t, err)
		for _, is := range out.Issues {
			if is.Severity == conformance.SeverityError || is.Severity == conformance.SeverityFatal {
				t.Errorf("answer %d (%s %s): %s at %s", i, a.str("resourceType"), a.str("type"), is.Message, is.Expression)
			}
		}
	}
	assert.NotEmpty(t, answers)
}
