package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/conformance/conformancetest"
)

// fhirRegistry serves the shared tarballs as an npm-compatible registry.
func fhirRegistry(t *testing.T, tarballs map[string]string) *httptest.Server {
	t.Helper()
	data := map[string][]byte{}
	for ref, rel := range tarballs {
		b, err := os.ReadFile(conformancetest.Shared(t, rel))
		require.NoError(t, err)
		data[ref] = b
	}
	return fhirRegistryOf(t, data)
}

// fhirRegistryOf serves tarballs by name#version as an npm-compatible registry.
func fhirRegistryOf(t *testing.T, data map[string][]byte) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.Trim(r.URL.Path, "/")
		if tgz, ok := data[strings.Replace(strings.TrimPrefix(path, "-/"), "/", "#", 1)]; ok && strings.HasPrefix(path, "-/") {
			_, _ = w.Write(tgz)
			return
		}
		versions := map[string]any{}
		for ref, tgz := range data {
			name, version, _ := strings.Cut(ref, "#")
			if name == path {
				sum := sha1.Sum(tgz)
				versions[version] = map[string]any{"dist": map[string]string{"tarball": srv.URL + "/-/" + name + "/" + version, "shasum": hex.EncodeToString(sum[:])}}
			}
		}
		if len(versions) == 0 {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"name": path, "versions": versions})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPackagesInstallFromRegistryListShow(t *testing.T) {
	cache := t.TempDir()
	env := map[string]string{"CONFORM_FHIR_CACHE": cache}
	srv := fhirRegistry(t, map[string]string{
		"hl7.fhir.r4.core#4.0.1":   "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz",
		"hl7.terminology.r4#7.0.1": "fhir/packages/hl7.terminology.r4-7.0.1.tgz",
	})

	out, errOut, code := runCLI(t, "", env, "packages", "install", "--registry", srv.URL, "hl7.fhir.r4.core#4.0.1")
	require.Equal(t, conformance.ExitPass, code, errOut)
	assert.Equal(t, "installed hl7.fhir.r4.core#4.0.1 (4580 resources; checksum shasum verified) into "+cache+"\n", out)

	out, _, code = runCLI(t, "", env, "packages", "install", "--registry", srv.URL, "hl7.fhir.r4.core#4.0.1")
	require.Equal(t, conformance.ExitPass, code)
	assert.Contains(t, out, "already installed")

	_, errOut, code = runCLI(t, "", env, "packages", "install", "--registry", srv.URL, "no.such.package#1.0.0")
	assert.Equal(t, conformance.ExitIncomplete, code)
	assert.Contains(t, errOut, "download no.such.package#1.0.0")

	out, _, code = runCLI(t, "", env, "packages", "list")
	require.Equal(t, conformance.ExitPass, code)
	assert.Equal(t, "hl7.fhir.r4.core#4.0.1\n", out)

	out, errOut, code = runCLI(t, "", env, "packages", "show", "-o", "json", conformancetest.Shared(t, "fhir/packages/hl7.terminology.r4-7.0.1.tgz"))
	require.Equal(t, conformance.ExitPass, code, errOut)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	assert.Equal(t, map[string]any{
		"name":       "hl7.terminology.r4",
		"version":    "7.0.1",
		"counts":     map[string]any{"Bundle": 16.0, "CodeSystem": 897.0, "ImplementationGuide": 1.0, "List": 14.0, "NamingSystem": 660.0, "StructureDefinition": 9.0, "ValueSet": 2499.0},
		"unresolved": []any{"hl7.fhir.uv.extensions.r4#5.2.0"},
	}, got)

	uk := conformancetest.Shared(t, "fhir/sources/uk-core")
	out, errOut, code = runCLI(t, "", env, "packages", "install", uk)
	require.Equal(t, conformance.ExitPass, code, errOut)
	assert.Contains(t, out, "installed fhir.r4.ukcore.stu3.currentbuild#0.0.0-main.55dd5f7 (594 resources; 594 converted from XML)")

	out, errOut, code = runCLI(t, "", nil, "packages", "show", "--fhir-cache", cache, "fhir.r4.ukcore.stu3.currentbuild#0.0.0-main.55dd5f7")
	require.Equal(t, conformance.ExitPass, code, errOut)
	assert.Contains(t, out, "fhir.r4.ukcore.stu3.currentbuild#0.0.0-main.55dd5f7\n")
	assert.Contains(t, out, "resources: 594\n")
	assert.Regexp(t, `\n  StructureDefinition +153\n`, out)
	assert.Contains(t, out, "unresolved dependencies:\n  hl7.fhir.r5.core#5.0.0\n")

	out, _, code = runCLI(t, "", nil, "packages", "list", "--fhir-cache", cache)
	require.Equal(t, conformance.ExitPass, code)
	assert.Equal(t, "fhir.r4.ukcore.stu3.currentbuild#0.0.0-main.55dd5f7\nhl7.fhir.r4.core#4.0.1\n", out)
}

func TestPackagesInstallDependencies(t *testing.T) {
	cache := t.TempDir()
	srv := fhirRegistryOf(t, map[string][]byte{
		"example.ig#1.0.0":  smallTarball(t, `{"name":"example.ig","version":"1.0.0","dependencies":{"example.dep":"2.0.0","missing.dep":"1.0.0","hl7.fhir.r4.core":"4.0.1"}}`),
		"example.dep#2.0.0": smallTarball(t, `{"name":"example.dep","version":"2.0.0","dependencies":{"example.ig":"1.0.0"}}`),
	})
	require.NoError(t, os.MkdirAll(filepath.Join(cache, "hl7.fhir.r4.core#4.0.1", "package"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(cache, "hl7.fhir.r4.core#4.0.1", "package", "package.json"), []byte(`{"name":"hl7.fhir.r4.core","version":"4.0.1"}`), 0o644))
	out, errOut, code := runCLI(t, "", nil, "packages", "install", "--fhir-cache", cache, "--registry", srv.URL, "example.ig#1.0.0")
	require.Equal(t, conformance.ExitPass, code, errOut)
	assert.Equal(t, "installed example.ig#1.0.0 (1 resources; checksum shasum verified) into "+cache+"\n"+
		"installed example.dep#2.0.0 (1 resources; checksum shasum verified) into "+cache+"\n", out)
	assert.Equal(t, "conform packages install: warning: dependency of example.ig#1.0.0: download missing.dep#1.0.0: GET "+srv.URL+"/missing.dep/1.0.0: 404 Not Found: 404 page not found\n", errOut,
		"installed core not downloaded; missing dependency named")

	out, _, code = runCLI(t, "", nil, "packages", "install", "--fhir-cache", cache, "--registry", srv.URL, "--no-deps", "--force", "example.ig#1.0.0")
	require.Equal(t, conformance.ExitPass, code)
	assert.Equal(t, "installed example.ig#1.0.0 (1 resources; checksum shasum verified) into "+cache+"\n", out)
}

func smallTarball(t *testing.T, manifest string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range []struct{ name, body string }{
		{"package/package.json", manifest},
		{"package/Basic-a.json", `{"resourceType":"Basic","id":"a"}`},
	} {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}))
		_, err := tw.Write([]byte(f.body))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	return buf.Bytes()
}

func TestPackagesShowSource(t *testing.T) {
	out, errOut, code := runCLI(t, "", map[string]string{"CONFORM_FHIR_CACHE": t.TempDir()}, "packages", "show", "-o", "json", conformancetest.Shared(t, "fhir/sources/uk-core-2.0.2"))
	require.Equal(t, conformance.ExitPass, code, errOut)
	var got struct {
		Name       string         `json:"name"`
		Version    string         `json:"version"`
		Counts     map[string]int `json:"counts"`
		Unresolved []string       `json:"unresolved"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	assert.Equal(t, "fhir.r4.ukcore.stu2", got.Name)
	assert.Equal(t, "2.0.2", got.Version)
	assert.Positive(t, got.Counts["StructureDefinition"])
	assert.Equal(t, []string{"hl7.fhir.r4.core#4.0.1"}, got.Unresolved)
	var keys map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(out), &keys))
	assert.Len(t, keys, 4, "exactly name, version, counts, unresolved")
}

func TestPackagesErrors(t *testing.T) {
	cache := t.TempDir()
	bad := filepath.Join(t.TempDir(), "bad")
	require.NoError(t, os.MkdirAll(bad, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bad, "package.json"), []byte(`{"name":"bad","version":"1"}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(bad, "Patient.json"), []byte(`{"resourceType":`), 0o644))
	env := map[string]string{"CONFORM_FHIR_CACHE": cache}
	tests := []struct {
		name     string
		args     []string
		wantCode conformance.ExitCode
		wantErr  string
	}{
		{name: "no subcommand", args: []string{"packages"}, wantCode: conformance.ExitUsage, wantErr: "Subcommands"},
		{name: "unknown subcommand", args: []string{"packages", "frob"}, wantCode: conformance.ExitUsage, wantErr: `unknown subcommand "frob"`},
		{name: "install nothing", args: []string{"packages", "install"}, wantCode: conformance.ExitUsage, wantErr: "no package to install"},
		{name: "install neither path nor ref", args: []string{"packages", "install", "nowhere"}, wantCode: conformance.ExitUsage, wantErr: "not name#version"},
		{name: "install malformed source", args: []string{"packages", "install", bad}, wantCode: conformance.ExitIncomplete, wantErr: "Patient.json: malformed json"},
		{name: "install without package.json", args: []string{"packages", "install", conformancetest.Shared(t, "fhir/sources/nhs-england")}, wantCode: conformance.ExitIncomplete, wantErr: "nhs-england: no package.json"},
		{name: "show unknown format", args: []string{"packages", "show", "-o", "xml", bad}, wantCode: conformance.ExitUsage, wantErr: `unknown output format "xml"`},
		{name: "show not installed", args: []string{"packages", "show", "a.b#1.0.0"}, wantCode: conformance.ExitUsage, wantErr: "a.b#1.0.0 is not installed"},
		{name: "show two", args: []string{"packages", "show", "a", "b"}, wantCode: conformance.ExitUsage, wantErr: "exactly one"},
		{name: "list argument", args: []string{"packages", "list", "x"}, wantCode: conformance.ExitUsage, wantErr: `unexpected argument "x"`},
		{name: "bad flag", args: []string{"packages", "list", "--nope"}, wantCode: conformance.ExitUsage, wantErr: "unknown flag"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runCLI(t, "", env, tc.args...)
			assert.Equal(t, tc.wantCode, code)
			assert.Contains(t, errOut, tc.wantErr)
		})
	}
	entries, err := os.ReadDir(cache)
	require.NoError(t, err)
	assert.Empty(t, entries, "failed installs leave the cache empty")
}

func TestPackagesHelp(t *testing.T) {
	for _, args := range [][]string{{"packages", "--help"}, {"packages", "install", "--help"}, {"packages", "show", "--help"}, {"packages", "list", "--help"}} {
		out, _, code := runCLI(t, "", nil, args...)
		assert.Equal(t, conformance.ExitPass, code)
		assert.Contains(t, out, "Usage: conform packages")
	}
}

func TestPackageFlagsLoad(t *testing.T) {
	cache := t.TempDir()
	e := &env{getenv: func(string) string { return "" }, stderr: &strings.Builder{}}
	_ = e
	fs := newFlags(e, "probe", "", "")
	pf := addPackageFlags(fs)
	require.NoError(t, fs.Parse([]string{"--fhir-cache", cache, "--ig", "a", "--ig", "b#1.0.0"}))
	assert.Equal(t, []string{"a", "b#1.0.0"}, pf.igs)
	assert.Equal(t, cache, pf.cache(e).Dir)
}

func TestPackagesShowWarnings(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"package.json":        `{"name":"dup.test","version":"1.0.0"}`,
		"a/ValueSet-x.json":   `{"resourceType":"ValueSet","id":"x","url":"http://x/vs"}`,
		"b/ValueSet-x.json":   `{"resourceType":"ValueSet","id":"x2","url":"http://x/vs"}`,
		"c/not-resource.json": `{"hello": "world"}`,
	} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	out, errOut, code := runCLI(t, "", map[string]string{"CONFORM_FHIR_CACHE": t.TempDir()}, "packages", "show", dir)
	require.Equal(t, conformance.ExitPass, code, errOut)
	assert.Contains(t, out, "resources: 2\n  ValueSet      2\nunresolved dependencies: none\nwarnings:\n")
	assert.Contains(t, out, "  skipped-file in dup.test#1.0.0: c/not-resource.json: not a fhir resource\n")
	assert.Contains(t, out, "  duplicate-canonical in dup.test#1.0.0: http://x/vs: dup.test#1.0.0:b/ValueSet-x.json (ValueSet, no version) is also defined by dup.test#1.0.0:a/ValueSet-x.json (ValueSet, no version)\n")
}

func TestPackagesInstallTarballWithoutDocument(t *testing.T) {
	tgz := smallTarball(t, `{"name":"plain.pkg","version":"0.1.0"}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/plain.pkg/0.1.0" {
			_, _ = w.Write(tgz)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	cache := t.TempDir()
	out, errOut, code := runCLI(t, "", nil, "packages", "install", "--fhir-cache", cache, "--registry", srv.URL, "plain.pkg#0.1.0")
	require.Equal(t, conformance.ExitPass, code, errOut)
	assert.Equal(t, "installed plain.pkg#0.1.0 (1 resources; registry published no checksum) into "+cache+"\n", out)
}
