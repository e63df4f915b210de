// Package auth owns how conform proves its identity to a FHIR server: a
// static bearer token, OAuth2 client credentials, the NHS England signed JWT
// client assertion (private_key_jwt, RS512) and mutual TLS. Obtained tokens
// are cached, refreshed before they expire and registered with the redactor.
package auth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nhsconform/conform/runner/redact"
)

// refreshMargin is how long before expiry a cached token is replaced.
const refreshMargin = 30 * time.Second

// maxTokenResponse bounds a token endpoint's answer.
const maxTokenResponse = 64 << 10

// Bearer sends a fixed bearer token.
type Bearer struct{ token string }

// NewBearer returns a Bearer for token, registering it with red.
func NewBearer(token string, red *redact.Redactor) (*Bearer, error) {
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, "\r\n ") {
		return nil, errors.New("bearer token is empty or contains spaces or line breaks")
	}
	red.Add(token)
	return &Bearer{token: token}, nil
}

// BearerFromFile reads a bearer token from a file.
func BearerFromFile(path string, red *redact.Redactor) (*Bearer, error) {
	data, err := readSmall(path, 64<<10)
	if err != nil {
		return nil, fmt.Errorf("read bearer token file: %w", err)
	}
	b, err := NewBearer(string(data), red)
	if err != nil {
		return nil, fmt.Errorf("read bearer token file %s: %w", path, err)
	}
	return b, nil
}

// BearerFromEnv reads a bearer token from an environment variable.
func BearerFromEnv(getenv func(string) string, name string, red *redact.Redactor) (*Bearer, error) {
	v := getenv(name)
	if v == "" {
		return nil, fmt.Errorf("read bearer token: environment variable %s is not set", name)
	}
	b, err := NewBearer(v, red)
	if err != nil {
		return nil, fmt.Errorf("read bearer token from %s: %w", name, err)
	}
	return b, nil
}

// Authorize sets the Authorization header.
func (b *Bearer) Authorize(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+b.token)
	return nil
}

// Token is an access token and its expiry.
type Token struct {
	Value   string
	Expires time.Time
}

// TokenError is a token endpoint's refusal or an unusable answer.
type TokenError struct {
	Endpoint string
	Status   int
	Detail   string
}

// Error implements error.
func (e *TokenError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("token endpoint %s answered %d: %s", e.Endpoint, e.Status, e.Detail)
	}
	return fmt.Sprintf("token endpoint %s: %s", e.Endpoint, e.Detail)
}

// Grant is how a token is obtained from a token endpoint: client credentials
// with a secret, or a signed client assertion.
type Grant interface {
	form(now time.Time) (url.Values, error)
	endpoint() string
	basicAuth() (string, string, bool)
}

// ClientCredentials is the OAuth2 client credentials grant with a client
// secret sent with HTTP basic authentication.
type ClientCredentials struct {
	TokenURL, ClientID, ClientSecret, Scope string
}

func (g ClientCredentials) endpoint() string { return g.TokenURL }

func (g ClientCredentials) basicAuth() (string, string, bool) {
	return url.QueryEscape(g.ClientID), url.QueryEscape(g.ClientSecret), true
}

func (g ClientCredentials) form(time.Time) (url.Values, error) {
	f := url.Values{"grant_type": {"client_credentials"}}
	if g.Scope != "" {
		f.Set("scope", g.Scope)
	}
	return f, nil
}

// JWTAssertion is the NHS England signed JWT client assertion
// (private_key_jwt): a JWT signed with RS512 whose header names the key (kid)
// and whose iss and sub are the client id and aud the token endpoint.
type JWTAssertion struct {
	TokenURL, ClientID, KeyID, Scope string
	Key                              *rsa.PrivateKey
	// Lifetime of the assertion; NHS England accepts at most 5 minutes.
	Lifetime time.Duration
}

func (g JWTAssertion) endpoint() string { return g.TokenURL }

func (g JWTAssertion) basicAuth() (string, string, bool) { return "", "", false }

func (g JWTAssertion) form(now time.Time) (url.Values, error) {
	assertion, err := g.Sign(now)
	if err != nil {
		return nil, err
	}
	f := url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	}
	if g.Scope != "" {
		f.Set("scope", g.Scope)
	}
	return f, nil
}

// Sign returns the signed client assertion for the time now.
func (g JWTAssertion) Sign(now time.Time) (string, error) {
	if g.Key == nil {
		return "", errors.New("sign client assertion: no private key")
	}
	life := g.Lifetime
	if life <= 0 || life > 5*time.Minute {
		life = 5 * time.Minute
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("sign client assertion: %w", err)
	}
	header := map[string]string{"alg": "RS512", "typ": "JWT", "kid": g.KeyID}
	claims := map[string]any{
		"iss": g.ClientID,
		"sub": g.ClientID,
		"aud": g.TokenURL,
		"jti": hex.EncodeToString(jti),
		"iat": now.Unix(),
		"exp": now.Add(life).Unix(),
	}
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sum := sha512.Sum512([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, g.Key, crypto.SHA512, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign client assertion: %w", err)
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// Fetcher obtains tokens from a token endpoint with a Grant, caches them and
// refreshes them shortly before they expire. Safe for concurrent use.
type Fetcher struct {
	grant  Grant
	client *http.Client
	red    *redact.Redactor
	now    func() time.Time

	mu     sync.Mutex
	cached Token
}

// NewFetcher returns a Fetcher; client may be nil for a default with a 30 s
// timeout. Every secret of the grant and every token is registered with red.
func NewFetcher(g Grant, client *http.Client, red *redact.Redactor) (*Fetcher, error) {
	u, err := url.Parse(g.endpoint())
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("token endpoint %q must be an absolute http or https URL", g.endpoint())
	}
	switch gr := g.(type) {
	case ClientCredentials:
		if gr.ClientID == "" || gr.ClientSecret == "" {
			return nil, errors.New("client credentials need a client id and a client secret")
		}
		red.Add(gr.ClientSecret)
	case JWTAssertion:
		if gr.ClientID == "" || gr.KeyID == "" || gr.Key == nil {
			return nil, errors.New("a signed JWT client assertion needs a client id, a key id (kid) and a private key")
		}
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &Fetcher{grant: g, client: client, red: red, now: time.Now}, nil
}

// Authorize sets the Authorization header with a cached or fresh token.
func (f *Fetcher) Authorize(ctx context.Context, req *http.Request) error {
	tok, err := f.Token(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok.Value)
	return nil
}

// Refresh drops the cached token so the next request fetches a new one.
func (f *Fetcher) Refresh() {
	f.mu.Lock()
	f.cached = Token{}
	f.mu.Unlock()
}

// Token returns the cached token, fetching a new one when it is missing or
// expires within 30 seconds.
func (f *Fetcher) Token(ctx context.Context) (Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cached.Value != "" && f.now().Add(refreshMargin).Before(f.cached.Expires) {
		return f.cached, nil
	}
	tok, err := f.fetch(ctx)
	if err != nil {
		return Token{}, err
	}
	f.cached = tok
	return tok, nil
}

func (f *Fetcher) fetch(ctx context.Context) (Token, error) {
	endpoint := f.grant.endpoint()
	now := f.now()
	form, err := f.grant.form(now)
	if err != nil {
		return Token{}, fmt.Errorf("obtain token: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return Token{}, fmt.Errorf("obtain token: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if user, pass, ok := f.grant.basicAuth(); ok {
		req.SetBasicAuth(user, pass)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return Token{}, fmt.Errorf("obtain token: %s", f.red.String(err.Error()))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse+1))
	if err != nil {
		return Token{}, fmt.Errorf("obtain token: read answer of %s: %s", endpoint, f.red.String(err.Error()))
	}
	if len(body) > maxTokenResponse {
		return Token{}, &TokenError{Endpoint: endpoint, Status: resp.StatusCode, Detail: "answer larger than 64 KiB"}
	}
	return f.parseAnswer(endpoint, resp.StatusCode, body, now)
}

// parseAnswer reads a token endpoint's answer: an access token and its
// lifetime (expires_in as a number or, as NHS England sends it, a string;
// 300 s when absent), or the error it reports.
func (f *Fetcher) parseAnswer(endpoint string, status int, body []byte, now time.Time) (Token, error) {
	var answer struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
		Error       string          `json:"error"`
		Description string          `json:"error_description"`
	}
	jsonErr := json.Unmarshal(body, &answer)
	answer.AccessToken = strings.TrimSpace(answer.AccessToken)
	if answer.AccessToken != "" {
		f.red.Add(answer.AccessToken)
	}
	if status != http.StatusOK {
		detail := strings.TrimSpace(answer.Error + " " + answer.Description)
		if detail == "" {
			detail = truncate(string(body), 200)
		}
		return Token{}, &TokenError{Endpoint: endpoint, Status: status, Detail: truncate(f.red.String(detail), 500)}
	}
	if jsonErr != nil || answer.AccessToken == "" {
		return Token{}, &TokenError{Endpoint: endpoint, Status: status, Detail: "answer has no access_token"}
	}
	expiresIn := 300
	if s := strings.Trim(string(answer.ExpiresIn), `"`); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 1<<24 {
			expiresIn = n
		}
	}
	return Token{Value: answer.AccessToken, Expires: now.Add(time.Duration(expiresIn) * time.Second)}, nil
}

// LoadRSAKey reads a PEM RSA private key (PKCS#1 or PKCS#8) from a file.
func LoadRSAKey(path string) (*rsa.PrivateKey, error) {
	data, err := readSmall(path, 64<<10)
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("read private key %s: no PEM block", path)
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("read private key %s: not a PKCS#1 or PKCS#8 private key", path)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("read private key %s: RS512 needs an RSA key, got %T", path, k)
	}
	return rk, nil
}

// TLSFiles names the files of a mutual TLS set-up; each may be empty.
type TLSFiles struct {
	// CertFile and KeyFile are the client certificate and its key (PEM).
	CertFile, KeyFile string
	// CAFile holds the CA certificates that sign the server's certificate,
	// trusted in addition to the system roots.
	CAFile string
}

// TLSConfig builds the TLS configuration for f, or nil when f is empty.
func TLSConfig(f TLSFiles) (*tls.Config, error) {
	if f == (TLSFiles{}) {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if (f.CertFile == "") != (f.KeyFile == "") {
		return nil, errors.New("mutual TLS needs both a client certificate and its key")
	}
	if f.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate %s: %w", f.CertFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if f.CAFile != "" {
		pem, err := readSmall(f.CAFile, 1<<20)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("read CA file %s: no PEM certificate found", f.CAFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

func readSmall(path string, limit int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("read %s: larger than %d bytes", path, limit)
	}
	return data, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
