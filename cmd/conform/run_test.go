package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/runner"
	"github.com/nhsconform/conform/runner/redact"
	"github.com/nhsconform/conform/runner/runnertest"
	"github.com/nhsconform/conform/runner/steps"
)

const (
	cliToken        = "tok-CLI-SECRET-5521"
	cliClientSecret = "cs-CLI-SECRET-9934"
	cliAccessToken  = "at-CLI-SECRET-3310"
)

func features(name string) string { return filepath.Join("..", "..", "testdata", "features", name) }

func profileArgs(t *testing.T) []string {
	return []string{
		"--fhir-cache", t.TempDir(),
		"--ig", conformancetest.Shared(t, "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz"),
		"--ig", conformancetest.Shared(t, "fhir/sources/uk-core-2.0.2"),
	}
}

func TestRunUsage(t *testing.T) {
	srv := runnertest.New("")
	defer srv.Close()
	bigSecret := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(bigSecret, bytes.Repeat([]byte("s"), maxSecretFile+1), 0o600))
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{name: "no target", args: []string{"--features", features("pass")}, wantErr: "--target is required"},
		{name: "no features", args: []string{"--target", srv.URL}, wantErr: "no --features"},
		{name: "missing feature path", args: []string{"--target", srv.URL, "--features", features("nowhere")}, wantErr: "nowhere"},
		{name: "bad target", args: []string{"--target", "ftp://x", "--features", features("pass")}, wantErr: "absolute http or https URL"},
		{name: "bad output", args: []string{"--target", srv.URL, "--features", features("pass"), "-o", "xml"}, wantErr: "unknown output format"},
		{name: "two stdout outputs", args: []string{"--target", srv.URL, "--features", features("pass"), "-o", "text", "-o", "json"}, wantErr: "only one -o"},
		{name: "bad header", args: []string{"--target", srv.URL, "--features", features("pass"), "--header", "NoColon"}, wantErr: `want "Name: value"`},
		{name: "two auth styles", args: []string{"--target", srv.URL, "--features", features("pass"), "--bearer-token-env", "A", "--token-url", "http://x"}, wantErr: "choose one"},
		{name: "oversized client secret file", args: []string{"--target", srv.URL, "--features", features("pass"), "--token-url", "http://x", "--client-id", "app", "--client-secret-file", bigSecret}, wantErr: "too large for a secret"},
		{name: "unset token variable", args: []string{"--target", srv.URL, "--features", features("pass"), "--bearer-token-env", "CONFORM_TOKEN"}, wantErr: "CONFORM_TOKEN is not set"},
		{name: "syntax error", args: []string{"--target", srv.URL, "--features", features("bad/syntax.feature")}, wantErr: "syntax.feature:6:3: expected"},
		{name: "bad tags", args: []string{"--target", srv.URL, "--features", features("pass"), "--tags", "@a&&"}, wantErr: "is not a tag"},
		{name: "nothing selected", args: []string{"--target", srv.URL, "--features", features("pass"), "--tags", "@none"}, wantErr: "no scenario selected"},
		{name: "unwritable output", args: []string{"--target", srv.URL, "--features", features("pass"), "-o", "json=" + filepath.Join("no", "such", "dir", "x.json")}, wantErr: "cannot write -o json="},
		{name: "bad concurrency", args: []string{"--target", srv.URL, "--features", features("pass"), "--concurrency", "0"}, wantErr: "--concurrency"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, "", tc.env, append([]string{"run"}, tc.args...)...)
			assert.Equal(t, conformance.ExitUsage, code, stderr)
			assert.Contains(t, stderr, tc.wantErr)
		})
	}
}

func TestRunExitCodes(t *testing.T) {
	srv := runnertest.New(cliToken)
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + ln.Addr().String()
	ln.Close()
	env := map[string]string{"CONFORM_TOKEN": cliToken}
	auth := []string{"--bearer-token-env", "CONFORM_TOKEN", "--timeout", "2s"}
	tests := []struct {
		name       string
		target     string
		args       []string
		want       conformance.ExitCode
		wantStdout []string
		wantStderr []string
	}{
		{name: "failures", args: []string{"--features", features("fail/misbehaving.feature:3"), "--features", features("fail/misbehaving.feature:30")}, want: conformance.ExitFail, wantStdout: []string{"FAIL      Internal server error (misbehaving.feature:3)", "expected status 200, got 500", "2 scenarios: 0 passed, 2 failed"}},
		{name: "undefined step", args: []string{"--features", features("bad/undefined.feature")}, want: conformance.ExitIncomplete, wantStdout: []string{"UNDEFINED Then the response code should be 200 (line 5)", "did you mean: Then the response status should be CODE"}},
		{name: "missing fixture", args: []string{"--features", features("bad/missing-fixture.feature")}, want: conformance.ExitIncomplete, wantStdout: []string{"nowhere.json"}},
		{name: "unreachable", target: closed, args: []string{"--features", features("bad/unstored.feature"), "--features", features("bad/undefined.feature")}, want: conformance.ExitIncomplete, wantStdout: []string{"unreachable"}},
		{name: "pushed message", args: []string{"--features", features("push/discharge.feature:3"), "--listen", "127.0.0.1:0"}, want: conformance.ExitPass, wantStdout: []string{"PASS      The system under test pushes"}},
		{name: "progress", args: []string{"--features", features("pass/rules.feature"), "--progress"}, want: conformance.ExitPass, wantStderr: []string{"PASS      The CapabilityStatement is FHIR R4 (rules.feature:9)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := srv.URL
			if tc.target != "" {
				target = tc.target
			}
			args := append([]string{"run", "--target", target}, auth...)
			stdout, stderr, code := runCLI(t, "", env, append(args, tc.args...)...)
			assert.Equal(t, tc.want, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			for _, w := range tc.wantStdout {
				assert.Contains(t, stdout, w)
			}
			for _, w := range tc.wantStderr {
				assert.Contains(t, stderr, w)
			}
			assert.NotContains(t, stdout+stderr, cliToken)
		})
	}
}

func TestRunPassWithValidationAndJSONRecord(t *testing.T) {
	srv := runnertest.New(cliToken)
	defer srv.Close()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(cliToken+"\n"), 0o600))
	jsonFile := filepath.Join(dir, "record.json")
	args := append([]string{"run", "--target", srv.URL, "--features", features("pass"), "--bearer-token-file", tokenFile,
		"--concurrency", "3", "-o", "text", "-o", "json=" + jsonFile, "--header", "X-Custom: yes"}, profileArgs(t)...)
	stdout, stderr, code := runCLI(t, "", nil, args...)
	require.Equal(t, conformance.ExitPass, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stdout, "7 scenarios: 7 passed, 0 failed")
	data, err := os.ReadFile(jsonFile)
	require.NoError(t, err)
	var rec runner.Record
	require.NoError(t, json.Unmarshal(data, &rec))
	require.Len(t, rec.Scenarios, 7)
	var outcomes int
	for _, s := range rec.Scenarios {
		for _, st := range s.Steps {
			outcomes += len(st.Outcomes)
			for _, ex := range st.Exchanges {
				assert.Equal(t, []string{"yes"}, ex.RequestHeaders["X-Custom"])
			}
		}
	}
	assert.Equal(t, 3, outcomes, "the validation outcomes of the Patient (UK Core and declared profiles) and the Encounter entry are kept")
	assert.NotContains(t, string(data), cliToken)
}

// TestNoSecretInAnyOutput scans every output of runs using each credential
// style, including a token endpoint that echoes the secret back in an error.
func TestNoSecretInAnyOutput(t *testing.T) {
	srv := runnertest.New(cliAccessToken)
	defer srv.Close()
	var assertions []string
	var mu sync.Mutex
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pass, _ := r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		r.ParseForm()
		if a := r.Form.Get("client_assertion"); a != "" {
			mu.Lock()
			assertions = append(assertions, a)
			mu.Unlock()
			w.Write([]byte(`{"access_token":"` + cliAccessToken + `","expires_in":599}`))
			return
		}
		if pass != cliClientSecret {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"invalid_client","error_description":"wrong secret ` + pass + `"}`))
			return
		}
		w.Write([]byte(`{"access_token":"` + cliAccessToken + `","expires_in":"599"}`))
	}))
	defer tokenSrv.Close()
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(secretFile, []byte(cliClientSecret), 0o600))
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	keyFile := filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(keyFile, keyPEM, 0o600))
	jsonFile := filepath.Join(dir, "record.json")
	env := map[string]string{"CS": cliClientSecret, "WRONG": "cs-WRONG-SECRET-0000", "TOKEN": cliToken}
	runs := [][]string{
		{"--token-url", tokenSrv.URL, "--client-id", "app", "--client-secret-env", "CS"},
		{"--token-url", tokenSrv.URL, "--client-id", "app", "--client-secret-file", secretFile},
		{"--token-url", tokenSrv.URL, "--client-id", "app", "--client-secret-env", "WRONG"},
		{"--bearer-token-env", "TOKEN"},
		{"--header", "Authorization: Bearer " + cliAccessToken},
		{"--token-url", tokenSrv.URL, "--client-id", "app", "--jwt-key", keyFile, "--jwt-kid", "test-1"},
	}
	secrets := []string{cliToken, cliClientSecret, cliAccessToken, "cs-WRONG-SECRET-0000"}
	for i, extra := range runs {
		args := append([]string{"run", "--target", srv.URL, "--features", features("pass/patient.feature:8"), "--features", features("fail/misbehaving.feature:3"),
			"-o", "text", "-o", "json=" + jsonFile, "--timeout", "2s"}, extra...)
		stdout, stderr, code := runCLI(t, "", env, args...)
		record, _ := os.ReadFile(jsonFile)
		all := stdout + stderr + string(record)
		assert.NotEqual(t, conformance.ExitUsage, code, "run %d: %s", i, stderr)
		mu.Lock()
		leaks := append(append([]string{}, secrets...), assertions...)
		mu.Unlock()
		leaks = append(leaks, strings.Split(strings.TrimSpace(string(keyPEM)), "\n")[1])
		for _, s := range leaks {
			assert.NotContains(t, all, s, "run %d leaks a secret", i)
		}
		os.Remove(jsonFile)
	}
	assert.NotEmpty(t, assertions, "the JWT run obtained its token with a signed assertion")
}

func TestStepsCommand(t *testing.T) {
	stdout, _, code := runCLI(t, "", nil, "steps")
	assert.Equal(t, conformance.ExitPass, code)
	for _, d := range steps.Catalogue() {
		assert.Contains(t, stdout, strings.Split(d.Phrase, "\n")[0])
	}
	stdout, _, code = runCLI(t, "", nil, "steps", "-o", "markdown")
	assert.Equal(t, conformance.ExitPass, code)
	assert.Equal(t, steps.Markdown(), stdout)
	_, _, code = runCLI(t, "", nil, "steps", "-o", "html")
	assert.Equal(t, conformance.ExitUsage, code)
}

func FuzzParseHeaders(f *testing.F) {
	f.Add("X-Request-Id: abc")
	f.Add("Authorization: Bearer tok-1")
	f.Add("bad\r\nheader: x")
	f.Fuzz(func(t *testing.T, v string) {
		h, err := parseHeaders([]string{v}, redact.New())
		if err != nil {
			return
		}
		for name, values := range h {
			for _, val := range values {
				if strings.ContainsAny(name+val, "\r\n") {
					t.Fatalf("header %q: %q accepted", name, val)
				}
			}
		}
	})
}

// writeTestPKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, all PEM, into dir.
func writeTestPKI(t *testing.T, dir string) (serverCert tls.Certificate, caPool *x509.CertPool) {
	t.Helper()
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "conform test CA"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	write := func(name string, block *pem.Block) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600))
	}
	write("ca.pem", &pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	issue := func(name string, usage x509.ExtKeyUsage, serial int64) tls.Certificate {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		require.NoError(t, err)
		write(name+".crt", &pem.Block{Type: "CERTIFICATE", Bytes: der})
		write(name+".key", &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
		c, err := tls.LoadX509KeyPair(filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key"))
		require.NoError(t, err)
		return c
	}
	serverCert = issue("server", x509.ExtKeyUsageServerAuth, 2)
	issue("client", x509.ExtKeyUsageClientAuth, 3)
	caPool = x509.NewCertPool()
	caPool.AddCert(ca)
	return serverCert, caPool
}

func TestRunWithMutualTLS(t *testing.T) {
	dir := t.TempDir()
	cert, pool := writeTestPKI(t, dir)
	srv := runnertest.NewTLS("", &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool})
	defer srv.Close()
	base := []string{"run", "--target", srv.URL, "--features", features("pass/rules.feature"), "--timeout", "5s"}
	stdout, stderr, code := runCLI(t, "", nil, append(base, "--cert", filepath.Join(dir, "client.crt"), "--key", filepath.Join(dir, "client.key"), "--ca", filepath.Join(dir, "ca.pem"))...)
	assert.Equal(t, conformance.ExitPass, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)

	stdout, _, code = runCLI(t, "", nil, append(base, "--ca", filepath.Join(dir, "ca.pem"))...)
	assert.Equal(t, conformance.ExitIncomplete, code, "no client certificate: the handshake fails")
	assert.Contains(t, stdout, "tls")

	_, stderr, code = runCLI(t, "", nil, append(base, "--cert", filepath.Join(dir, "client.crt"))...)
	assert.Equal(t, conformance.ExitUsage, code)
	assert.Contains(t, stderr, "both a client certificate and its key")
	assert.NotContains(t, stdout+stderr, "PRIVATE KEY")
}
