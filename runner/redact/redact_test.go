package redact

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestString(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{name: "registered secret", secrets: []string{"s3cr3t-value"}, in: "id=1 token s3cr3t-value end", want: "id=1 token [REDACTED] end"},
		{name: "bearer credential", in: "Authorization: Bearer abc.def-ghi", want: "Authorization: Bearer [REDACTED]"},
		{name: "basic credential", in: "basic dXNlcjpwYXNz", want: "basic [REDACTED]"},
		{name: "jwt anywhere", in: `{"a":"eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl"}`, want: `{"a":"[REDACTED]"}`},
		{name: "json access token", in: `{"access_token": "zzz", "expires_in": "599"}`, want: `{"access_token": "[REDACTED]", "expires_in": "599"}`},
		{name: "form client secret", in: "grant_type=client_credentials&client_secret=hunter2&scope=x", want: "grant_type=client_credentials&client_secret=[REDACTED]&scope=x"},
		{name: "api key in a query", in: "https://x/Patient?api_key=k-123&_count=1", want: "https://x/Patient?api_key=[REDACTED]&_count=1"},
		{name: "pem private key", in: "key: -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- done", want: "key: [REDACTED] done"},
		{name: "ordinary FHIR untouched", in: `{"resourceType":"Patient","name":[{"family":"Basicson"}]}`, want: `{"resourceType":"Patient","name":[{"family":"Basicson"}]}`},
		{name: "longest secret first", secrets: []string{"abc", "abcdef"}, in: "abcdef", want: "[REDACTED]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, New(tc.secrets...).String(tc.in))
		})
	}
}

func TestNilRedactorAppliesShapeRules(t *testing.T) {
	var r *Redactor
	assert.Equal(t, "Bearer [REDACTED]", r.String("Bearer xyz"))
	r.Add("ignored")
}

func TestHeader(t *testing.T) {
	h := http.Header{
		"Authorization": {"Bearer abc"},
		"Cookie":        {"session=1"},
		"X-Custom":      {"tok-123"},
		"X-Auth-Secret": {"hush"},
		"X-Request-Id":  {"r-1"},
		"Accept":        {"application/fhir+json"},
	}
	got := New("tok-123").Header(h)
	assert.Equal(t, []string{Mask}, got["Authorization"])
	assert.Equal(t, []string{Mask}, got["Cookie"])
	assert.Equal(t, []string{Mask}, got["X-Custom"])
	assert.Equal(t, []string{"application/fhir+json"}, got["Accept"])
	assert.Equal(t, []string{Mask}, got["X-Auth-Secret"])
	assert.Equal(t, []string{"r-1"}, got["X-Request-Id"])
	assert.Equal(t, "Bearer abc", h.Get("Authorization"), "input must not change")
}

func FuzzString(f *testing.F) {
	f.Add("Bearer abc", "abc")
	f.Add(`{"client_secret":"x"}`, "x")
	f.Fuzz(func(t *testing.T, in, secret string) {
		out := New(secret).String(in)
		if s := strings.TrimSpace(secret); s != "" && !strings.ContainsAny(s, Mask) && strings.Contains(out, s) {
			t.Fatalf("secret %q survives in %q", s, out)
		}
	})
}
