package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/scenarios/refserver"
)

// startServe runs 'conform serve' in the background until the test ends and
// returns its output so far once the listening line and the next are printed.
func startServe(t *testing.T, args ...string) (base string, stdout *conformancetest.SyncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errb := &conformancetest.SyncBuffer{}, &conformancetest.SyncBuffer{}
	e := &env{ctx: ctx, stdin: strings.NewReader(""), stdout: out, stderr: errb, getenv: func(string) string { return "" }}
	codes := make(chan conformance.ExitCode, 1)
	go func() { codes <- run(e, append([]string{"serve"}, args...)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-codes:
			assert.Equal(t, conformance.ExitPass, code, errb.String())
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop")
		}
	})
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		lines := strings.Split(out.String(), "\n")
		if len(lines) >= 3 {
			require.True(t, strings.HasPrefix(lines[0], "conform reference server listening on http://"), lines[0])
			return strings.TrimPrefix(lines[0], "conform reference server listening on "), out
		}
		select {
		case code := <-codes:
			t.Fatalf("serve ended with %d: %s", code, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatal("serve printed no listening line")
	return "", nil
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/fhir+json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(raw)
}

func TestServeListFaults(t *testing.T) {
	stdout, _, code := runCLI(t, "", nil, "serve", "--list-faults")
	assert.Equal(t, conformance.ExitPass, code)
	var want []string
	for _, f := range refserver.Faults() {
		want = append(want, f.Name)
	}
	assert.Equal(t, strings.Join(want, "\n")+"\n", stdout)
}

func TestServeHelpExplainsFaults(t *testing.T) {
	stdout, _, code := runCLI(t, "", nil, "serve", "--help")
	assert.Equal(t, conformance.ExitPass, code)
	for _, f := range refserver.Faults() {
		assert.Contains(t, stdout, f.Name)
		assert.Contains(t, stdout, f.Breaks)
	}
	assert.Contains(t, stdout, "--push-url")
}

func TestServeUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "unknown fault", args: []string{"--fault", "no-such-fault"}, want: `unknown fault "no-such-fault"`},
		{name: "relative push URL", args: []string{"--push-url", "receiver/fhir"}, want: "--push-url"},
		{name: "ftp push URL", args: []string{"--push-url", "ftp://x/fhir"}, want: "--push-url"},
		{name: "push URL password not shown", args: []string{"--push-url", "ftp://user:s3cret@x/fhir"}, want: "user:xxxxx@x"},
		{name: "argument", args: []string{"extra"}, want: `unexpected argument "extra"`},
		{name: "unknown flag", args: []string{"--frobnicate"}, want: "frobnicate"},
		{name: "ig without validation", args: []string{"--no-validate", "--ig", "x"}, want: "--ig"},
		{name: "missing core package", args: []string{"--fhir-cache", "/nonexistent-cache-dir"}, want: "--no-validate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, "", nil, append([]string{"serve"}, tc.args...)...)
			assert.Equal(t, conformance.ExitUsage, code)
			assert.Contains(t, stderr, tc.want)
		})
	}
}

func TestServeWithoutValidation(t *testing.T) {
	base, out := startServe(t, "--addr", "127.0.0.1:0", "--no-validate", "--fault", "no-etag", "--push-url", "http://user:s3cret@127.0.0.1:1/fhir")
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "pushing") }, 5*time.Second, 10*time.Millisecond)
	assert.Contains(t, out.String(), "to http://user:xxxxx@127.0.0.1:1/fhir/$process-message")
	assert.NotContains(t, out.String(), "s3cret")
	lines := strings.Split(out.String(), "\n")
	assert.Contains(t, lines[1], "structural JSON checks only")
	assert.Equal(t, "faults on: no-etag", lines[2])
	resp, err := http.Get(base + "/metadata")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	resp, err = http.Post(base+"/Encounter", "application/fhir+json", strings.NewReader(`{"resourceType":"Encounter"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 201, resp.StatusCode, "no validator: an Encounter without status is stored")
	assert.Empty(t, resp.Header.Get("ETag"), "the no-etag fault is on")
	assert.NotEmpty(t, resp.Header.Get("Location"))
}

func TestServeValidatesAgainstUKCore(t *testing.T) {
	base, out := startServe(t, "--addr", "127.0.0.1:0", "--fhir-cache", t.TempDir(),
		"--ig", conformancetest.Shared(t, "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz"),
		"--ig", conformancetest.Shared(t, "fhir/sources/uk-core-2.0.2"))
	assert.Contains(t, strings.Split(out.String(), "\n")[1], "UK Core profiles (fhir.r4.ukcore.stu2#2.0.2")
	code, body := post(t, base+"/Encounter", `{"resourceType":"Encounter","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"}}`)
	assert.Equal(t, 422, code, "an Encounter without status is invalid: %s", body)
	assert.Contains(t, body, "Encounter.status")
	code, body = post(t, base+"/Organization", `{"resourceType":"Organization","name":"Leeds Teaching Hospitals","identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RR8"}]}`)
	assert.Equal(t, 201, code, body)
}

func TestServeAddressInUse(t *testing.T) {
	base, _ := startServe(t, "--addr", "127.0.0.1:0", "--no-validate")
	addr := strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/fhir")
	stdout, stderr, code := runCLI(t, "", nil, "serve", "--no-validate", "--addr", addr)
	assert.Equal(t, conformance.ExitIncomplete, code)
	assert.Empty(t, stdout, "no listening line when not listening")
	assert.Contains(t, stderr, "listen on "+addr)
}
