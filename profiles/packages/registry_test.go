package packages

import (
	"context"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance/conformancetest"
)

// testRegistry is an npm-compatible registry serving tarballs by name#version.
type testRegistry struct {
	tarballs map[string][]byte // name#version -> tarball
	// shasum and integrity override the computed checksums when set.
	shasum, integrity map[string]string
	// failFirst makes the first n requests answer 503.
	failFirst int32
	requests  atomic.Int32
	// noDocument answers 404 to GET /{name}, so clients must use /{name}/{version}.
	noDocument bool
}

func (tr *testRegistry) handler(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := tr.requests.Add(1)
		if n <= tr.failFirst {
			w.Header().Set("Retry-After", "3600")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		switch {
		case len(parts) == 1:
			if tr.noDocument {
				http.NotFound(w, r)
				return
			}
			versions := map[string]any{}
			for ref, tgz := range tr.tarballs {
				name, version, _ := strings.Cut(ref, "#")
				if name != parts[0] {
					continue
				}
				sha := sha1.Sum(tgz)
				sum := sha512.Sum512(tgz)
				dist := map[string]string{
					"tarball":   "http://" + r.Host + "/tarballs/" + name + "-" + version + ".tgz",
					"shasum":    hex.EncodeToString(sha[:]),
					"integrity": "sha512-" + base64.StdEncoding.EncodeToString(sum[:]),
				}
				if v, ok := tr.shasum[ref]; ok {
					dist["shasum"] = v
				}
				if v, ok := tr.integrity[ref]; ok {
					dist["integrity"] = v
				}
				versions[version] = map[string]any{"name": name, "version": version, "dist": dist}
			}
			if len(versions) == 0 {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"name": parts[0], "versions": versions})
		case len(parts) == 2 && parts[0] == "tarballs":
			for ref, tgz := range tr.tarballs {
				if strings.Replace(ref, "#", "-", 1)+".tgz" == parts[1] {
					w.Header().Set("Content-Type", "application/gzip")
					_, _ = w.Write(tgz)
					return
				}
			}
			http.NotFound(w, r)
		case len(parts) == 2:
			tgz, ok := tr.tarballs[parts[0]+"#"+parts[1]]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/tar+gzip")
			_, _ = w.Write(tgz)
		default:
			http.NotFound(w, r)
		}
	})
}

func fastClient() *retryablehttp.Client {
	c := NewRegistryClient()
	c.RetryWaitMin = time.Millisecond
	c.RetryWaitMax = 5 * time.Millisecond
	return c
}

func TestRegistryDownload(t *testing.T) {
	term, err := os.ReadFile(conformancetest.Shared(t, "fhir/packages/hl7.terminology.r4-7.0.1.tgz"))
	require.NoError(t, err)
	small := buildTarball(t, tarEntry{name: "package/package.json", body: testManifest}, tarEntry{name: "package/Patient-a.json", body: `{"resourceType":"Patient","id":"a"}`})
	wrongID := buildTarball(t, tarEntry{name: "package/package.json", body: `{"name":"other","version":"1.0.0"}`})
	evil := buildTarball(t, tarEntry{name: "package/package.json", body: `{"name":"evil","version":"1.0.0"}`}, tarEntry{name: "package/../../x", body: "x"})
	tests := []struct {
		name         string
		reg          *testRegistry
		ref          string
		wantID       string
		wantVerified []string
		wantErr      []string
		wantRequests int32
	}{
		{
			name:         "terminology from the registry document",
			reg:          &testRegistry{tarballs: map[string][]byte{"hl7.terminology.r4#7.0.1": term}},
			ref:          "hl7.terminology.r4#7.0.1",
			wantID:       "hl7.terminology.r4#7.0.1",
			wantVerified: []string{"sha512", "shasum"},
			wantRequests: 2,
		},
		{
			name:         "retries 503 then succeeds",
			reg:          &testRegistry{tarballs: map[string][]byte{"example.test#1.0.0": small}, failFirst: 2},
			ref:          "example.test#1.0.0",
			wantID:       "example.test#1.0.0",
			wantVerified: []string{"sha512", "shasum"},
			wantRequests: 4,
		},
		{
			name:         "tarball served at name/version as packages.fhir.org does",
			reg:          &testRegistry{tarballs: map[string][]byte{"example.test#1.0.0": small}, noDocument: true},
			ref:          "example.test#1.0.0",
			wantID:       "example.test#1.0.0",
			wantRequests: 2,
		},
		{
			name:    "gives up after bounded retries",
			reg:     &testRegistry{tarballs: map[string][]byte{"example.test#1.0.0": small}, failFirst: 100},
			ref:     "example.test#1.0.0",
			wantErr: []string{"503", "busy"},
			// one attempt and three retries
			wantRequests: 4,
		},
		{
			name:    "sha1 mismatch",
			reg:     &testRegistry{tarballs: map[string][]byte{"example.test#1.0.0": small}, shasum: map[string]string{"example.test#1.0.0": strings.Repeat("00", 20)}},
			ref:     "example.test#1.0.0",
			wantErr: []string{"does not match", "shasum"},
		},
		{
			name:    "sha512 mismatch",
			reg:     &testRegistry{tarballs: map[string][]byte{"example.test#1.0.0": small}, integrity: map[string]string{"example.test#1.0.0": "sha512-" + base64.StdEncoding.EncodeToString(make([]byte, 64))}},
			ref:     "example.test#1.0.0",
			wantErr: []string{"does not match", "sha512"},
		},
		{
			name:    "no checksum published",
			reg:     &testRegistry{tarballs: map[string][]byte{"example.test#1.0.0": small}, shasum: map[string]string{"example.test#1.0.0": ""}, integrity: map[string]string{"example.test#1.0.0": ""}},
			ref:     "example.test#1.0.0",
			wantErr: []string{"neither dist.shasum nor dist.integrity"},
		},
		{
			name:    "unknown version lists the known ones",
			reg:     &testRegistry{tarballs: map[string][]byte{"example.test#1.0.0": small}},
			ref:     "example.test#2.0.0",
			wantErr: []string{"no version 2.0.0", "has 1.0.0"},
		},
		{
			name:    "unknown package",
			reg:     &testRegistry{tarballs: map[string][]byte{}},
			ref:     "nothing#1.0.0",
			wantErr: []string{"/nothing/1.0.0", "404"},
		},
		{
			name:    "tarball names another package",
			reg:     &testRegistry{tarballs: map[string][]byte{"example.test#1.0.0": wrongID}},
			ref:     "example.test#1.0.0",
			wantErr: []string{"tarball holds other#1.0.0"},
		},
		{
			name:    "unsafe tarball",
			reg:     &testRegistry{tarballs: map[string][]byte{"evil#1.0.0": evil}},
			ref:     "evil#1.0.0",
			wantErr: []string{"unsafe tarball entry", "package/../../x"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.reg.handler(t))
			defer srv.Close()
			name, version, err := ParseRef(tc.ref)
			require.NoError(t, err)
			reg := Registry{URL: srv.URL, Client: fastClient()}
			p, verified, err := reg.Download(context.Background(), name, version)
			if tc.wantErr != nil {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "download "+tc.ref)
				for _, m := range tc.wantErr {
					assert.Contains(t, err.Error(), m)
				}
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.wantID, p.ID())
				assert.Equal(t, tc.wantVerified, verified)
			}
			if tc.wantRequests != 0 {
				assert.Equal(t, tc.wantRequests, tc.reg.requests.Load())
			}
		})
	}
}

func TestRegistryBadURL(t *testing.T) {
	for _, u := range []string{"ftp://example.org", "://bad", "file:///etc"} {
		_, _, err := Registry{URL: u, Client: fastClient()}.Download(context.Background(), "a", "1.0.0")
		require.Error(t, err, u)
	}
	_, _, err := Registry{URL: "http://127.0.0.1:1", Client: fastClient()}.Download(context.Background(), "../a", "1.0.0")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid package name")
}

func TestRegistryErrorsHideCredentials(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://user:s3cret@", 1)
	_, _, err := Registry{URL: u, Client: fastClient()}.Download(context.Background(), "a", "1.0.0")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret")
}

func TestRegistryCanceled(t *testing.T) {
	reg := &testRegistry{failFirst: 1000}
	srv := httptest.NewServer(reg.handler(t))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := Registry{URL: srv.URL}.Download(ctx, "a", "1.0.0")
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestCappedBackoff(t *testing.T) {
	resp := &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": []string{"3600"}}}
	assert.Equal(t, 5*time.Second, cappedBackoff(250*time.Millisecond, 5*time.Second, 1, resp))
	assert.Equal(t, 500*time.Millisecond, cappedBackoff(250*time.Millisecond, 5*time.Second, 1, nil))
	assert.Equal(t, 5*time.Second, cappedBackoff(250*time.Millisecond, 5*time.Second, 40, nil))
}

func TestRegistryCheckRetry(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		status int
		err    error
		want   bool
	}{
		{name: "ok", status: 200, want: false},
		{name: "not found", status: 404, want: false},
		{name: "too many requests", status: 429, want: true},
		{name: "unavailable", status: 503, want: true},
		{name: "not implemented", status: 501, want: false},
		{name: "connection refused", err: errors.New("connection refused"), want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var resp *http.Response
			if tc.err == nil {
				resp = &http.Response{StatusCode: tc.status}
			}
			got, _ := registryCheckRetry(ctx, resp, tc.err)
			assert.Equal(t, tc.want, got)
		})
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	got, err := registryCheckRetry(canceled, nil, errors.New("x"))
	assert.False(t, got)
	assert.ErrorIs(t, err, context.Canceled)
}
