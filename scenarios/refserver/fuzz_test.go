package refserver

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

var fuzzMethods = []string{"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"}

// FuzzServeHTTP sends arbitrary requests: the server must answer each with a
// status and, when there is a body, one JSON object; it must never panic.
func FuzzServeHTTP(f *testing.F) {
	seedBodies := []any{patient("9449305552"), transaction(), referral("b1", "s1", "new", "active"), encounter("E", "", "Patient/p")}
	for i, b := range seedBodies {
		raw, _ := json.Marshal(b)
		f.Add(uint8(i), "/fhir/Patient", raw, "")
	}
	for _, p := range []string{"/fhir", "/fhir/$process-message", "/fhir/Encounter?identifier=a|b", "/fhir/Patient/x/_history/1", "/fhir/metadata", "/fhir/Encounter/$validate", "/fhir/Patient?_lastUpdated=ge2020"} {
		f.Add(uint8(1), p, []byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"POST","url":"Patient"},"resource":{"resourceType":"Patient"}}]}`), "identifier=x")
	}
	f.Add(uint8(1), "/fhir/$process-message", []byte(`{"resourceType":"Bundle","type":"message","id":"1","timestamp":"x","entry":[{"resource":{"resourceType":"MessageHeader","eventCoding":{"system":"https://fhir.nhs.uk/CodeSystem/message-events-bars"}}}]}`), "")
	f.Fuzz(func(t *testing.T, m uint8, path string, body []byte, ifNoneExist string) {
		u, err := url.ParseRequestURI(path)
		if err != nil || !strings.HasPrefix(path, "/") {
			return
		}
		srv, err := New(Options{Validator: &fakeValidator{}, PushURL: testPushURL})
		if err != nil {
			t.Fatal(err)
		}
		srv.opts.PushClient.Transport = &pushRecorder{}
		req := httptest.NewRequest(fuzzMethods[int(m)%len(fuzzMethods)], "/", strings.NewReader(string(body)))
		req.URL, req.RequestURI = u, path
		req.Header.Set("Content-Type", "application/fhir+json")
		if safeHeader(ifNoneExist) {
			req.Header.Set("If-None-Exist", ifNoneExist)
			req.Header.Set("If-Match", ifNoneExist)
		}
		for k, v := range barsHeaders() {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		srv.Wait()
		if rec.Code < 200 || rec.Code > 599 {
			t.Fatalf("status %d", rec.Code)
		}
		if rec.Code == 500 {
			t.Fatalf("internal error for %s %s: %s", req.Method, path, rec.Body.String())
		}
		if rec.Body.Len() > 0 {
			if _, err := decodeObject(rec.Body.Bytes()); err != nil {
				t.Fatalf("response is not a JSON object: %v", err)
			}
		}
	})
}

// FuzzParseSearch parses arbitrary query strings as Encounter searches and runs them.
func FuzzParseSearch(f *testing.F) {
	for _, q := range []string{"identifier=a|b", "patient=Patient/1,2", "_lastUpdated=gt2020-01-01T10:00:00Z", "_count=2&_offset=1", "status=a\\,b", "subject=http://x/Patient/1"} {
		f.Add(q)
	}
	srv, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	e := &testEnv{t: f, srv: srv, pushes: &pushRecorder{}}
	e.do("POST", "/fhir/Encounter", encounter("E1", "in-progress", "Patient/1"), nil)
	f.Fuzz(func(t *testing.T, raw string) {
		vals, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := parseSearch("Encounter", vals)
		if err != nil {
			return
		}
		srv.store.mu.RLock()
		matches := srv.search(q)
		srv.store.mu.RUnlock()
		if len(matches) > 1 {
			t.Fatalf("%d matches from a store of one", len(matches))
		}
		srv.searchset("http://x/fhir", q, matches)
	})
}

// FuzzDecodeTargetIdentifier decodes arbitrary NHSD-Target-Identifier values.
func FuzzDecodeTargetIdentifier(f *testing.F) {
	f.Add(barsHeaders()["NHSD-Target-Identifier"])
	f.Add("e30=")
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, v string) {
		id, problem := decodeTargetIdentifier(v)
		if (id == nil) == (problem == "") {
			t.Fatalf("identifier %v with problem %q", id, problem)
		}
	})
}
