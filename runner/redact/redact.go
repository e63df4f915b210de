// Package redact owns the single function that removes secrets (credentials,
// tokens, client secrets, private keys) from everything conform records or
// prints: exchanges, logs, error messages and reports.
package redact

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Mask replaces every secret.
const Mask = "[REDACTED]"

// sensitiveHeaders are request and response headers whose whole value is a
// credential.
var sensitiveHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
	"Set-Cookie":          true,
	"X-Api-Key":           true,
	"Apikey":              true,
	"Api-Key":             true,
	"X-Auth-Token":        true,
}

var (
	schemeToken = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*`)
	jwtLike     = regexp.MustCompile(`eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*`)
	jsonSecret  = regexp.MustCompile(`(?i)("(?:access_token|refresh_token|id_token|client_secret|client_assertion|password|private_key)"\s*:\s*)"(?:[^"\\]|\\.)*"`)
	formSecret  = regexp.MustCompile(`(?i)\b(access_token|refresh_token|id_token|client_secret|client_assertion|password|api_key|apikey)=[^&\s"]*`)
	pemKey      = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)`)
)

// Redactor removes known secrets and secret-shaped values from text. The zero
// value and a nil *Redactor apply the shape rules only; safe for concurrent use.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string
}

// New returns a Redactor that also masks the given literal secrets.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// Add registers literal secrets (tokens, client secrets, key material) to be
// masked wherever they appear from now on. Empty strings are ignored.
func (r *Redactor) Add(secrets ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		s = strings.TrimSpace(s)
		if s == "" || slices.Contains(r.secrets, s) {
			continue
		}
		r.secrets = append(r.secrets, s)
	}
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
}

// String returns s with every registered secret, bearer or basic credential,
// JWT, secret-named JSON or form field and PEM private key masked.
func (r *Redactor) String(s string) string {
	if s == "" {
		return s
	}
	if r != nil {
		r.mu.RLock()
		for _, secret := range r.secrets {
			if strings.Contains(s, secret) {
				s = strings.ReplaceAll(s, secret, Mask)
			}
		}
		r.mu.RUnlock()
	}
	if strings.Contains(s, "eyJ") {
		s = jwtLike.ReplaceAllString(s, Mask)
	}
	if eitherCase(s, "earer") || eitherCase(s, "asic") {
		s = schemeToken.ReplaceAllString(s, "$1 "+Mask)
	}
	if strings.Contains(s, "_token") || strings.Contains(s, "client_") || eitherCase(s, "assword") || strings.Contains(s, "private_key") || eitherCase(s, "pikey") || eitherCase(s, "pi_key") {
		s = jsonSecret.ReplaceAllString(s, `$1"`+Mask+`"`)
		s = formSecret.ReplaceAllString(s, "$1="+Mask)
	}
	if strings.Contains(s, "PRIVATE KEY-----") {
		s = pemKey.ReplaceAllString(s, Mask)
	}
	return s
}

// Bytes is String for a byte slice; it returns a new slice.
func (r *Redactor) Bytes(b []byte) []byte {
	return []byte(r.String(string(b)))
}

// Header returns a copy of h with credential headers masked entirely and
// every other value passed through String.
func (r *Redactor) Header(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for name, values := range h {
		masked := make([]string, len(values))
		for i, v := range values {
			if IsSensitiveHeader(name) {
				masked[i] = Mask
			} else {
				masked[i] = r.String(v)
			}
		}
		out[name] = masked
	}
	return out
}

// IsSensitiveHeader reports whether a header's whole value is a credential:
// the well-known credential headers and any whose name speaks of a token,
// secret, password, API key or session.
func IsSensitiveHeader(name string) bool {
	if sensitiveHeaders[http.CanonicalHeaderKey(name)] {
		return true
	}
	lower := strings.ToLower(name)
	for _, word := range []string{"token", "secret", "password", "api-key", "apikey", "session"} {
		if strings.Contains(lower, word) {
			return true
		}
	}
	return false
}

func eitherCase(s, lower string) bool {
	return strings.Contains(s, lower) || strings.Contains(s, strings.ToUpper(lower))
}
