package refserver

import (
	"fmt"
	"mime"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// probe checks one behaviour against a fresh server; nil means it holds.
type probe struct {
	name  string
	check func(e *testEnv) error
}

func expect(cond bool, format string, args ...any) error {
	if cond {
		return nil
	}
	return fmt.Errorf(format, args...)
}

func createPatient(e *testEnv, nhs string) (*result, error) {
	r := e.do("POST", "/fhir/Patient", patient(nhs), nil)
	if r.status != 201 && r.status != 200 {
		return r, fmt.Errorf("create answered %d", r.status)
	}
	return r, nil
}

var probes = []probe{
	{"etag", func(e *testEnv) error {
		c, err := createPatient(e, "9449305552")
		if err != nil {
			return err
		}
		want := `W/"` + c.str("meta", "versionId") + `"`
		r := e.do("GET", "/fhir/Patient/"+c.str("id"), nil, nil)
		return expect(c.header.Get("ETag") == want && r.header.Get("ETag") == want, "ETag %q / %q, want %s", c.header.Get("ETag"), r.header.Get("ETag"), want)
	}},
	{"location", func(e *testEnv) error {
		c, err := createPatient(e, "9449305552")
		if err != nil {
			return err
		}
		want := "http://fhir.test/fhir/Patient/" + c.str("id") + "/_history/1"
		return expect(c.header.Get("Location") == want, "Location %q, want %q", c.header.Get("Location"), want)
	}},
	{"create-status", func(e *testEnv) error {
		c := e.do("POST", "/fhir/Patient", patient("9449305552"), nil)
		return expect(c.status == 201, "create answered %d", c.status)
	}},
	{"content-type", func(e *testEnv) error {
		r := e.do("GET", "/fhir/metadata", nil, nil)
		mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type"))
		return expect(mt == "application/fhir+json", "content type %q", r.header.Get("Content-Type"))
	}},
	{"conditional-create", func(e *testEnv) error {
		h := map[string]string{"If-None-Exist": "identifier=https://fhir.nhs.uk/Id/nhs-number|9449305552"}
		a := e.do("POST", "/fhir/Patient", patient("9449305552"), h)
		b := e.do("POST", "/fhir/Patient", patient("9449305552"), h)
		return expect(b.status == 200 && a.str("id") == b.str("id"), "second conditional create answered %d with id %q (first %q)", b.status, b.str("id"), a.str("id"))
	}},
	{"conditional-update", func(e *testEnv) error {
		target := "/fhir/Encounter?identifier=https://trust.example/encounter|E1"
		a := e.do("PUT", target, encounter("E1", "in-progress", "Patient/p1"), nil)
		b := e.do("PUT", target, encounter("E1", "in-progress", "Patient/p1"), nil)
		return expect(a.status == 201 && b.status == 200 && a.str("id") == b.str("id"), "upsert answered %d then %d, ids %q %q", a.status, b.status, a.str("id"), b.str("id"))
	}},
	{"if-match", func(e *testEnv) error {
		c, err := createPatient(e, "9449305552")
		if err != nil {
			return err
		}
		upd := patient("9449305552")
		upd["id"] = c.str("id")
		r := e.do("PUT", "/fhir/Patient/"+c.str("id"), upd, map[string]string{"If-Match": `W/"99"`})
		return expect(r.status == 412, "stale If-Match answered %d", r.status)
	}},
	{"versioning", func(e *testEnv) error {
		c, err := createPatient(e, "9449305552")
		if err != nil {
			return err
		}
		upd := patient("9449305552")
		upd["id"] = c.str("id")
		r := e.do("PUT", "/fhir/Patient/"+c.str("id"), upd, nil)
		return expect(r.status == 200 && r.str("meta", "versionId") == "2", "update answered %d version %q", r.status, r.str("meta", "versionId"))
	}},
	{"validation", func(e *testEnv) error {
		r := e.do("POST", "/fhir/Encounter", encounter("E1", "", "Patient/p1"), nil)
		return expect(r.status == 422 && r.str("resourceType") == "OperationOutcome", "invalid Encounter answered %d", r.status)
	}},
	{"validate-op", func(e *testEnv) error {
		r := e.do("POST", "/fhir/Encounter/$validate", encounter("E1", "", "Patient/p1"), nil)
		return expect(r.status == 200 && r.str("issue", "0", "severity") == "error", "$validate answered %d severity %q", r.status, r.str("issue", "0", "severity"))
	}},
	{"search-identifier", func(e *testEnv) error {
		a, err := createPatient(e, "9449305552")
		if err != nil {
			return err
		}
		if _, err := createPatient(e, "9449306621"); err != nil {
			return err
		}
		r := e.do("GET", "/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9449305552", nil, nil)
		return expect(r.str("entry", "0", "resource", "id") == a.str("id") && walk(r.body, "total") == jsonInt(1), "search found total %v", walk(r.body, "total"))
	}},
	{"search-patient", func(e *testEnv) error {
		a := e.do("POST", "/fhir/Encounter", encounter("E1", "in-progress", "Patient/p1"), nil)
		e.do("POST", "/fhir/Encounter", encounter("E2", "in-progress", "Patient/p2"), nil)
		r := e.do("GET", "/fhir/Encounter?patient=p1", nil, nil)
		return expect(r.str("entry", "0", "resource", "id") == a.str("id") && walk(r.body, "total") == jsonInt(1), "search found total %v", walk(r.body, "total"))
	}},
	{"request-id", func(e *testEnv) error {
		r := e.do("GET", "/fhir/metadata", nil, map[string]string{"X-Request-Id": "60a6e5e7-1d6b-4c3a-9d5b-2a1f0c3e4b5a"})
		return expect(r.header.Get("X-Request-Id") == "60a6e5e7-1d6b-4c3a-9d5b-2a1f0c3e4b5a", "X-Request-Id %q", r.header.Get("X-Request-Id"))
	}},
	{"correlation-id", func(e *testEnv) error {
		r := e.do("GET", "/fhir/metadata", nil, map[string]string{"X-Correlation-Id": "11a6e5e7-1d6b-4c3a-9d5b-2a1f0c3e4b5a"})
		return expect(r.header.Get("X-Correlation-Id") == "11a6e5e7-1d6b-4c3a-9d5b-2a1f0c3e4b5a", "X-Correlation-Id %q", r.header.Get("X-Correlation-Id"))
	}},
	{"bars-headers", func(e *testEnv) error {
		h := barsHeaders()
		h["NHSD-Requesting-Software"] = ""
		r := e.do("POST", "/fhir/$process-message", referral(newUUID(), newUUID(), "new", "active"), h)
		return expect(r.status == 400, "message without NHSD-Requesting-Software answered %d", r.status)
	}},
	{"bars-error-code", func(e *testEnv) error {
		msg := referral(newUUID(), newUUID(), "new", "active")
		entries := msg["entry"].([]any)
		msg["entry"] = entries[:len(entries)-2]
		r := e.do("POST", "/fhir/$process-message", msg, barsHeaders())
		system, code := errorCoding(r)
		return expect(r.status == 400 && system == HTTPErrorCodes && code == "REC_BAD_REQUEST", "incomplete message answered %d coded %s|%s", r.status, system, code)
	}},
	{"bars-replay", func(e *testEnv) error {
		h := barsHeaders()
		first := e.do("POST", "/fhir/$process-message", referral(newUUID(), newUUID(), "new", "active"), h)
		again := e.do("POST", "/fhir/$process-message", referral(newUUID(), newUUID(), "new", "active"), h)
		_, code := errorCoding(again)
		return expect(first.status == 200 && again.status == 409 && code == "REC_CONFLICT", "replay answered %d then %d %s", first.status, again.status, code)
	}},
	{"bars-cancellation", func(e *testEnv) error {
		sr := newUUID()
		if r := e.do("POST", "/fhir/$process-message", referral(newUUID(), sr, "new", "active"), barsHeaders()); r.status != 200 {
			return fmt.Errorf("referral answered %d", r.status)
		}
		if r := e.do("POST", "/fhir/$process-message", referral(newUUID(), sr, "update", "revoked"), barsHeaders()); r.status != 200 {
			return fmt.Errorf("cancellation answered %d", r.status)
		}
		r := e.do("GET", "/fhir/ServiceRequest/"+sr, nil, nil)
		return expect(r.status == 200 && r.str("status") == "revoked", "ServiceRequest read %d status %q", r.status, r.str("status"))
	}},
	{"bars-async-response", func(e *testEnv) error {
		if r := e.do("POST", "/fhir/$process-message", referral(newUUID(), newUUID(), "new", "active"), barsHeaders()); r.status != 200 {
			return fmt.Errorf("referral answered %d", r.status)
		}
		msgs := e.pushed()
		if len(msgs) != 1 {
			return fmt.Errorf("%d messages pushed", len(msgs))
		}
		b := &result{body: msgs[0].body}
		return expect(b.str("entry", "0", "resource", "eventCoding", "code") == "servicerequest-response" && b.str("entry", "0", "resource", "response", "code") == "ok",
			"pushed event %q", b.str("entry", "0", "resource", "eventCoding", "code"))
	}},
	{"bars-response-identifier", func(e *testEnv) error {
		id := newUUID()
		if r := e.do("POST", "/fhir/$process-message", referral(id, newUUID(), "new", "active"), barsHeaders()); r.status != 200 {
			return fmt.Errorf("referral answered %d", r.status)
		}
		msgs := e.pushed()
		if len(msgs) != 1 {
			return fmt.Errorf("%d messages pushed", len(msgs))
		}
		b := &result{body: msgs[0].body}
		return expect(b.str("entry", "0", "resource", "response", "identifier") == id, "response.identifier %q, want %q", b.str("entry", "0", "resource", "response", "identifier"), id)
	}},
	{"discharge-notification", func(e *testEnv) error {
		a := e.do("POST", "/fhir/Encounter", encounter("E1", "in-progress", "Patient/p1"), nil)
		fin := encounter("E1", "finished", "Patient/p1")
		fin["id"] = a.str("id")
		if r := e.do("PUT", "/fhir/Encounter/"+a.str("id"), fin, nil); r.status != 200 {
			return fmt.Errorf("update answered %d", r.status)
		}
		msgs := e.pushed()
		if len(msgs) != 1 {
			return fmt.Errorf("%d messages pushed", len(msgs))
		}
		b := &result{body: msgs[0].body}
		return expect(b.str("entry", "0", "resource", "eventCoding", "code") == "306689006" &&
			b.str("entry", "0", "resource", "focus", "0", "reference") == "http://fhir.test/fhir/Encounter/"+a.str("id"), "pushed %s", msgs[0].body)
	}},
	{"delete", func(e *testEnv) error {
		c, err := createPatient(e, "9449305552")
		if err != nil {
			return err
		}
		d := e.do("DELETE", "/fhir/Patient/"+c.str("id"), nil, nil)
		r := e.do("GET", "/fhir/Patient/"+c.str("id"), nil, nil)
		return expect(d.status == 204 && r.status == 410, "delete answered %d, read after %d", d.status, r.status)
	}},
	{"history", func(e *testEnv) error {
		c, err := createPatient(e, "9449305552")
		if err != nil {
			return err
		}
		upd := patient("9449305552")
		upd["id"] = c.str("id")
		e.do("PUT", "/fhir/Patient/"+c.str("id"), upd, nil)
		h := e.do("GET", "/fhir/Patient/"+c.str("id")+"/_history", nil, nil)
		return expect(walk(h.body, "total") == jsonInt(2), "history total %v", walk(h.body, "total"))
	}},
	{"transaction-urn", func(e *testEnv) error {
		r := e.do("POST", "/fhir", transaction(), nil)
		pid := r.str("entry", "0", "resource", "id")
		return expect(r.status == 200 && pid != "" && r.str("entry", "1", "resource", "subject", "reference") == "Patient/"+pid,
			"transaction answered %d, subject %q", r.status, r.str("entry", "1", "resource", "subject", "reference"))
	}},
	{"capability", func(e *testEnv) error {
		r := e.do("GET", "/fhir/metadata", nil, nil)
		return expect(r.str("fhirVersion") == "4.0.1", "fhirVersion %q", r.str("fhirVersion"))
	}},
	{"capability-search", func(e *testEnv) error {
		r := e.do("GET", "/fhir/metadata", nil, nil)
		return expect(declaresInteraction(r, "Patient", "search-type"), "Patient search-type not declared")
	}},
	{"capability-profiles", func(e *testEnv) error {
		r := e.do("GET", "/fhir/metadata", nil, nil)
		patient := capabilityResource(r, "Patient")
		return expect(walk(patient, "supportedProfile", "0") == "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient", "Patient supportedProfile %v", patient["supportedProfile"])
	}},
	{"capability-messaging", func(e *testEnv) error {
		r := e.do("GET", "/fhir/metadata", nil, nil)
		return expect(r.str("messaging", "0", "supportedMessage", "0", "definition") == referralRequestDef, "supportedMessage %v", walk(r.body, "messaging"))
	}},
	{"nested-extensions", func(e *testEnv) error {
		enc := encounter("E1", "in-progress", "Patient/p1")
		enc["hospitalization"] = map[string]any{"extension": []any{map[string]any{
			"url":                  "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AdmissionMethod",
			"valueCodeableConcept": map[string]any{"coding": []any{map[string]any{"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-AdmissionMethodEngland", "code": "13"}}},
		}}}
		c := e.do("POST", "/fhir/Encounter", enc, nil)
		r := e.do("GET", "/fhir/Encounter/"+c.str("id"), nil, nil)
		return expect(r.str("hospitalization", "extension", "0", "valueCodeableConcept", "coding", "0", "code") == "13", "stored hospitalization %v", walk(r.body, "hospitalization"))
	}},
	{"birth-date", func(e *testEnv) error {
		p := patient("9449305552")
		p["birthDate"] = "1970-09-11"
		c := e.do("POST", "/fhir/Patient", p, nil)
		r := e.do("GET", "/fhir/Patient/"+c.str("id"), nil, nil)
		return expect(r.str("birthDate") == "1970-09-11", "stored birthDate %q", r.str("birthDate"))
	}},
	{"finished-encounter", func(e *testEnv) error {
		a := e.do("POST", "/fhir/Encounter", encounter("E1", "in-progress", "Patient/p1"), nil)
		fin := encounter("E1", "finished", "Patient/p1")
		fin["id"] = a.str("id")
		fin["period"] = map[string]any{"start": "2025-01-01T10:00:00Z", "end": "2025-01-03T10:00:00Z"}
		e.do("PUT", "/fhir/Encounter/"+a.str("id"), fin, nil)
		r := e.do("GET", "/fhir/Encounter/"+a.str("id"), nil, nil)
		return expect(r.str("status") == "finished" && walk(r.body, "length") == nil, "stored finished Encounter has length %v", walk(r.body, "length"))
	}},
	{"document-section-text", func(e *testEnv) error {
		r := storedDocument(e)
		return expect(r.str("entry", "0", "resource", "section", "0", "text", "status") == "generated", "stored section %v", walk(r.body, "entry", "0", "resource", "section"))
	}},
	{"document-references", func(e *testEnv) error {
		r := storedDocument(e)
		return expect(r.str("entry", "0", "resource", "subject", "reference") == r.str("entry", "1", "fullUrl"), "stored subject %q, Patient entry %q", r.str("entry", "0", "resource", "subject", "reference"), r.str("entry", "1", "fullUrl"))
	}},
	{"document-status", func(e *testEnv) error {
		r := storedDocument(e)
		return expect(r.str("entry", "0", "resource", "status") == "final", "stored Composition status %q", r.str("entry", "0", "resource", "status"))
	}},
	{"document-total", func(e *testEnv) error {
		r := storedDocument(e)
		return expect(walk(r.body, "total") == nil, "stored document has total %v", walk(r.body, "total"))
	}},
	{"bars-counts", func(e *testEnv) error {
		msg := referral(newUUID(), newUUID(), "new", "active")
		entries := msg["entry"].([]any)
		msg["entry"] = append(append([]any(nil), entries[:4]...), entries[5:]...)
		r := e.do("POST", "/fhir/$process-message", msg, barsHeaders())
		return expect(r.status == 400, "referral without its CarePlan answered %d", r.status)
	}},
	{"bars-stored", func(e *testEnv) error {
		msg := referral(newUUID(), newUUID(), "new", "active")
		if r := e.do("POST", "/fhir/$process-message", msg, barsHeaders()); r.status != 200 {
			return fmt.Errorf("referral answered %d", r.status)
		}
		pid := (&result{body: msg}).str("entry", "2", "resource", "id")
		r := e.do("GET", "/fhir/Patient/"+pid, nil, nil)
		return expect(r.status == 200, "referred Patient read %d", r.status)
	}},
	{"bars-acknowledgement", func(e *testEnv) error {
		r := e.do("POST", "/fhir/$process-message", referral(newUUID(), newUUID(), "new", "active"), barsHeaders())
		return expect(r.status == 200 && r.str("resourceType") == "OperationOutcome", "referral answered %d with %q", r.status, r.raw)
	}},
}

func capabilityResource(r *result, typ string) map[string]any {
	for _, x := range asList(walk(r.body, "rest", "0", "resource")) {
		if m, ok := x.(map[string]any); ok && m["type"] == typ {
			return m
		}
	}
	return nil
}

func declaresInteraction(r *result, typ, code string) bool {
	for _, x := range asList(capabilityResource(r, typ)["interaction"]) {
		if m, ok := x.(map[string]any); ok && m["code"] == code {
			return true
		}
	}
	return false
}

// storedDocument creates a document Bundle (Composition first, then its
// Patient, referenced by urn:uuid) and reads it back.
func storedDocument(e *testEnv) *result {
	const patientURL = "urn:uuid:5d3c0f5e-8d1a-4f7e-9a3b-6c2d1e0f9a8b"
	doc := map[string]any{
		"resourceType": "Bundle", "type": "document", "timestamp": "2025-01-03T10:00:00Z",
		"identifier": map[string]any{"system": "https://tools.ietf.org/html/rfc4122", "value": "urn:uuid:0c8e5a3d-2f1b-4c6d-8e7f-9a0b1c2d3e4f"},
		"entry": []any{
			map[string]any{"fullUrl": "urn:uuid:9e1d2c3b-4a5f-4e6d-8c7b-0a1f2e3d4c5b", "resource": map[string]any{
				"resourceType": "Composition", "status": "final", "title": "Discharge summary", "date": "2025-01-03T10:00:00Z",
				"type":    map[string]any{"coding": []any{map[string]any{"system": snomedCT, "code": "373942005"}}},
				"subject": map[string]any{"reference": patientURL},
				"author":  []any{map[string]any{"reference": patientURL}},
				"section": []any{map[string]any{"title": "Discharge details",
					"text": map[string]any{"status": "generated", "div": `<div xmlns="http://www.w3.org/1999/xhtml">Home</div>`}}},
			}},
			map[string]any{"fullUrl": patientURL, "resource": patient("9449305552")},
		},
	}
	c := e.do("POST", "/fhir/Bundle", doc, nil)
	return e.do("GET", "/fhir/Bundle/"+c.str("id"), nil, nil)
}

func jsonInt(n int) any {
	raw, _ := decodeObject([]byte(fmt.Sprintf(`{"n":%d}`, n)))
	return raw["n"]
}

func transaction() map[string]any {
	return map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		map[string]any{"fullUrl": "urn:uuid:3f1c2a52-6a3e-4a53-8f7c-1f0a3e1b2c3d", "resource": patient("9449305552"),
			"request": map[string]any{"method": "POST", "url": "Patient"}},
		map[string]any{"fullUrl": "urn:uuid:7b2e1d4c-0c1a-4e5b-9a8d-2c3b4a5d6e7f", "resource": encounter("E1", "in-progress", "urn:uuid:3f1c2a52-6a3e-4a53-8f7c-1f0a3e1b2c3d"),
			"request": map[string]any{"method": "POST", "url": "Encounter"}},
	}}
}

// faultBreaks names the probes each fault must make fail; every other probe must pass.
var faultBreaks = map[string][]string{
	FaultNoETag:                  {"etag"},
	FaultNoLocation:              {"location"},
	FaultCreateStatus200:         {"create-status"},
	FaultWrongContentType:        {"content-type"},
	FaultIgnoreIfNoneExist:       {"conditional-create"},
	FaultIgnoreConditionalUpdate: {"conditional-update"},
	FaultIgnoreIfMatch:           {"if-match"},
	FaultNoVersionIncrement:      {"versioning"},
	FaultAcceptInvalid:           {"validation"},
	FaultValidateAlwaysOK:        {"validate-op"},
	FaultSearchIgnoresIdentifier: {"search-identifier"},
	FaultSearchIgnoresPatient:    {"search-patient"},
	FaultDropRequestID:           {"request-id"},
	FaultDropCorrelationID:       {"correlation-id"},
	FaultAcceptMissingHeaders:    {"bars-headers"},
	FaultWrongErrorCode:          {"bars-error-code"},
	FaultNoReplayConflict:        {"bars-replay"},
	FaultIgnoreCancellation:      {"bars-cancellation"},
	FaultNoAsyncResponse:         {"bars-async-response", "bars-response-identifier"},
	FaultWrongResponseIdentifier: {"bars-response-identifier"},
	FaultNoDischargeNotification: {"discharge-notification"},
	FaultDeleteKeepsResource:     {"delete"},
	FaultNoHistory:               {"history"},
	FaultTransactionKeepsURN:     {"transaction-urn"},
	FaultCapabilityWrongVersion:  {"capability"},

	FaultCapabilityNoSearch:         {"capability-search"},
	FaultCapabilityNoProfiles:       {"capability-profiles"},
	FaultCapabilityNoMessaging:      {"capability-messaging"},
	FaultDropNestedExtensions:       {"nested-extensions"},
	FaultBirthDateAsDateTime:        {"birth-date"},
	FaultInvalidLengthOfStay:        {"finished-encounter"},
	FaultDocumentStripsSectionText:  {"document-section-text"},
	FaultDocumentRewritesReferences: {"document-references"},
	FaultDocumentWithTotal:          {"document-total"},
	FaultDocumentPreliminary:        {"document-status"},
	FaultIgnoreMessageCounts:        {"bars-counts"},
	FaultStoreFocusOnly:             {"bars-stored"},
	FaultEmptyAcknowledgement:       {"bars-acknowledgement"},
}

func failingProbes(t *testing.T, faults ...string) []string {
	var failed []string
	for _, p := range probes {
		if err := p.check(newEnv(t, faults...)); err != nil {
			failed = append(failed, p.name)
			t.Logf("%v: probe %s: %v", faults, p.name, err)
		}
	}
	sort.Strings(failed)
	return failed
}

func TestEveryProbePassesWithoutFaults(t *testing.T) {
	assert.Empty(t, failingProbes(t))
}

func TestEachFaultBreaksExactlyItsBehaviours(t *testing.T) {
	require.Len(t, faultBreaks, len(Faults()), "every fault needs its expected probes")
	for _, f := range Faults() {
		t.Run(f.Name, func(t *testing.T) {
			want, ok := faultBreaks[f.Name]
			require.True(t, ok, "no expected probes for fault %s", f.Name)
			want = append([]string(nil), want...)
			sort.Strings(want)
			assert.Equal(t, want, failingProbes(t, f.Name))
		})
	}
}

func TestFaultRegistry(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Faults() {
		assert.False(t, seen[f.Name], "duplicate fault %s", f.Name)
		seen[f.Name] = true
		assert.NotEmpty(t, f.Breaks, f.Name)
		assert.Regexp(t, `^[a-z0-9]+(-[a-z0-9]+)*$`, f.Name)
	}
	_, err := New(Options{Faults: []string{"no-such-fault"}})
	var unknown *UnknownFaultError
	require.ErrorAs(t, err, &unknown)
	assert.Equal(t, "no-such-fault", unknown.Name)
}

func TestFaultsAnswerOddResourcesWithoutInternalErrors(t *testing.T) {
	odd := []struct {
		method, target string
		body           any
	}{
		{"POST", "/fhir/Bundle", map[string]any{"resourceType": "Bundle", "type": "document", "total": "x", "entry": []any{
			"not an entry",
			map[string]any{"fullUrl": "urn:uuid:", "resource": map[string]any{"resourceType": "Composition", "status": "final", "section": "text"}},
			map[string]any{"fullUrl": 7, "resource": []any{}},
		}}},
		{"POST", "/fhir/Bundle", map[string]any{"resourceType": "Bundle", "type": "document", "entry": "none"}},
		{"POST", "/fhir/Patient", map[string]any{"resourceType": "Patient", "birthDate": 1970, "identifier": "x"}},
		{"POST", "/fhir/Patient", map[string]any{"resourceType": "Patient", "birthDate": "1970-13-99"}},
		{"POST", "/fhir/Encounter", map[string]any{"resourceType": "Encounter", "status": "finished", "period": "2025"}},
		{"POST", "/fhir/Encounter", map[string]any{"resourceType": "Encounter", "status": "finished",
			"period":          map[string]any{"start": "2025-01-03T10:00:00Z", "end": "2025-01-01T10:00:00Z"},
			"hospitalization": map[string]any{"extension": "x", "admitSource": []any{map[string]any{"extension": []any{nil}}}}}},
		{"POST", "/fhir/$process-message", referral(newUUID(), newUUID(), "new", "active")},
	}
	for _, f := range Faults() {
		t.Run(f.Name, func(t *testing.T) {
			e := newEnv(t, f.Name)
			for _, o := range odd {
				r := e.do(o.method, o.target, o.body, barsHeaders())
				assert.NotEqual(t, 500, r.status, "%s %s: %s", o.method, o.target, r.raw)
				if len(r.raw) > 0 {
					assert.NotNil(t, r.body, "%s %s answered %s", o.method, o.target, r.raw)
				}
			}
		})
	}
}
