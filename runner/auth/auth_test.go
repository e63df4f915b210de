package auth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/runner/redact"
)

func tokenServer(t *testing.T, check func(r *http.Request) (int, string)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		require.NoError(t, r.ParseForm())
		status, body := check(r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(ts.Close)
	return ts, &n
}

func TestClientCredentialsCachedAndRefreshed(t *testing.T) {
	ts, calls := tokenServer(t, func(r *http.Request) (int, string) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "client-1" || pass != "cs-SECRET-42" || r.Form.Get("grant_type") != "client_credentials" || r.Form.Get("scope") != "system/*.read" {
			return 401, `{"error":"invalid_client"}`
		}
		return 200, `{"access_token":"at-TOKEN-1","expires_in":"599","token_type":"Bearer"}`
	})
	red := redact.New()
	f, err := NewFetcher(ClientCredentials{TokenURL: ts.URL, ClientID: "client-1", ClientSecret: "cs-SECRET-42", Scope: "system/*.read"}, nil, red)
	require.NoError(t, err)
	now := time.Unix(1_800_000_000, 0)
	f.now = func() time.Time { return now }
	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
		require.NoError(t, f.Authorize(context.Background(), req))
		assert.Equal(t, "Bearer at-TOKEN-1", req.Header.Get("Authorization"))
	}
	assert.Equal(t, int32(1), calls.Load(), "token cached")
	now = now.Add(580 * time.Second)
	_, err = f.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int32(2), calls.Load(), "token refreshed before expiry")
	assert.Equal(t, "x [REDACTED] [REDACTED]", red.String("x at-TOKEN-1 cs-SECRET-42"))
}

func TestTokenEndpointRefusalIsClearAndRedacted(t *testing.T) {
	ts, _ := tokenServer(t, func(r *http.Request) (int, string) {
		return 401, `{"error":"invalid_client","error_description":"bad secret cs-SECRET-42"}`
	})
	red := redact.New()
	f, err := NewFetcher(ClientCredentials{TokenURL: ts.URL, ClientID: "c", ClientSecret: "cs-SECRET-42"}, nil, red)
	require.NoError(t, err)
	_, err = f.Token(context.Background())
	var terr *TokenError
	require.ErrorAs(t, err, &terr)
	assert.Equal(t, 401, terr.Status)
	assert.Contains(t, err.Error(), "invalid_client")
	assert.NotContains(t, err.Error(), "cs-SECRET-42")
}

func TestTokenEndpointBadAnswers(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		want       string
	}{
		{name: "no token", status: 200, body: `{"token_type":"Bearer"}`, want: "no access_token"},
		{name: "not json", status: 200, body: `<html>`, want: "no access_token"},
		{name: "server error", status: 500, body: `oops`, want: "answered 500: oops"},
		{name: "huge", status: 200, body: strings.Repeat("x", maxTokenResponse+10), want: "larger than 64 KiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, _ := tokenServer(t, func(*http.Request) (int, string) { return tc.status, tc.body })
			f, err := NewFetcher(ClientCredentials{TokenURL: ts.URL, ClientID: "c", ClientSecret: "secret-s"}, nil, redact.New())
			require.NoError(t, err)
			_, err = f.Token(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestJWTAssertion(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	var tokenURL string
	ts, calls := tokenServer(t, func(r *http.Request) (int, string) {
		if r.Form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			return 400, `{"error":"invalid_request"}`
		}
		parts := strings.Split(r.Form.Get("client_assertion"), ".")
		require.Len(t, parts, 3)
		var header map[string]string
		var claims map[string]any
		hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
		cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		require.NoError(t, json.Unmarshal(hb, &header))
		require.NoError(t, json.Unmarshal(cb, &claims))
		assert.Equal(t, map[string]string{"alg": "RS512", "typ": "JWT", "kid": "test-1"}, header)
		assert.Equal(t, "api-key", claims["iss"])
		assert.Equal(t, "api-key", claims["sub"])
		assert.Equal(t, tokenURL, claims["aud"])
		assert.LessOrEqual(t, claims["exp"].(float64)-claims["iat"].(float64), 300.0)
		sum := sha512.Sum512([]byte(parts[0] + "." + parts[1]))
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA512, sum[:], sig); err != nil {
			return 401, `{"error":"invalid_client","error_description":"signature"}`
		}
		return 200, `{"access_token":"nhs-TOKEN","expires_in":599}`
	})
	tokenURL = ts.URL + "/oauth2/token"
	f, err := NewFetcher(JWTAssertion{TokenURL: tokenURL, ClientID: "api-key", KeyID: "test-1", Key: key}, nil, redact.New())
	require.NoError(t, err)
	tok, err := f.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "nhs-TOKEN", tok.Value)
	assert.Equal(t, int32(1), calls.Load())

	dir := t.TempDir()
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	path := filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600))
	loaded, err := LoadRSAKey(path)
	require.NoError(t, err)
	assert.True(t, loaded.Equal(key))
	require.NoError(t, os.WriteFile(path, []byte("not a key"), 0o600))
	_, err = LoadRSAKey(path)
	assert.ErrorContains(t, err, "no PEM block")
}

func TestBearer(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(path, []byte("file-TOKEN\n"), 0o600))
	red := redact.New()
	b, err := BearerFromFile(path, red)
	require.NoError(t, err)
	req, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	require.NoError(t, b.Authorize(context.Background(), req))
	assert.Equal(t, "Bearer file-TOKEN", req.Header.Get("Authorization"))
	assert.Equal(t, redact.Mask, red.String("file-TOKEN"))

	_, err = BearerFromEnv(func(string) string { return "" }, "CONFORM_TOKEN", red)
	assert.ErrorContains(t, err, "CONFORM_TOKEN is not set")
	_, err = BearerFromFile(filepath.Join(dir, "missing"), red)
	assert.ErrorContains(t, err, "missing")
	env, err := BearerFromEnv(func(string) string { return "env-TOKEN" }, "T", red)
	require.NoError(t, err)
	assert.NotNil(t, env)
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	caKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, _ := x509.ParseCertificate(caDER)
	issue := func(name string, usage x509.ExtKeyUsage, serial int64) tls.Certificate {
		k, _ := rsa.GenerateKey(rand.Reader, 2048)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		require.NoError(t, err)
		certPath, keyPath := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
		require.NoError(t, os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
		require.NoError(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), 0o600))
		c, err := tls.LoadX509KeyPair(certPath, keyPath)
		require.NoError(t, err)
		return c
	}
	serverCert := issue("server", x509.ExtKeyUsageServerAuth, 2)
	issue("client", x509.ExtKeyUsageClientAuth, 3)
	caPath := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(caPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600))
	pool := x509.NewCertPool()
	pool.AddCert(caCert)

	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.TLS.PeerCertificates[0].Subject.CommonName))
	}))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	ts.StartTLS()
	defer ts.Close()

	cfg, err := TLSConfig(TLSFiles{CertFile: filepath.Join(dir, "client.crt"), KeyFile: filepath.Join(dir, "client.key"), CAFile: caPath})
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}).Get(ts.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	buf := make([]byte, 16)
	n, _ := resp.Body.Read(buf)
	assert.Equal(t, "client", string(buf[:n]))

	noCert, err := TLSConfig(TLSFiles{CAFile: caPath})
	require.NoError(t, err)
	_, err = (&http.Client{Transport: &http.Transport{TLSClientConfig: noCert}}).Get(ts.URL)
	assert.Error(t, err, "server requires a client certificate")

	_, err = TLSConfig(TLSFiles{CertFile: "x.crt"})
	assert.ErrorContains(t, err, "both")
	_, err = TLSConfig(TLSFiles{CAFile: filepath.Join(dir, "client.key")})
	assert.ErrorContains(t, err, "no PEM certificate")
}

func FuzzParseAnswer(f *testing.F) {
	f.Add(200, []byte(`{"access_token":"abc-token","expires_in":"599"}`))
	f.Add(401, []byte(`{"error":"invalid_client","error_description":"secret-xyz"}`))
	f.Add(200, []byte(`{"access_token":"t","expires_in":99999999999999}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		fe := &Fetcher{red: redact.New("secret-xyz")}
		now := time.Unix(1_800_000_000, 0)
		tok, err := fe.parseAnswer("http://token", status, body, now)
		if err != nil {
			if strings.Contains(err.Error(), "secret-xyz") {
				t.Fatalf("secret in %q", err)
			}
			return
		}
		if tok.Value == "" || !tok.Expires.After(now) {
			t.Fatalf("unusable token %+v", tok)
		}
		if fe.red.String(tok.Value) == tok.Value {
			t.Fatalf("token %q not registered with the redactor", tok.Value)
		}
	})
}
