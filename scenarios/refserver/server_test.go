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
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCRUDLifecycle(t *testing.T) {
	e := newEnv(t)
	c := e.do("POST", "/fhir/Patient", patient("9449305552"), nil)
	require.Equal(t, 201, c.status, string(c.raw))
	id := c.str("id")
	assert.True(t, validID(id))
	assert.Equal(t, "1", c.str("meta", "versionId"))
	assert.NotEmpty(t, c.str("meta", "lastUpdated"))
	assert.Equal(t, `W/"1"`, c.header.Get("ETag"))
	assert.NotEmpty(t, c.header.Get("Last-Modified"))
	assert.Equal(t, "application/fhir+json; charset=utf-8", c.header.Get("Content-Type"))

	r := e.do("GET", "/fhir/Patient/"+id, nil, nil)
	assert.Equal(t, 200, r.status)
	assert.Equal(t, c.raw, r.raw)

	upd := patient("9449305552")
	upd["id"] = id
	upd["gender"] = "female"
	u := e.do("PUT", "/fhir/Patient/"+id, upd, map[string]string{"If-Match": `W/"1"`})
	require.Equal(t, 200, u.status, string(u.raw))
	assert.Equal(t, `W/"2"`, u.header.Get("ETag"))
	assert.Equal(t, "female", u.str("gender"))
	assert.Empty(t, u.header.Get("Location"))

	v1 := e.do("GET", "/fhir/Patient/"+id+"/_history/1", nil, nil)
	assert.Equal(t, 200, v1.status)
	assert.Empty(t, v1.str("gender"))
	assert.Equal(t, 404, e.do("GET", "/fhir/Patient/"+id+"/_history/9", nil, nil).status)
	assert.Equal(t, 400, e.do("GET", "/fhir/Patient/"+id+"/_history/x", nil, nil).status)

	h := e.do("GET", "/fhir/Patient/"+id+"/_history", nil, nil)
	assert.Equal(t, "history", h.str("type"))
	assert.Equal(t, "2", h.str("entry", "0", "resource", "meta", "versionId"))
	assert.Equal(t, "PUT", h.str("entry", "0", "request", "method"))
	assert.Equal(t, "POST", h.str("entry", "1", "request", "method"))

	assert.Equal(t, 204, e.do("DELETE", "/fhir/Patient/"+id, nil, nil).status)
	gone := e.do("GET", "/fhir/Patient/"+id, nil, nil)
	assert.Equal(t, 410, gone.status)
	assert.Equal(t, "OperationOutcome", gone.str("resourceType"))
	assert.Equal(t, 204, e.do("DELETE", "/fhir/Patient/"+id, nil, nil).status, "delete is idempotent")
	assert.Equal(t, 3, len(e.do("GET", "/fhir/Patient/"+id+"/_history", nil, nil).body["entry"].([]any)))

	s := e.do("GET", "/fhir/Patient?_id="+id, nil, nil)
	assert.Equal(t, jsonInt(0), s.body["total"], "deleted resources are not found")

	th := e.do("GET", "/fhir/Patient/_history", nil, nil)
	assert.Equal(t, jsonInt(3), th.body["total"])
}

func TestUpdateAsCreateAndErrors(t *testing.T) {
	e := newEnv(t)
	p := patient("9449305552")
	p["id"] = "chosen-id"
	c := e.do("PUT", "/fhir/Patient/chosen-id", p, nil)
	assert.Equal(t, 201, c.status)
	assert.Equal(t, "http://fhir.test/fhir/Patient/chosen-id/_history/1", c.header.Get("Location"))

	tests := []struct {
		name   string
		method string
		target string
		body   any
		hdr    map[string]string
		want   int
	}{
		{name: "id mismatch", method: "PUT", target: "/fhir/Patient/other", body: p, want: 400},
		{name: "no id in body", method: "PUT", target: "/fhir/Patient/chosen-id", body: patient("1"), want: 400},
		{name: "stale If-Match", method: "PUT", target: "/fhir/Patient/chosen-id", body: p, hdr: map[string]string{"If-Match": `W/"7"`}, want: 412},
		{name: "malformed If-Match", method: "PUT", target: "/fhir/Patient/chosen-id", body: p, hdr: map[string]string{"If-Match": `nonsense`}, want: 400},
		{name: "type mismatch", method: "POST", target: "/fhir/Encounter", body: p, want: 400},
		{name: "no resourceType", method: "POST", target: "/fhir/Patient", body: map[string]any{"id": "x"}, want: 400},
		{name: "bad id in body", method: "POST", target: "/fhir/Patient", body: map[string]any{"resourceType": "Patient", "id": "a b"}, want: 400},
		{name: "meta not object", method: "POST", target: "/fhir/Patient", body: map[string]any{"resourceType": "Patient", "meta": "x"}, want: 400},
		{name: "not JSON", method: "POST", target: "/fhir/Patient", body: "{nope", want: 400},
		{name: "JSON array", method: "POST", target: "/fhir/Patient", body: "[]", want: 400},
		{name: "trailing data", method: "POST", target: "/fhir/Patient", body: `{"resourceType":"Patient"} {}`, want: 400},
		{name: "duplicate property", method: "POST", target: "/fhir/Patient", body: `{"resourceType":"Patient","gender":"male","gender":"female"}`, want: 400},
		{name: "invalid UTF-8", method: "POST", target: "/fhir/Patient", body: "{\"resourceType\":\"Patient\",\"gender\":\"\xff\"}", want: 400},
		{name: "XML content type", method: "POST", target: "/fhir/Patient", body: "<Patient/>", hdr: map[string]string{"Content-Type": "application/fhir+xml"}, want: 415},
		{name: "XML accept", method: "GET", target: "/fhir/metadata", hdr: map[string]string{"Accept": "application/fhir+xml"}, want: 406},
		{name: "xml _format", method: "GET", target: "/fhir/metadata?_format=xml", want: 406},
		{name: "unknown type", method: "GET", target: "/fhir/Frobnicate", want: 404},
		{name: "Parameters not storable", method: "POST", target: "/fhir/Parameters", body: map[string]any{"resourceType": "Parameters"}, want: 404},
		{name: "outside base", method: "GET", target: "/other", want: 404},
		{name: "bad id in path", method: "GET", target: "/fhir/Patient/" + strings.Repeat("x", 65), want: 400},
		{name: "unknown id", method: "GET", target: "/fhir/Patient/nobody", want: 404},
		{name: "patch not allowed", method: "PATCH", target: "/fhir/Patient/chosen-id", want: 405},
		{name: "metadata POST", method: "POST", target: "/fhir/metadata", want: 405},
		{name: "type PUT without condition", method: "PUT", target: "/fhir/Patient", body: p, want: 405},
		{name: "invalid resource", method: "POST", target: "/fhir/Encounter", body: encounter("E", "", "Patient/p"), want: 422},
		{name: "validator failure", method: "POST", target: "/fhir/Basic", body: map[string]any{"resourceType": "Basic", "id": "break-validator"}, want: 500},
		{name: "too deep path", method: "GET", target: "/fhir/Patient/a/_history/1/x", want: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.target, tc.body, tc.hdr)
			assert.Equal(t, tc.want, r.status, string(r.raw))
			assert.Equal(t, "OperationOutcome", r.str("resourceType"), string(r.raw))
		})
	}
}

func TestInvalidResourceOutcomeCarriesValidatorIssues(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/fhir/Encounter", encounter("E", "", "Patient/p"), nil)
	require.Equal(t, 422, r.status)
	assert.Equal(t, "Encounter.status", r.str("issue", "0", "expression", "0"))
	assert.Equal(t, "required", r.str("issue", "0", "code"))
	assert.Equal(t, []string{"https://fhir.hl7.org.uk/StructureDefinition/UKCore-Encounter"}, e.val.profiles[0])
}

func TestBodyLimit(t *testing.T) {
	val := &fakeValidator{}
	srv, err := New(Options{Validator: val, MaxBodyBytes: 100})
	require.NoError(t, err)
	e := &testEnv{t: t, srv: srv, val: val, pushes: &pushRecorder{}}
	big := patient(strings.Repeat("1", 200))
	assert.Equal(t, 413, e.do("POST", "/fhir/Patient", big, nil).status)
}

func TestStoreLimit(t *testing.T) {
	srv, err := New(Options{MaxVersions: 2})
	require.NoError(t, err)
	e := &testEnv{t: t, srv: srv, pushes: &pushRecorder{}}
	assert.Equal(t, 201, e.do("POST", "/fhir/Patient", patient("1"), nil).status)
	assert.Equal(t, 201, e.do("POST", "/fhir/Patient", patient("2"), nil).status)
	assert.Equal(t, 507, e.do("POST", "/fhir/Patient", patient("3"), nil).status)

	small, err := New(Options{MaxStoreSize: 500})
	require.NoError(t, err)
	se := &testEnv{t: t, srv: small, pushes: &pushRecorder{}}
	assert.Equal(t, 201, se.do("POST", "/fhir/Patient", patient("1"), nil).status)
	full := se.do("POST", "/fhir", transaction(), nil)
	assert.Equal(t, 507, full.status, string(full.raw))
	assert.Equal(t, jsonInt(1), se.do("GET", "/fhir/Patient", nil, nil).body["total"], "the failed transaction was rolled back")
	assert.Equal(t, 201, se.do("POST", "/fhir/Patient", patient("2"), nil).status, "rollback frees its bytes")
}

func TestConditionalInteractions(t *testing.T) {
	e := newEnv(t)
	cond := "/fhir/Encounter?identifier=https://trust.example/encounter|E1"
	first := e.do("PUT", cond, encounter("E1", "in-progress", "Patient/p1"), nil)
	require.Equal(t, 201, first.status, string(first.raw))
	assert.NotEmpty(t, first.header.Get("Location"))
	second := e.do("PUT", cond, encounter("E1", "in-progress", "Patient/p1"), nil)
	require.Equal(t, 200, second.status)
	assert.Equal(t, first.str("id"), second.str("id"))
	assert.Equal(t, "2", second.str("meta", "versionId"))

	found := e.do("GET", "/fhir/Encounter?identifier=https://trust.example/encounter|E1", nil, nil)
	assert.Equal(t, jsonInt(1), found.body["total"])

	clash := encounter("E1", "in-progress", "Patient/p1")
	clash["id"] = "someone-else"
	assert.Equal(t, 400, e.do("PUT", cond, clash, nil).status)

	e.do("POST", "/fhir/Encounter", encounter("E1", "planned", "Patient/p9"), nil)
	assert.Equal(t, 412, e.do("PUT", cond, encounter("E1", "in-progress", "Patient/p1"), nil).status, "two matches")
	h := map[string]string{"If-None-Exist": "identifier=https://trust.example/encounter|E1"}
	assert.Equal(t, 412, e.do("POST", "/fhir/Encounter", encounter("E1", "planned", "Patient/p1"), h).status)
	assert.Equal(t, 400, e.do("PUT", "/fhir/Encounter?frobnicate=1", encounter("E1", "planned", "Patient/p1"), nil).status)

	assert.Equal(t, 412, e.do("DELETE", cond, nil, nil).status)
	assert.Equal(t, 204, e.do("DELETE", "/fhir/Encounter?identifier=none|none", nil, nil).status)
	assert.Equal(t, 204, e.do("DELETE", "/fhir/Encounter?_id="+first.str("id"), nil, nil).status)
	assert.Equal(t, 410, e.do("GET", "/fhir/Encounter/"+first.str("id"), nil, nil).status)
}

func TestSearch(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i, p := range []string{"Patient/p1", "Patient/p1", "Patient/p2"} {
		status := []string{"in-progress", "finished", "in-progress"}[i]
		r := e.do("POST", "/fhir/Encounter", encounter("E"+string(rune('1'+i)), status, p), nil)
		require.Equal(t, 201, r.status)
		ids = append(ids, r.str("id"))
	}
	e.do("POST", "/fhir/Encounter", encounter("X", "in-progress", "Group/p1"), nil)
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{name: "identifier system|value", query: "identifier=https://trust.example/encounter|E1", want: ids[:1]},
		{name: "identifier value", query: "identifier=E2", want: ids[1:2]},
		{name: "identifier system|", query: "identifier=https://trust.example/encounter|", want: append(append([]string{}, ids...), "")},
		{name: "identifier |value has no system", query: "identifier=|E1"},
		{name: "identifier OR", query: "identifier=E1,E3", want: []string{ids[0], ids[2]}},
		{name: "patient id", query: "patient=p1", want: ids[:2]},
		{name: "patient Type/id", query: "patient=Patient/p2", want: ids[2:]},
		{name: "patient absolute", query: "patient=http://fhir.test/fhir/Patient/p2", want: ids[2:]},
		{name: "patient ignores other types", query: "patient=Group/p1"},
		{name: "subject any type", query: "subject=p1", want: append(append([]string{}, ids[:2]...), "")},
		{name: "status", query: "status=finished", want: ids[1:2]},
		{name: "and of two", query: "patient=p1&status=in-progress", want: ids[:1]},
		{name: "_id", query: "_id=" + ids[2], want: ids[2:]},
		{name: "_lastUpdated gt past", query: "_lastUpdated=gt2000-01-01", want: append(append([]string{}, ids...), "")},
		{name: "_lastUpdated lt past", query: "_lastUpdated=lt2000-01-01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", "/fhir/Encounter?"+tc.query, nil, nil)
			require.Equal(t, 200, r.status, string(r.raw))
			assert.Equal(t, "searchset", r.str("type"))
			assert.Equal(t, jsonInt(len(tc.want)), r.body["total"])
			for i, id := range tc.want {
				if id != "" {
					assert.Equal(t, id, r.str("entry", itoa(i), "resource", "id"))
					assert.Equal(t, "match", r.str("entry", itoa(i), "search", "mode"))
				}
			}
		})
	}

	page := e.do("GET", "/fhir/Encounter?_count=2", nil, nil)
	assert.Equal(t, jsonInt(4), page.body["total"])
	assert.Len(t, page.body["entry"], 2)
	assert.Equal(t, "next", page.str("link", "1", "relation"))
	next := page.str("link", "1", "url")
	rest := e.do("GET", strings.TrimPrefix(next, "http://fhir.test"), nil, nil)
	assert.Len(t, rest.body["entry"], 2)
	assert.Equal(t, ids[2], rest.str("entry", "0", "resource", "id"))

	countOnly := e.do("GET", "/fhir/Encounter?_count=0", nil, nil)
	assert.Equal(t, jsonInt(4), countOnly.body["total"])
	assert.Empty(t, countOnly.body["entry"])
	assert.Len(t, countOnly.body["link"], 1, "no next link for _count=0")
	last := e.do("GET", "/fhir/Encounter?_count=2&_offset=2", nil, nil)
	assert.Len(t, last.body["link"], 1, "no next link on the last page")

	post := e.do("POST", "/fhir/Encounter/_search", "status=finished", map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	assert.Equal(t, jsonInt(1), post.body["total"])

	for _, bad := range []string{"identifier=" + strings.Repeat("x,", 100) + "x", strings.Repeat("status=x&", 21) + "status=y", "frobnicate=1", "_count=-1", "_count=x", "_lastUpdated=yesterday", "identifier=", "_sort=status", "status:not=x"} {
		assert.Equal(t, 400, e.do("GET", "/fhir/Encounter?"+bad, nil, nil).status, bad)
	}
	assert.Equal(t, 400, e.do("GET", "/fhir/Organization?status=active", nil, nil).status, "status is not advertised for Organization")

	lenient := e.do("GET", "/fhir/Encounter?frobnicate=1&status=finished", nil, map[string]string{"Prefer": "handling=lenient"})
	require.Equal(t, 200, lenient.status, string(lenient.raw))
	assert.Equal(t, jsonInt(1), lenient.body["total"])
	assert.NotContains(t, lenient.str("link", "0", "url"), "frobnicate", "the self link shows the parameters used")
	assert.Equal(t, 400, e.do("GET", "/fhir/Encounter?frobnicate=1", nil, map[string]string{"Prefer": "handling=strict"}).status)
}

func itoa(i int) string { return string(rune('0' + i)) }

func TestTransactionAndBatch(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/fhir", transaction(), nil)
	require.Equal(t, 200, r.status, string(r.raw))
	assert.Equal(t, "transaction-response", r.str("type"))
	assert.Equal(t, "201 Created", r.str("entry", "0", "response", "status"))
	pid := r.str("entry", "0", "resource", "id")
	assert.Equal(t, "Patient/"+pid, r.str("entry", "1", "resource", "subject", "reference"))
	assert.Equal(t, "Patient/"+pid+"/_history/1", r.str("entry", "0", "response", "location"))

	bad := transaction()
	entries := bad["entry"].([]any)
	entries[1].(map[string]any)["resource"] = encounter("E9", "", "urn:uuid:3f1c2a52-6a3e-4a53-8f7c-1f0a3e1b2c3d")
	f := e.do("POST", "/fhir", bad, nil)
	assert.Equal(t, 422, f.status, string(f.raw))
	assert.Equal(t, jsonInt(1), e.do("GET", "/fhir/Patient", nil, nil).body["total"], "a failed transaction stores nothing")

	conflict := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		map[string]any{"resource": patient("9449305552"), "request": map[string]any{"method": "POST", "url": "Patient"}},
		map[string]any{"resource": map[string]any{"resourceType": "Patient", "id": pid}, "request": map[string]any{"method": "PUT", "url": "Patient/" + pid, "ifMatch": `W/"5"`}},
	}}
	assert.Equal(t, 412, e.do("POST", "/fhir", conflict, nil).status)
	assert.Equal(t, jsonInt(1), e.do("GET", "/fhir/Patient", nil, nil).body["total"], "rolled back")

	batch := map[string]any{"resourceType": "Bundle", "type": "batch", "entry": []any{
		map[string]any{"resource": patient("9449306621"), "request": map[string]any{"method": "POST", "url": "Patient"}},
		map[string]any{"resource": encounter("E9", "", "Patient/x"), "request": map[string]any{"method": "POST", "url": "Encounter"}},
		map[string]any{"request": map[string]any{"method": "GET", "url": "Patient/" + pid}},
		map[string]any{"request": map[string]any{"method": "GET", "url": "Patient?identifier=9449306621"}},
		map[string]any{"request": map[string]any{"method": "DELETE", "url": "Patient/" + pid}},
		map[string]any{"request": map[string]any{"method": "PATCH", "url": "Patient/" + pid}},
		"not an entry",
	}}
	b := e.do("POST", "/fhir", batch, nil)
	require.Equal(t, 200, b.status, string(b.raw))
	assert.Equal(t, "batch-response", b.str("type"))
	assert.Equal(t, "201 Created", b.str("entry", "0", "response", "status"))
	assert.Equal(t, "422 Unprocessable Entity", b.str("entry", "1", "response", "status"))
	assert.Equal(t, "200 OK", b.str("entry", "2", "response", "status"))
	assert.Equal(t, "searchset", b.str("entry", "3", "resource", "type"))
	assert.Equal(t, "204 No Content", b.str("entry", "4", "response", "status"))
	assert.Equal(t, "400 Bad Request", b.str("entry", "5", "response", "status"))
	assert.Equal(t, "400 Bad Request", b.str("entry", "6", "response", "status"))

	for _, kind := range []string{"document", "collection", ""} {
		assert.Equal(t, 400, e.do("POST", "/fhir", map[string]any{"resourceType": "Bundle", "type": kind}, nil).status)
	}
	assert.Equal(t, 400, e.do("POST", "/fhir", patient("1"), nil).status)
}

func TestTransactionConditionalEntries(t *testing.T) {
	e := newEnv(t)
	existing := e.do("POST", "/fhir/Patient", patient("9449305552"), nil)
	tx := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		map[string]any{"fullUrl": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000001", "resource": patient("9449305552"),
			"request": map[string]any{"method": "POST", "url": "Patient", "ifNoneExist": "identifier=https://fhir.nhs.uk/Id/nhs-number|9449305552"}},
		map[string]any{"fullUrl": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000002", "resource": encounter("E1", "in-progress", "urn:uuid:aaaaaaaa-0000-4000-8000-000000000001"),
			"request": map[string]any{"method": "PUT", "url": "Encounter?identifier=https://trust.example/encounter|E1"}},
	}}
	r := e.do("POST", "/fhir", tx, nil)
	require.Equal(t, 200, r.status, string(r.raw))
	assert.Equal(t, "200 OK", r.str("entry", "0", "response", "status"))
	assert.Equal(t, existing.str("id"), r.str("entry", "0", "resource", "id"))
	assert.Equal(t, "Patient/"+existing.str("id"), r.str("entry", "1", "resource", "subject", "reference"))
	assert.Equal(t, "201 Created", r.str("entry", "1", "response", "status"))
	again := e.do("POST", "/fhir", tx, nil)
	assert.Equal(t, "200 OK", again.str("entry", "1", "response", "status"))
	assert.Equal(t, r.str("entry", "1", "resource", "id"), again.str("entry", "1", "resource", "id"))
}

func TestValidateOperation(t *testing.T) {
	e := newEnv(t)
	ok := e.do("POST", "/fhir/Patient/$validate", patient("9449305552"), nil)
	assert.Equal(t, 200, ok.status)
	assert.Equal(t, "information", ok.str("issue", "0", "severity"))

	params := map[string]any{"resourceType": "Parameters", "parameter": []any{
		map[string]any{"name": "resource", "resource": encounter("E", "", "Patient/p")},
		map[string]any{"name": "profile", "valueUri": "https://example.org/StructureDefinition/extra"},
	}}
	bad := e.do("POST", "/fhir/Encounter/$validate", params, nil)
	assert.Equal(t, 200, bad.status)
	assert.Equal(t, "error", bad.str("issue", "0", "severity"))
	last := e.val.profiles[len(e.val.profiles)-1]
	assert.Equal(t, []string{"https://fhir.hl7.org.uk/StructureDefinition/UKCore-Encounter", "https://example.org/StructureDefinition/extra"}, last)
	assert.Equal(t, 0, len(e.do("GET", "/fhir/Encounter", nil, nil).body["entry"].([]any)), "$validate stores nothing")
	assert.Equal(t, 400, e.do("POST", "/fhir/Encounter/$validate", map[string]any{"resourceType": "Parameters"}, nil).status)

	plain, err := New(Options{})
	require.NoError(t, err)
	pe := &testEnv{t: t, srv: plain, pushes: &pushRecorder{}}
	st := pe.do("POST", "/fhir/Encounter/$validate", encounter("E", "", "Patient/p"), nil)
	assert.Equal(t, "warning", st.str("issue", "0", "severity"))
	assert.Contains(t, st.str("issue", "0", "diagnostics"), "no profile validator")
}

func TestMetadata(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/fhir/metadata", nil, nil)
	require.Equal(t, 200, r.status)
	assert.Equal(t, "CapabilityStatement", r.str("resourceType"))
	assert.Equal(t, "4.0.1", r.str("fhirVersion"))
	assert.Equal(t, "instance", r.str("kind"))
	assert.Equal(t, "http://fhir.test/fhir", r.str("implementation", "url"))
	resources := walk(r.body, "rest", "0", "resource").([]any)
	assert.Len(t, resources, 144)
	var enc map[string]any
	for _, x := range resources {
		if x.(map[string]any)["type"] == "Encounter" {
			enc = x.(map[string]any)
		}
	}
	require.NotNil(t, enc)
	assert.Equal(t, []any{"https://fhir.hl7.org.uk/StructureDefinition/UKCore-Encounter"}, enc["supportedProfile"])
	assert.Equal(t, true, enc["conditionalUpdate"])
	var names []string
	for _, p := range enc["searchParam"].([]any) {
		names = append(names, p.(map[string]any)["name"].(string))
	}
	assert.Equal(t, []string{"_id", "_lastUpdated", "identifier", "patient", "status", "subject"}, names)
	assert.Equal(t, "process-message", r.str("rest", "0", "operation", "0", "name"))
}

func TestBaRSReferral(t *testing.T) {
	e := newEnv(t)
	bundleID, sr := newUUID(), newUUID()
	h := barsHeaders()
	sent := referral(bundleID, sr, "new", "active")
	r := e.do("POST", "/fhir/$process-message", sent, h)
	require.Equal(t, 200, r.status, string(r.raw))
	assert.Equal(t, h["X-Request-Id"], r.header.Get("X-Request-Id"))
	assert.Equal(t, h["X-Correlation-Id"], r.header.Get("X-Correlation-Id"))

	stored := e.do("GET", "/fhir/ServiceRequest/"+sr, nil, nil)
	require.Equal(t, 200, stored.status)
	assert.Equal(t, "active", stored.str("status"))
	subject := stored.str("subject", "reference")
	assert.Regexp(t, `^Patient/[0-9a-f-]{36}$`, subject, "references between entries point at the stored resources")
	assert.Equal(t, 200, e.do("GET", "/fhir/"+subject, nil, nil).status)
	assert.Equal(t, jsonInt(0), e.do("GET", "/fhir/MessageHeader", nil, nil).body["total"], "the MessageHeader is not stored")

	msgs := e.pushed()
	require.Len(t, msgs, 1)
	assert.Equal(t, testPushURL+"/$process-message", msgs[0].url)
	assert.Equal(t, h["X-Correlation-Id"], msgs[0].header.Get("X-Correlation-Id"))
	assert.True(t, isUUID(msgs[0].header.Get("X-Request-Id")))
	target, err := base64.StdEncoding.DecodeString(msgs[0].header.Get("NHSD-Target-Identifier"))
	require.NoError(t, err)
	assert.JSONEq(t, `{"system":"https://fhir.nhs.uk/Id/dos-service-id","value":"1111111111"}`, string(target))
	resp := &result{body: msgs[0].body}
	assert.Equal(t, "message", resp.str("type"))
	assert.Equal(t, BaRSMessageEvents, resp.str("entry", "0", "resource", "eventCoding", "system"))
	assert.Equal(t, "servicerequest-response", resp.str("entry", "0", "resource", "eventCoding", "code"))
	assert.Equal(t, bundleID, resp.str("entry", "0", "resource", "response", "identifier"))
	assert.Equal(t, "ok", resp.str("entry", "0", "resource", "response", "code"))
	assert.Equal(t, "https://fhir.nhs.uk/Id/dos-service-id|1111111111", resp.str("entry", "0", "resource", "destination", "0", "endpoint"))
	assert.Equal(t, sr, resp.str("entry", "1", "resource", "id"))
	assert.Equal(t, resp.str("entry", "1", "fullUrl"), resp.str("entry", "0", "resource", "focus", "0", "reference"))
	assert.Len(t, resp.body["entry"], 11, "the response carries the referral's resources")
	assert.Equal(t, walk(sent, "entry", "0", "resource", "sender"), walk(resp.body, "entry", "0", "resource", "destination", "0", "receiver"))

	again := e.do("POST", "/fhir/$process-message", referral(newUUID(), newUUID(), "new", "active"), h)
	assert.Equal(t, 409, again.status)
	system, code := errorCoding(again)
	assert.Equal(t, HTTPErrorCodes, system)
	assert.Equal(t, "REC_CONFLICT", code)

	cancel := e.do("POST", "/fhir/$process-message", referral(newUUID(), sr, "update", "revoked"), barsHeaders())
	require.Equal(t, 200, cancel.status, string(cancel.raw))
	after := e.do("GET", "/fhir/ServiceRequest/"+sr, nil, nil)
	assert.Equal(t, "revoked", after.str("status"))
	assert.Equal(t, "2", after.str("meta", "versionId"))
}

func TestBaRSRejections(t *testing.T) {
	valid := func() map[string]any { return referral(newUUID(), newUUID(), "new", "active") }
	tests := []struct {
		name   string
		msg    func() map[string]any
		header func(h map[string]string)
		want   int
		code   string
	}{
		{name: "missing X-Request-Id", msg: valid, header: func(h map[string]string) { h["X-Request-Id"] = "" }, want: 400, code: "REC_BAD_REQUEST"},
		{name: "X-Request-Id not a UUID", msg: valid, header: func(h map[string]string) { h["X-Request-Id"] = "abc" }, want: 400, code: "REC_BAD_REQUEST"},
		{name: "missing X-Correlation-Id", msg: valid, header: func(h map[string]string) { h["X-Correlation-Id"] = "" }, want: 400, code: "REC_BAD_REQUEST"},
		{name: "target not base64", msg: valid, header: func(h map[string]string) { h["NHSD-Target-Identifier"] = "%%%" }, want: 400, code: "REC_BAD_REQUEST"},
		{name: "target not JSON", msg: valid, header: func(h map[string]string) {
			h["NHSD-Target-Identifier"] = base64.StdEncoding.EncodeToString([]byte("x"))
		}, want: 400, code: "REC_BAD_REQUEST"},
		{name: "target without value", msg: valid, header: func(h map[string]string) {
			h["NHSD-Target-Identifier"] = base64.StdEncoding.EncodeToString([]byte(`{"system":"s"}`))
		}, want: 400, code: "REC_BAD_REQUEST"},
		{name: "missing end user organisation", msg: valid, header: func(h map[string]string) { h["NHSD-End-User-Organisation"] = "" }, want: 400, code: "REC_BAD_REQUEST"},
		{name: "missing requesting practitioner", msg: valid, header: func(h map[string]string) { h["NHSD-Requesting-Practitioner"] = "" }, want: 400, code: "REC_BAD_REQUEST"},
		{name: "missing requesting software", msg: valid, header: func(h map[string]string) { h["NHSD-Requesting-Software"] = "" }, want: 400, code: "REC_BAD_REQUEST"},
		{name: "header not first", msg: func() map[string]any {
			m := valid()
			en := m["entry"].([]any)
			en[0], en[1] = en[1], en[0]
			return m
		}, want: 400, code: "REC_BAD_REQUEST"},
		{name: "header last", msg: func() map[string]any {
			m := valid()
			en := m["entry"].([]any)
			m["entry"] = append(append([]any(nil), en[1:]...), en[0])
			return m
		}, want: 400, code: "REC_BAD_REQUEST"},
		{name: "header last without NHSD headers", msg: func() map[string]any {
			m := valid()
			en := m["entry"].([]any)
			m["entry"] = append(append([]any(nil), en[1:]...), en[0])
			return m
		}, header: func(h map[string]string) {
			for k := range h {
				if strings.HasPrefix(k, "NHSD-") {
					delete(h, k)
				}
			}
		}, want: 400, code: "REC_BAD_REQUEST"},
		{name: "unresolved reference", msg: func() map[string]any {
			m := valid()
			walk(m, "entry", "1", "resource").(map[string]any)["subject"] = map[string]any{"reference": "urn:uuid:00000000-0000-4000-8000-000000000000"}
			return m
		}, want: 400, code: "REC_BAD_REQUEST"},
		{name: "two ServiceRequests", msg: func() map[string]any {
			m := valid()
			en := m["entry"].([]any)
			m["entry"] = append(en, map[string]any{"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000001", "resource": map[string]any{"resourceType": "ServiceRequest", "id": "x", "status": "active"}})
			return m
		}, want: 400, code: "REC_BAD_REQUEST"},
		{name: "unknown reason", msg: func() map[string]any {
			m := valid()
			walk(m, "entry", "0", "resource").(map[string]any)["reason"] = map[string]any{"coding": []any{map[string]any{"system": BaRSMessageReasons, "code": "maybe"}}}
			return m
		}, want: 400, code: "REC_BAD_REQUEST"},
		{name: "response event", msg: func() map[string]any {
			m := valid()
			walk(m, "entry", "0", "resource").(map[string]any)["eventCoding"] = map[string]any{"system": BaRSMessageEvents, "code": "booking-request"}
			return m
		}, want: 422, code: "REC_UNPROCESSABLE_ENTITY"},
		{name: "invalid ServiceRequest", msg: func() map[string]any {
			m := valid()
			delete(walk(m, "entry", "1", "resource").(map[string]any), "status")
			return m
		}, want: 200},
		{name: "not a message", msg: func() map[string]any {
			m := valid()
			m["type"] = "collection"
			return m
		}, want: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			h := barsHeaders()
			if tc.header != nil {
				tc.header(h)
			}
			r := e.do("POST", "/fhir/$process-message", tc.msg(), h)
			assert.Equal(t, tc.want, r.status, string(r.raw))
			if tc.code != "" {
				system, code := errorCoding(r)
				assert.Equal(t, HTTPErrorCodes, system)
				assert.Equal(t, tc.code, code)
			}
			if tc.want != 200 {
				assert.Empty(t, e.pushed(), "a rejected message gets no response")
			}
		})
	}
}

func TestBaRSEntriesIdentifiedByFullURLOnly(t *testing.T) {
	e := newEnv(t)
	srID := newUUID()
	msg := referral(newUUID(), srID, "new", "active")
	entries := msg["entry"].([]any)
	sr := walk(msg, "entry", "1", "resource").(map[string]any)
	delete(sr, "id")
	const serviceURL = "https://directory.example/fhir/HealthcareService/hs1"
	service := entries[len(entries)-1].(map[string]any)
	service["fullUrl"] = serviceURL
	delete(service["resource"].(map[string]any), "id")
	sr["performer"] = []any{map[string]any{"reference": serviceURL}}
	const practitionerURL = "urn:oid:2.16.840.1.113883.2.1.4.1.99"
	practitioner := entries[7].(map[string]any)
	require.Equal(t, "Practitioner", walk(practitioner, "resource", "resourceType"))
	delete(practitioner["resource"].(map[string]any), "id")
	practitioner["fullUrl"] = practitionerURL
	walk(msg, "entry", "8", "resource").(map[string]any)["practitioner"] = map[string]any{"reference": practitionerURL}

	r := e.do("POST", "/fhir/$process-message", msg, barsHeaders())
	require.Equal(t, 200, r.status, string(r.raw))

	stored := e.do("GET", "/fhir/ServiceRequest/"+srID, nil, nil)
	require.Equal(t, 200, stored.status, "stored under the uuid of its fullUrl")
	assert.Equal(t, "HealthcareService/hs1", stored.str("performer", "0", "reference"), "stored under the id its RESTful fullUrl names")
	assert.Equal(t, 200, e.do("GET", "/fhir/HealthcareService/hs1", nil, nil).status)
	role := e.do("GET", "/fhir/PractitionerRole/"+walk(msg, "entry", "8", "resource", "id").(string), nil, nil)
	practitionerRef := role.str("practitioner", "reference")
	require.True(t, strings.HasPrefix(practitionerRef, "Practitioner/"), practitionerRef)
	assert.Equal(t, 200, e.do("GET", "/fhir/"+practitionerRef, nil, nil).status, "an entry whose fullUrl names no id gets an id of its own")

	msgs := e.pushed()
	require.Len(t, msgs, 1)
	response := &result{body: msgs[0].body}
	byURL := map[string]string{}
	for i := range response.body["entry"].([]any) {
		n := strconv.Itoa(i)
		byURL[response.str("entry", n, "fullUrl")] = response.str("entry", n, "resource", "id")
	}
	assert.Equal(t, srID, byURL["urn:uuid:"+srID], "the response carries the ServiceRequest with the id it was stored under")
	assert.Equal(t, "hs1", byURL[serviceURL])
	assert.Equal(t, strings.TrimPrefix(practitionerRef, "Practitioner/"), byURL[practitionerURL])
}

func TestNonBaRSMessage(t *testing.T) {
	e := newEnv(t)
	enc := encounter("E1", "in-progress", "Patient/p1")
	enc["id"] = "enc1"
	msg := map[string]any{"resourceType": "Bundle", "id": "m1", "type": "message", "timestamp": "2025-01-01T00:00:00Z", "entry": []any{
		map[string]any{"fullUrl": "urn:uuid:1", "resource": map[string]any{"resourceType": "MessageHeader",
			"eventCoding": map[string]any{"system": "http://terminology.hl7.org/CodeSystem/message-reasons-encounter", "code": "admit"},
			"source":      map[string]any{"endpoint": "https://sender.example"}, "focus": []any{map[string]any{"reference": "Encounter/enc1"}}}},
		map[string]any{"fullUrl": "http://sender.example/fhir/Encounter/enc1", "resource": enc},
	}}
	r := e.do("POST", "/fhir/$process-message", msg, nil)
	require.Equal(t, 200, r.status, string(r.raw))
	assert.Equal(t, "message", r.str("type"))
	assert.Equal(t, "m1", r.str("entry", "0", "resource", "response", "identifier"))
	assert.Equal(t, "ok", r.str("entry", "0", "resource", "response", "code"))
	assert.Equal(t, 200, e.do("GET", "/fhir/Encounter/enc1", nil, nil).status)
}

func TestDischargeNotification(t *testing.T) {
	e := newEnv(t)
	p := patient("9449305552")
	p["generalPractitioner"] = []any{map[string]any{"identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Y12345"}}}
	pid := e.do("POST", "/fhir/Patient", p, nil).str("id")
	cond := "/fhir/Encounter?identifier=https://trust.example/encounter|E1"
	require.Equal(t, 201, e.do("PUT", cond, encounter("E1", "in-progress", "Patient/"+pid), nil).status)
	assert.Empty(t, e.pushed(), "admission pushes nothing")
	fin := encounter("E1", "finished", "Patient/"+pid)
	fin["serviceProvider"] = map[string]any{"identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RR8"}}
	done := e.do("PUT", cond, fin, nil)
	require.Equal(t, 200, done.status)
	e.do("PUT", cond, fin, nil)
	msgs := e.pushed()
	require.Len(t, msgs, 1, "one notification, not one per update")
	m := &result{body: msgs[0].body}
	assert.Equal(t, "message", m.str("type"))
	assert.Equal(t, "http://snomed.info/sct", m.str("entry", "0", "resource", "eventCoding", "system"))
	assert.Equal(t, "Y12345", m.str("entry", "0", "resource", "destination", "0", "receiver", "identifier", "value"))
	assert.Equal(t, "RR8", m.str("entry", "0", "resource", "sender", "identifier", "value"))
	assert.Equal(t, "finished", m.str("entry", "1", "resource", "status"))
	assert.Equal(t, pid, m.str("entry", "2", "resource", "id"))
}

func TestNoPushWithoutPushURL(t *testing.T) {
	srv, err := New(Options{})
	require.NoError(t, err)
	rec := &pushRecorder{}
	e := &testEnv{t: t, srv: srv, pushes: rec}
	assert.Equal(t, 200, e.do("POST", "/fhir/$process-message", referral(newUUID(), newUUID(), "new", "active"), barsHeaders()).status)
	assert.Empty(t, e.pushed())
}

func TestStartServesOverTCP(t *testing.T) {
	srv, err := New(Options{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	base, done, err := srv.Start(ctx, "127.0.0.1:0")
	require.NoError(t, err)
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+/fhir$`, base)
	resp, err := http.Get(base + "/metadata")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("server did not stop")
	}
	_, _, err = srv.Start(context.Background(), "not an address")
	assert.Error(t, err)
}

func TestConcurrentWrites(t *testing.T) {
	e := newEnv(t)
	const n = 50
	errs := make(chan int, n)
	for i := 0; i < n; i++ {
		go func() {
			r := e.do("PUT", "/fhir/Encounter?identifier=https://trust.example/encounter|SAME", encounter("SAME", "in-progress", "Patient/p"), nil)
			errs <- r.status
		}()
	}
	created := 0
	for i := 0; i < n; i++ {
		if <-errs == 201 {
			created++
		}
	}
	assert.Equal(t, 1, created, "the upsert is atomic")
	assert.Equal(t, jsonInt(1), e.do("GET", "/fhir/Encounter", nil, nil).body["total"])
}

func TestBaRSReplayAfterRejectionAndConcurrentReplays(t *testing.T) {
	e := newEnv(t)
	h := barsHeaders()
	broken := referral(newUUID(), newUUID(), "new", "active")
	broken["entry"] = broken["entry"].([]any)[:3]
	assert.Equal(t, 400, e.do("POST", "/fhir/$process-message", broken, h).status)
	assert.Equal(t, 200, e.do("POST", "/fhir/$process-message", referral(newUUID(), newUUID(), "new", "active"), h).status,
		"a rejected message's X-Request-Id may be sent again")

	h = barsHeaders()
	const n = 20
	statuses := make(chan int, n)
	for range n {
		go func() {
			statuses <- e.do("POST", "/fhir/$process-message", referral(newUUID(), newUUID(), "new", "active"), h).status
		}()
	}
	counts := map[int]int{}
	for range n {
		counts[<-statuses]++
	}
	assert.Equal(t, map[int]int{200: 1, 409: n - 1}, counts)
}

func TestSearchAndHistoryAcrossTypes(t *testing.T) {
	e := newEnv(t)
	pid := e.do("POST", "/fhir/Patient", patient("9449305552"), nil).str("id")
	eid := e.do("POST", "/fhir/Encounter", encounter("E1", "in-progress", "Patient/"+pid), nil).str("id")
	all := e.do("GET", "/fhir?_lastUpdated=gt2000", nil, nil)
	require.Equal(t, 200, all.status, string(all.raw))
	assert.Equal(t, jsonInt(2), all.body["total"])
	byType := e.do("GET", "/fhir?_type=Encounter", nil, nil)
	assert.Equal(t, jsonInt(1), byType.body["total"])
	assert.Equal(t, eid, byType.str("entry", "0", "resource", "id"))
	assert.Equal(t, pid, e.do("GET", "/fhir?_id="+pid, nil, nil).str("entry", "0", "resource", "id"))
	assert.Equal(t, 400, e.do("GET", "/fhir?identifier=x", nil, nil).status)
	assert.Equal(t, 400, e.do("GET", "/fhir?_type=Nope", nil, nil).status)
	assert.Equal(t, 400, e.do("GET", "/fhir/Patient?_type=Patient", nil, nil).status)
	h := e.do("GET", "/fhir/_history", nil, nil)
	assert.Equal(t, jsonInt(2), h.body["total"])
	assert.Equal(t, 405, e.do("DELETE", "/fhir", nil, nil).status)
}

type failingTransport struct{}

func (failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("connection refused")
}

func TestPushFailureIsLoggedWithoutPassword(t *testing.T) {
	var log conformancetest.SyncBuffer
	srv, err := New(Options{PushURL: "http://user:s3cret@receiver.test/fhir", PushClient: &http.Client{Transport: failingTransport{}}, Log: &log})
	require.NoError(t, err)
	e := &testEnv{t: t, srv: srv, pushes: &pushRecorder{}}
	require.Equal(t, 200, e.do("POST", "/fhir/$process-message", referral(newUUID(), newUUID(), "new", "active"), barsHeaders()).status)
	srv.Wait()
	assert.Contains(t, log.String(), "push: send message to http://user:xxxxx@receiver.test/fhir/$process-message")
	assert.NotContains(t, log.String(), "s3cret")
}

func TestClockStampsAndLastUpdatedSearch(t *testing.T) {
	now := time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)
	srv, err := New(Options{Clock: func() time.Time { return now }})
	require.NoError(t, err)
	e := &testEnv{t: t, srv: srv, pushes: &pushRecorder{}}
	first := e.do("POST", "/fhir/Patient", patient("1"), nil)
	assert.Equal(t, "2025-03-01T09:30:00.000Z", first.str("meta", "lastUpdated"))
	assert.Equal(t, "Sat, 01 Mar 2025 09:30:00 GMT", first.header.Get("Last-Modified"))
	now = now.Add(24 * time.Hour)
	e.do("POST", "/fhir/Patient", patient("2"), nil)
	tests := []struct {
		query string
		want  int
	}{
		{query: "_lastUpdated=2025-03-01", want: 1},
		{query: "_lastUpdated=eq2025-03", want: 2},
		{query: "_lastUpdated=gt2025-03-01", want: 1},
		{query: "_lastUpdated=ge2025-03-01", want: 2},
		{query: "_lastUpdated=lt2025-03-02", want: 1},
		{query: "_lastUpdated=le2025-03-02", want: 2},
		{query: "_lastUpdated=ne2025-03-01", want: 1},
		{query: "_lastUpdated=eq2025-03-01T09:30:00Z", want: 1},
		{query: "_lastUpdated=gt2025-03-01T09:30:00%2B01:00", want: 2},
		{query: "_lastUpdated=sa2025-03-01T23:59:59.999Z", want: 1},
		{query: "_lastUpdated=eb2025", want: 0},
	}
	for _, tc := range tests {
		r := e.do("GET", "/fhir/Patient?"+tc.query, nil, nil)
		assert.Equal(t, jsonInt(tc.want), r.body["total"], tc.query)
	}
}

func TestPushOverTCPNamesTheListeningBase(t *testing.T) {
	received := make(chan map[string]any, 4)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		body, _ := decodeObject(raw)
		if r.URL.Path == "/fhir/$process-message" && r.Header.Get("Content-Type") == "application/fhir+json" {
			received <- body
		}
		w.WriteHeader(200)
	}))
	defer receiver.Close()
	srv, err := New(Options{PushURL: receiver.URL + "/fhir/"})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, _, err := srv.Start(ctx, "127.0.0.1:0")
	require.NoError(t, err)
	raw, _ := json.Marshal(encounter("E1", "finished", "Patient/p1"))
	resp, err := http.Post(base+"/Encounter", "application/fhir+json", bytes.NewReader(raw))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 201, resp.StatusCode)
	select {
	case msg := <-received:
		m := &result{body: msg}
		assert.Equal(t, base, m.str("entry", "0", "resource", "source", "endpoint"))
		assert.True(t, strings.HasPrefix(m.str("entry", "1", "fullUrl"), base+"/Encounter/"), m.str("entry", "1", "fullUrl"))
	case <-time.After(10 * time.Second):
		t.Fatal("no discharge notification arrived")
	}
}

func TestTransactionPreparedAgainWhenTheStoreChangesDuringValidation(t *testing.T) {
	e := newEnv(t)
	tx := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		map[string]any{"fullUrl": "urn:uuid:aaaaaaaa-0000-4000-8000-000000000002", "resource": encounter("RACE", "in-progress", "Patient/p1"),
			"request": map[string]any{"method": "PUT", "url": "Encounter?identifier=https://trust.example/encounter|RACE"}},
	}}
	var concurrent *result
	e.val.during = func() {
		concurrent = e.do("POST", "/fhir/Encounter", encounter("RACE", "planned", "Patient/p1"), nil)
	}
	r := e.do("POST", "/fhir", tx, nil)
	require.Equal(t, 200, r.status, string(r.raw))
	require.Equal(t, 201, concurrent.status)
	assert.Equal(t, "200 OK", r.str("entry", "0", "response", "status"), "the second preparation sees the concurrent create and updates it")
	assert.Equal(t, concurrent.str("id"), r.str("entry", "0", "resource", "id"))
	assert.Equal(t, jsonInt(1), e.do("GET", "/fhir/Encounter?identifier=RACE", nil, nil).body["total"])
}

func TestTruncateKeepsWholeCharacters(t *testing.T) {
	tests := []struct {
		name string
		s    string
		n    int
		want string
	}{
		{name: "short kept", s: "Patient", n: 100, want: "Patient"},
		{name: "ASCII cut", s: "abcdef", n: 3, want: "abc..."},
		{name: "cut inside a character backs off", s: "ab€cd", n: 3, want: "ab..."},
		{name: "cut after a character", s: "ab€cd", n: 5, want: "ab€..."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := truncate(tc.s, tc.n)
			assert.Equal(t, tc.want, got)
			assert.True(t, utf8.ValidString(got))
		})
	}
}
