package fhirclient

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/runner/redact"
)

// counting wraps a handler and counts requests per method.
type counting struct {
	gets, posts atomic.Int32
	h           http.HandlerFunc
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		c.posts.Add(1)
	} else {
		c.gets.Add(1)
	}
	c.h(w, r)
}

func resetConnection(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	conn.Close()
}

func newClient(t *testing.T, base string, mutate func(*Options)) *Client {
	t.Helper()
	opts := Options{BaseURL: base, Timeout: 2 * time.Second, RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond}
	if mutate != nil {
		mutate(&opts)
	}
	c, err := New(opts)
	require.NoError(t, err)
	return c
}

func TestMisbehavingServers(t *testing.T) {
	var flaky atomic.Int32
	tests := []struct {
		name         string
		method       string
		handler      http.HandlerFunc
		timeout      time.Duration
		wantStatus   int
		wantKind     ErrorKind
		wantAttempts int
		wantServer   int32
	}{
		{
			name: "503 then success retried for GET", method: http.MethodGet,
			handler: func(w http.ResponseWriter, r *http.Request) {
				if flaky.Add(1) < 3 {
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				w.Write([]byte(`{"resourceType":"Patient"}`))
			},
			wantStatus: 200, wantAttempts: 3, wantServer: 3,
		},
		{
			name: "429 retried with Retry-After for GET", method: http.MethodGet,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusTooManyRequests)
			},
			wantStatus: 429, wantAttempts: 3, wantServer: 3,
		},
		{
			name: "long Retry-After not waited for", method: http.MethodGet,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "3600")
				w.WriteHeader(http.StatusServiceUnavailable)
			},
			wantStatus: 503, wantAttempts: 1, wantServer: 1,
		},
		{
			name: "503 never retried for POST", method: http.MethodPost,
			handler:    func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) },
			wantStatus: 503, wantAttempts: 1, wantServer: 1,
		},
		{
			name: "500 not retried", method: http.MethodGet,
			handler:    func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) },
			wantStatus: 500, wantAttempts: 1, wantServer: 1,
		},
		{
			name: "reset connection retried for GET", method: http.MethodGet,
			handler:  func(w http.ResponseWriter, r *http.Request) { resetConnection(w) },
			wantKind: KindConnection, wantAttempts: 3, wantServer: 3,
		},
		{
			name: "reset connection never retried for POST", method: http.MethodPost,
			handler:  func(w http.ResponseWriter, r *http.Request) { resetConnection(w) },
			wantKind: KindConnection, wantAttempts: 1, wantServer: 1,
		},
		{
			name: "slow server times out", method: http.MethodPost, timeout: 400 * time.Millisecond,
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.ReadAll(r.Body)
				select {
				case <-r.Context().Done():
				case <-time.After(3 * time.Second):
				}
			},
			wantKind: KindTimeout, wantAttempts: 1, wantServer: 1,
		},
		{
			name: "slow body times out", method: http.MethodGet, timeout: 150 * time.Millisecond,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"resourceType":`))
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
				case <-time.After(3 * time.Second):
				}
			},
			wantKind: KindTimeout, wantAttempts: 1, wantServer: 1,
		},
		{
			name: "10 MB body refused", method: http.MethodGet,
			handler: func(w http.ResponseWriter, r *http.Request) {
				chunk := []byte(strings.Repeat("x", 1<<20))
				for range 10 {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			},
			wantKind: KindTooLarge, wantAttempts: 1, wantServer: 1,
		},
		{
			name: "redirect loop stopped", method: http.MethodGet,
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/loop", http.StatusFound)
			},
			wantKind: KindRedirects, wantAttempts: 1, wantServer: maxRedirects,
		},
		{
			name: "redirect not followed for POST", method: http.MethodPost,
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/loop", http.StatusTemporaryRedirect)
			},
			wantStatus: 307, wantAttempts: 1, wantServer: 1,
		},
		{
			name: "wrong content type still returned", method: http.MethodGet,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.Write([]byte("<html>oops</html>"))
			},
			wantStatus: 200, wantAttempts: 1, wantServer: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			flaky.Store(0)
			srv := &counting{h: tc.handler}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			c := newClient(t, ts.URL, func(o *Options) {
				if tc.timeout > 0 {
					o.Timeout = tc.timeout
				}
			})
			var body []byte
			if tc.method == http.MethodPost {
				body = []byte(`{"resourceType":"Encounter"}`)
			}
			start := time.Now()
			resp, ex, err := c.Do(context.Background(), Request{Method: tc.method, Path: "Patient", Body: body})
			assert.Less(t, time.Since(start), 2*time.Second)
			require.NotNil(t, ex)
			assert.Len(t, ex.Attempts, tc.wantAttempts)
			if tc.wantKind != "" {
				var terr *TransportError
				require.ErrorAs(t, err, &terr)
				assert.Equal(t, tc.wantKind, terr.Kind, "error: %v", err)
				assert.Equal(t, tc.wantKind, ex.ErrorKind)
				assert.Nil(t, resp)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.wantStatus, resp.Status)
				assert.Equal(t, tc.wantStatus, ex.Status)
			}
			if tc.method == http.MethodPost {
				assert.Equal(t, tc.wantServer, srv.posts.Load(), "POST count on the server")
			} else {
				assert.Equal(t, tc.wantServer, srv.gets.Load(), "request count on the server")
			}
		})
	}
}

func TestPostRetriedWhenNeverConnected(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	c := newClient(t, "http://"+addr, nil)
	_, ex, err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "Encounter", Body: []byte(`{}`)})
	var terr *TransportError
	require.ErrorAs(t, err, &terr)
	assert.Equal(t, KindUnreachable, terr.Kind)
	assert.Len(t, ex.Attempts, DefaultMaxAttempts)
	for _, a := range ex.Attempts {
		assert.False(t, a.Connected)
	}
}

func TestHeadersAndRedaction(t *testing.T) {
	var got http.Header
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.Header().Set("Content-Type", FHIRJSON)
		w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"diagnostics":"token tok-SECRET-1 rejected"}]}`))
	}))
	defer ts.Close()
	red := redact.New("tok-SECRET-1")
	c := newClient(t, ts.URL+"/fhir", func(o *Options) {
		o.Redactor = red
		o.Header = http.Header{"X-Request-Id": {"r-1"}}
		o.Auth = authorizerFunc(func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer tok-SECRET-1")
			return nil
		})
	})
	resp, ex, err := c.Do(context.Background(), Request{Method: "put", Path: "/Patient/1", Body: []byte(`{"resourceType":"Patient"}`), Header: http.Header{"If-Match": {`W/"1"`}}})
	require.NoError(t, err)
	assert.Equal(t, FHIRJSON, got.Get("Accept"))
	assert.Equal(t, FHIRJSON, got.Get("Content-Type"))
	assert.Equal(t, "r-1", got.Get("X-Request-Id"))
	assert.Equal(t, `W/"1"`, got.Get("If-Match"))
	assert.Equal(t, "Bearer tok-SECRET-1", got.Get("Authorization"))
	assert.Equal(t, ts.URL+"/fhir/Patient/1", ex.URL)
	assert.Equal(t, http.MethodPut, ex.Method)
	assert.Equal(t, []string{redact.Mask}, ex.RequestHeaders["Authorization"])
	assert.NotContains(t, ex.ResponseBody, "tok-SECRET-1")
	assert.Contains(t, string(resp.Body), "tok-SECRET-1", "assertions see the real body")
}

type authorizerFunc func(context.Context, *http.Request) error

func (f authorizerFunc) Authorize(ctx context.Context, r *http.Request) error { return f(ctx, r) }

func TestResolve(t *testing.T) {
	c := newClient(t, "https://example.org/fhir", nil)
	tests := []struct {
		name, path, want string
	}{
		{name: "relative", path: "Patient/1", want: "https://example.org/fhir/Patient/1"},
		{name: "leading slash", path: "/Patient?identifier=a|b", want: "https://example.org/fhir/Patient?identifier=a|b"},
		{name: "operation", path: "$process-message", want: "https://example.org/fhir/$process-message"},
		{name: "base itself", path: "", want: "https://example.org/fhir/"},
		{name: "space in query", path: "Patient?name=Jo Smith", want: "https://example.org/fhir/Patient?name=Jo%20Smith"},
		{name: "absolute", path: "http://other.example/x", want: "http://other.example/x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Resolve(tc.path)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestNewRejectsBadBaseURL(t *testing.T) {
	for _, base := range []string{"", "example.org", "ftp://x/y", "http://"} {
		_, err := New(Options{BaseURL: base})
		assert.Error(t, err, base)
	}
}

func FuzzRetryAfter(f *testing.F) {
	f.Add("120")
	f.Add("Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add("-1")
	f.Add("Fri, 01 Jan 2100 00:00:00 GMT")
	f.Add("99999999999999999999")
	f.Fuzz(func(t *testing.T, v string) {
		resp := &http.Response{Header: http.Header{"Retry-After": {v}}}
		if d, ok := retryAfter(resp); ok && (d < 0 || d > 24*time.Hour) {
			t.Fatalf("Retry-After %q gave %s", v, d)
		}
	})
}

type rotatingAuth struct {
	n         atomic.Int32
	refreshes atomic.Int32
}

func (a *rotatingAuth) Authorize(_ context.Context, r *http.Request) error {
	r.Header.Set("Authorization", fmt.Sprintf("Bearer t%d", a.n.Load()))
	return nil
}

func (a *rotatingAuth) Refresh() { a.refreshes.Add(1); a.n.Add(1) }

func TestUnauthorizedRefreshesCredentialsOnceForIdempotentRequests(t *testing.T) {
	srv := &counting{h: func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{}`))
	}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	a := &rotatingAuth{}
	c := newClient(t, ts.URL, func(o *Options) { o.Auth = a })
	resp, ex, err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "Patient"})
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status)
	require.Len(t, ex.Attempts, 2)
	assert.Equal(t, 2, ex.Attempts[1].Number)
	assert.Contains(t, ex.Attempts[0].Decision, "credentials refreshed")

	a.n.Store(5)
	resp, ex, err = c.Do(context.Background(), Request{Method: http.MethodPost, Path: "Patient", Body: []byte(`{}`)})
	require.NoError(t, err)
	assert.Equal(t, 401, resp.Status, "a POST is never sent twice")
	assert.Len(t, ex.Attempts, 1)
	assert.Equal(t, int32(1), srv.posts.Load())

	resp, _, err = c.Do(context.Background(), Request{Method: http.MethodGet, Path: "Patient"})
	require.NoError(t, err)
	assert.Equal(t, 401, resp.Status, "refreshed only once per request")
	assert.Equal(t, int32(2), a.refreshes.Load())
}

func TestTransportErrorHidesURLPassword(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c := newClient(t, "http://user:pw-SECRET-9@"+addr+"/fhir", func(o *Options) { o.MaxAttempts = 1 })
	_, ex, err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "metadata"})
	var terr *TransportError
	require.ErrorAs(t, err, &terr)
	assert.NotContains(t, err.Error(), "pw-SECRET-9")
	assert.NotContains(t, ex.URL, "pw-SECRET-9")
}

func TestChunkedBodyOverASmallLimit(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("a", 100)))
		w.(http.Flusher).Flush()
		w.Write([]byte(strings.Repeat("b", 100)))
	}))
	defer ts.Close()
	c := newClient(t, ts.URL, func(o *Options) { o.MaxBodyBytes = 150 })
	_, ex, err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "metadata"})
	var terr *TransportError
	require.ErrorAs(t, err, &terr)
	assert.Equal(t, KindTooLarge, terr.Kind)
	assert.Equal(t, strings.Repeat("a", 100)+strings.Repeat("b", 51), ex.ResponseBody)
}
