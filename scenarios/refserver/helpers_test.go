package refserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
)

// fakeValidator requires status on the types whose base definition makes it
// mandatory, and records the profiles it was asked to judge against.
type fakeValidator struct {
	mu       sync.Mutex
	profiles [][]string
	// during, when set, runs inside the next validation.
	during func()
}

var errValidatorBroken = errors.New("validator broken")

func (f *fakeValidator) Validate(_ context.Context, resource []byte, profiles ...string) (conformance.Outcome, error) {
	f.mu.Lock()
	f.profiles = append(f.profiles, profiles)
	during := f.during
	f.during = nil
	f.mu.Unlock()
	if during != nil {
		during()
	}
	res, err := decodeObject(resource)
	if err != nil {
		return conformance.Outcome{}, err
	}
	rt, _ := res["resourceType"].(string)
	if rt == "Basic" && res["id"] == "break-validator" {
		return conformance.Outcome{}, errValidatorBroken
	}
	out := conformance.Outcome{Profiles: profiles, Issues: []conformance.Issue{}}
	switch rt {
	case "Encounter", "ServiceRequest", "Composition":
		if _, ok := res["status"].(string); !ok {
			out.Issues = append(out.Issues, conformance.Issue{Severity: conformance.SeverityError, Code: "required",
				Expression: rt + ".status", Message: rt + ".status: minimum required = 1, but only found 0"})
		}
	}
	return out, nil
}

type pushed struct {
	url    string
	header http.Header
	body   map[string]any
}

// pushRecorder is an http.RoundTripper keeping every pushed request.
type pushRecorder struct {
	mu   sync.Mutex
	msgs []pushed
}

func (p *pushRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	body, _ := decodeObject(raw)
	p.mu.Lock()
	p.msgs = append(p.msgs, pushed{url: r.URL.String(), header: r.Header.Clone(), body: body})
	p.mu.Unlock()
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Header: http.Header{}, Request: r}, nil
}

type testEnv struct {
	t      testing.TB
	srv    *Server
	val    *fakeValidator
	pushes *pushRecorder
}

const testPushURL = "http://receiver.test/fhir"

func newEnv(t testing.TB, faults ...string) *testEnv {
	t.Helper()
	val := &fakeValidator{}
	rec := &pushRecorder{}
	srv, err := New(Options{Validator: val, Faults: faults, PushURL: testPushURL, PushClient: &http.Client{Transport: rec, Timeout: time.Second}})
	require.NoError(t, err)
	return &testEnv{t: t, srv: srv, val: val, pushes: rec}
}

type result struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r *result) str(path ...string) string {
	s, _ := walk(r.body, path...).(string)
	return s
}

// walk follows keys and decimal indices through decoded JSON.
func walk(v any, path ...string) any {
	for _, p := range path {
		switch t := v.(type) {
		case map[string]any:
			v = t[p]
		case []any:
			i := 0
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			if i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

// do sends one request straight to the handler; body may be a string, bytes or any JSON value.
func (e *testEnv) do(method, target string, body any, headers map[string]string) *result {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, target, rd)
	req.Host = "fhir.test"
	if rd != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	res := &result{status: rec.Code, header: rec.Header(), raw: rec.Body.Bytes()}
	if len(res.raw) > 0 {
		res.body, _ = decodeObject(res.raw)
	}
	return res
}

// pushed waits for pending pushes and returns every pushed message so far.
func (e *testEnv) pushed() []pushed {
	e.srv.Wait()
	e.pushes.mu.Lock()
	defer e.pushes.mu.Unlock()
	return append([]pushed(nil), e.pushes.msgs...)
}

func patient(nhsNumber string) map[string]any {
	return map[string]any{
		"resourceType": "Patient",
		"identifier":   []any{map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhsNumber}},
		"name":         []any{map[string]any{"family": "Smith"}},
	}
}

func encounter(identifier, status, patientRef string) map[string]any {
	enc := map[string]any{
		"resourceType": "Encounter",
		"identifier":   []any{map[string]any{"system": "https://trust.example/encounter", "value": identifier}},
		"class":        map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
		"subject":      map[string]any{"reference": patientRef},
		"period":       map[string]any{"start": "2025-01-01T10:00:00Z"},
	}
	if status != "" {
		enc["status"] = status
	}
	return enc
}

// referral builds a BaRS servicerequest-request message with reason new or
// update; the ServiceRequest id is srID and its status srStatus.
func referral(bundleID, srID, reason, srStatus string) map[string]any {
	type ent struct {
		url string
		res map[string]any
	}
	ref := func(u string) map[string]any { return map[string]any{"reference": u} }
	u := func(id string) string { return "urn:uuid:" + id }
	ids := map[string]string{}
	for _, k := range []string{"header", "patient", "encounter", "careplan", "org1", "org2", "practitioner", "role", "consent", "service"} {
		ids[k] = newUUID()
	}
	ids["sr"] = srID
	entries := []ent{
		{u(ids["header"]), map[string]any{
			"resourceType": "MessageHeader", "id": ids["header"],
			"eventCoding": map[string]any{"system": BaRSMessageEvents, "code": "servicerequest-request"},
			"reason":      map[string]any{"coding": []any{map[string]any{"system": BaRSMessageReasons, "code": reason}}},
			"definition":  referralRequestDef,
			"destination": []any{map[string]any{"endpoint": "https://fhir.nhs.uk/Id/dos-service-id|2000072489", "receiver": ref(u(ids["org2"]))}},
			"sender":      ref(u(ids["org1"])),
			"source":      map[string]any{"endpoint": "https://fhir.nhs.uk/Id/dos-service-id|1111111111"},
			"focus":       []any{ref(u(ids["sr"]))},
		}},
		{u(ids["sr"]), map[string]any{
			"resourceType": "ServiceRequest", "id": ids["sr"], "status": srStatus, "intent": "plan",
			"subject": ref(u(ids["patient"])), "encounter": ref(u(ids["encounter"])), "authoredOn": "2025-01-01T10:00:00Z",
			"requester": ref(u(ids["role"])), "performer": []any{ref(u(ids["service"]))},
		}},
		{u(ids["patient"]), map[string]any{"resourceType": "Patient", "id": ids["patient"],
			"identifier": []any{map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9449305552"}}}},
		{u(ids["encounter"]), map[string]any{"resourceType": "Encounter", "id": ids["encounter"], "status": "in-progress",
			"class": map[string]any{"code": "EMER"}, "subject": ref(u(ids["patient"]))}},
		{u(ids["careplan"]), map[string]any{"resourceType": "CarePlan", "id": ids["careplan"], "status": "active", "intent": "plan", "subject": ref(u(ids["patient"]))}},
		{u(ids["org1"]), map[string]any{"resourceType": "Organization", "id": ids["org1"], "name": "NHS 111 Service",
			"identifier": []any{map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RYE"}}}},
		{u(ids["org2"]), map[string]any{"resourceType": "Organization", "id": ids["org2"], "name": "Emergency Department",
			"identifier": []any{map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RR8"}}}},
		{u(ids["practitioner"]), map[string]any{"resourceType": "Practitioner", "id": ids["practitioner"]}},
		{u(ids["role"]), map[string]any{"resourceType": "PractitionerRole", "id": ids["role"], "practitioner": ref(u(ids["practitioner"])), "organization": ref(u(ids["org1"]))}},
		{u(ids["consent"]), map[string]any{"resourceType": "Consent", "id": ids["consent"], "status": "active", "patient": ref(u(ids["patient"])),
			"scope":      map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}}},
			"category":   []any{map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "59284-0"}}}},
			"policyRule": map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}}}}},
		{u(ids["service"]), map[string]any{"resourceType": "HealthcareService", "id": ids["service"], "providedBy": ref(u(ids["org2"]))}},
	}
	if reason != "new" {
		entries[0].res["definition"] = cancelledRequestDef
	}
	list := make([]any, 0, len(entries))
	for _, e := range entries {
		list = append(list, map[string]any{"fullUrl": e.url, "resource": e.res})
	}
	return map[string]any{"resourceType": "Bundle", "id": bundleID, "type": "message", "timestamp": "2025-01-01T10:00:00Z", "entry": list}
}

func barsHeaders() map[string]string {
	target := base64.StdEncoding.EncodeToString([]byte(`{"system":"https://fhir.nhs.uk/Id/dos-service-id","value":"2000072489"}`))
	return map[string]string{
		"X-Request-Id":                 newUUID(),
		"X-Correlation-Id":             newUUID(),
		"NHSD-Target-Identifier":       target,
		"NHSD-End-User-Organisation":   base64.StdEncoding.EncodeToString([]byte(`{"resourceType":"Organization"}`)),
		"NHSD-Requesting-Practitioner": base64.StdEncoding.EncodeToString([]byte(`{"resourceType":"PractitionerRole"}`)),
		"NHSD-Requesting-Software":     base64.StdEncoding.EncodeToString([]byte(`{"resourceType":"Device"}`)),
	}
}

func errorCoding(r *result) (string, string) {
	return r.str("issue", "0", "details", "coding", "0", "system"), r.str("issue", "0", "details", "coding", "0", "code")
}
