package terminology

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/packages"
)

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	require.NoError(t, d.Decode(&m))
	return m
}

// localResolver serves the test's own code systems and value sets.
func localResolver(t *testing.T, resources ...string) ResolveFunc {
	byURL := map[string]map[string]any{}
	for _, r := range resources {
		m := decode(t, r)
		byURL[m["url"].(string)] = m
	}
	return func(c string) (map[string]any, bool) {
		m, ok := byURL[c]
		return m, ok
	}
}

const (
	csShapes = `{"resourceType":"CodeSystem","url":"http://example.org/cs/shapes","content":"complete","caseSensitive":true,
	  "concept":[{"code":"shape","display":"Shape","concept":[{"code":"round","display":"Round","concept":[{"code":"circle","display":"Circle"}]},{"code":"square","display":"Square"}]},{"code":"colour","display":"Colour"}]}`
	vsRound   = `{"resourceType":"ValueSet","url":"http://example.org/vs/round","name":"Round","compose":{"include":[{"system":"http://example.org/cs/shapes","filter":[{"property":"concept","op":"is-a","value":"round"}]}]}}`
	vsNoColor = `{"resourceType":"ValueSet","url":"http://example.org/vs/shapes","compose":{"include":[{"system":"http://example.org/cs/shapes"}],"exclude":[{"system":"http://example.org/cs/shapes","concept":[{"code":"colour"}]}]}}`
	vsNested  = `{"resourceType":"ValueSet","url":"http://example.org/vs/nested","compose":{"include":[{"valueSet":["http://example.org/vs/round"]},{"system":"http://example.org/cs/other","concept":[{"code":"x"}]}]}}`
	vsSnomed  = `{"resourceType":"ValueSet","url":"http://example.org/vs/snomed","compose":{"include":[{"system":"http://snomed.info/sct","filter":[{"property":"concept","op":"is-a","value":"404684003"}]}]}}`
	vsCycle   = `{"resourceType":"ValueSet","url":"http://example.org/vs/cycle","compose":{"include":[{"valueSet":["http://example.org/vs/cycle"]}]}}`
)

func TestCheckCode(t *testing.T) {
	s := New(localResolver(t, csShapes, vsRound, vsNoColor, vsNested, vsSnomed), nil)
	tests := []struct {
		name, valueSet, system, code string
		want                         Verdict
	}{
		{name: "is-a includes the concept itself", valueSet: "http://example.org/vs/round", system: "http://example.org/cs/shapes", code: "round", want: Member},
		{name: "is-a includes descendants", valueSet: "http://example.org/vs/round", system: "http://example.org/cs/shapes", code: "circle", want: Member},
		{name: "is-a excludes siblings", valueSet: "http://example.org/vs/round", system: "http://example.org/cs/shapes", code: "square", want: NotMember},
		{name: "whole system include", valueSet: "http://example.org/vs/shapes", system: "http://example.org/cs/shapes", code: "square", want: Member},
		{name: "exclude removes a code", valueSet: "http://example.org/vs/shapes", system: "http://example.org/cs/shapes", code: "colour", want: NotMember},
		{name: "nested value set", valueSet: "http://example.org/vs/nested", system: "http://example.org/cs/shapes", code: "circle", want: Member},
		{name: "concept list of an unknown system", valueSet: "http://example.org/vs/nested", system: "http://example.org/cs/other", code: "x", want: Member},
		{name: "unknown system part does not decide other systems", valueSet: "http://example.org/vs/nested", system: "http://example.org/cs/shapes", code: "square", want: NotMember},
		{name: "a concept list decides even for an unknown system", valueSet: "http://example.org/vs/nested", system: "http://example.org/cs/other", code: "y", want: NotMember},
		{name: "SNOMED CT filter cannot be expanded offline", valueSet: "http://example.org/vs/snomed", system: "http://snomed.info/sct", code: "22298006", want: Unchecked},
		{name: "unknown value set", valueSet: "http://example.org/vs/missing", system: "http://example.org/cs/shapes", code: "round", want: Unchecked},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			chk, err := s.CheckCode(context.Background(), tc.valueSet, tc.system, tc.code)
			require.NoError(t, err)
			assert.Equal(t, tc.want, chk.Verdict, "reason: %s", chk.Reason)
			if tc.want == Unchecked {
				assert.NotEmpty(t, chk.Reason, "an unchecked code must say why")
			}
		})
	}
}

func TestCircularValueSet(t *testing.T) {
	s := New(localResolver(t, vsCycle), nil)
	_, err := s.Expand(context.Background(), "http://example.org/vs/cycle")
	assert.ErrorContains(t, err, "circular")
}

func TestCoreValueSets(t *testing.T) {
	var pkgs []*packages.Package
	for _, f := range []string{"fhir/packages/hl7.fhir.r4.core-4.0.1.tgz", "fhir/packages/hl7.terminology.r4-7.0.1.tgz"} {
		p, err := packages.Open(conformancetest.Shared(t, f))
		require.NoError(t, err)
		pkgs = append(pkgs, p)
	}
	set := packages.NewSet(pkgs...)
	s := New(set.ResolveJSON, nil)
	tests := []struct {
		name, valueSet, system, code string
		want                         Verdict
	}{
		{name: "administrative gender", valueSet: "http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1", system: "http://hl7.org/fhir/administrative-gender", code: "female", want: Member},
		{name: "administrative gender wrong code", valueSet: "http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1", system: "http://hl7.org/fhir/administrative-gender", code: "woman", want: NotMember},
		{name: "code without system", valueSet: "http://hl7.org/fhir/ValueSet/observation-status|4.0.1", code: "final", want: Member},
		{name: "v2-0203 identifier type from THO", valueSet: "http://hl7.org/fhir/ValueSet/identifier-type", system: "http://terminology.hl7.org/CodeSystem/v2-0203", code: "MR", want: Member},
		{name: "SNOMED CT based value set", valueSet: "http://hl7.org/fhir/ValueSet/clinical-findings", system: "http://snomed.info/sct", code: "22298006", want: Unchecked},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			chk, err := s.CheckCode(context.Background(), tc.valueSet, tc.system, tc.code)
			require.NoError(t, err)
			assert.Equal(t, tc.want, chk.Verdict, "reason: %s", chk.Reason)
		})
	}
}

func TestServerValidateCode(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		assert.Equal(t, "/ValueSet/$validate-code", r.URL.Path)
		result := r.URL.Query().Get("code") == "22298006"
		w.Header().Set("Content-Type", "application/fhir+json")
		_ = json.NewEncoder(w).Encode(map[string]any{"resourceType": "Parameters", "parameter": []any{
			map[string]any{"name": "result", "valueBoolean": result},
			map[string]any{"name": "message", "valueString": "checked by the server"},
		}})
	}))
	defer srv.Close()
	server, err := NewServer(srv.URL, 5*time.Second)
	require.NoError(t, err)
	s := New(localResolver(t, vsSnomed), server)
	chk, err := s.CheckCode(context.Background(), "http://example.org/vs/snomed", "http://snomed.info/sct", "22298006")
	require.NoError(t, err)
	assert.Equal(t, Member, chk.Verdict)
	chk, err = s.CheckCode(context.Background(), "http://example.org/vs/snomed", "http://snomed.info/sct", "22298006")
	require.NoError(t, err)
	assert.Equal(t, Member, chk.Verdict)
	assert.Equal(t, int32(2), calls.Load(), "one retry after 503, then the answer is cached")
	chk, err = s.CheckCode(context.Background(), "http://example.org/vs/snomed", "http://snomed.info/sct", "1")
	require.NoError(t, err)
	assert.Equal(t, NotMember, chk.Verdict)
	assert.Equal(t, "checked by the server", chk.Reason)
}

func TestNewServerRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "not a url", "http://"} {
		_, err := NewServer(u, time.Second)
		assert.Error(t, err, u)
	}
}

func TestServerStopsAskingAfterFailuresInARow(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		time.Sleep(200 * time.Millisecond)
	}))
	defer srv.Close()
	server, err := NewServer(srv.URL, 50*time.Millisecond)
	require.NoError(t, err)
	server.client.RetryMax = 0
	for i := 0; i < maxServerFailures; i++ {
		_, _, err := server.ValidateCode(context.Background(), "http://example.org/vs", "http://snomed.info/sct", fmt.Sprint(i))
		require.Error(t, err)
	}
	asked := calls.Load()
	_, _, err = server.ValidateCode(context.Background(), "http://example.org/vs", "http://snomed.info/sct", "99")
	require.ErrorContains(t, err, "not asked after 3 failed calls in a row")
	assert.Equal(t, asked, calls.Load(), "no further call once the server has failed three times in a row")
}
