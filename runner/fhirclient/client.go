// Package fhirclient owns conform's HTTP conversation with a FHIR server:
// per-attempt timeouts, safe retries with backoff and jitter, bounded response
// bodies, authentication and the redacted record of every exchange.
package fhirclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/nhsconform/conform/runner/redact"
)

// FHIRJSON is the FHIR JSON media type sent in Accept and Content-Type.
const FHIRJSON = "application/fhir+json"

// Defaults used when Options leaves a field zero.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxAttempts  = 3
	DefaultRetryWaitMin = 200 * time.Millisecond
	DefaultRetryWaitMax = 5 * time.Second
	DefaultMaxBodyBytes = 5 << 20
	maxRedirects        = 10
	recordedPrefixBytes = 4096
)

// Authorizer adds credentials to an outgoing request.
type Authorizer interface {
	Authorize(ctx context.Context, req *http.Request) error
}

// Refresher is an Authorizer whose cached credentials can be dropped after
// the server refused them with 401; an idempotent request is then sent once
// more with fresh credentials.
type Refresher interface {
	Authorizer
	Refresh()
}

// Options configures a Client.
type Options struct {
	// BaseURL is the FHIR base every relative path is resolved against.
	BaseURL string
	// Timeout bounds one attempt: connect, send, and read the whole response.
	Timeout time.Duration
	// MaxAttempts bounds the attempts per request, the first included.
	MaxAttempts int
	// RetryWaitMin and RetryWaitMax bound the backoff between attempts; a
	// Retry-After longer than RetryWaitMax stops the retries.
	RetryWaitMin, RetryWaitMax time.Duration
	// MaxBodyBytes bounds a response body; a longer one is an error.
	MaxBodyBytes int64
	// Header is added to every request (after the FHIR defaults).
	Header http.Header
	// Auth, when set, authorizes every request.
	Auth Authorizer
	// TLS configures client certificates and trusted CAs.
	TLS *tls.Config
	// Redactor masks secrets in every recorded exchange and transport error;
	// one is made when nil, so a password in BaseURL is always masked.
	Redactor *redact.Redactor
	// Transport replaces the default transport (TLS is then ignored).
	Transport http.RoundTripper
}

// Client sends FHIR requests and records each exchange. Safe for concurrent use.
type Client struct {
	base *url.URL
	opts Options
	http *http.Client
}

// New returns a Client for opts.BaseURL.
func New(opts Options) (*Client, error) {
	base, err := url.Parse(opts.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("parse base URL %q: must be an absolute http or https URL", opts.BaseURL)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	if opts.Redactor == nil {
		opts.Redactor = redact.New()
	}
	if pass, ok := base.User.Password(); ok {
		opts.Redactor.Add(pass)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.RetryWaitMin <= 0 {
		opts.RetryWaitMin = DefaultRetryWaitMin
	}
	if opts.RetryWaitMax < opts.RetryWaitMin {
		opts.RetryWaitMax = max(DefaultRetryWaitMax, opts.RetryWaitMin)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	transport := opts.Transport
	if transport == nil {
		transport = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:       opts.TLS,
			TLSHandshakeTimeout:   10 * time.Second,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          256,
			MaxIdleConnsPerHost:   64,
			IdleConnTimeout:       90 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	c := &Client{base: base, opts: opts}
	c.http = &http.Client{Transport: transport, Timeout: opts.Timeout, CheckRedirect: checkRedirect}
	return c, nil
}

// BaseURL returns the FHIR base URL, ending in a slash.
func (c *Client) BaseURL() string { return c.base.String() }

// Request is one FHIR interaction to send.
type Request struct {
	Method string
	// Path is relative to the base URL ("Patient/1", "Encounter?identifier=x");
	// an absolute http(s) URL is used as it is.
	Path   string
	Header http.Header
	Body   []byte
}

// Response is the final answer to a Request, body unredacted for assertions.
type Response struct {
	Status   int
	Header   http.Header
	Body     []byte
	URL      string
	Duration time.Duration
}

// Exchange is the redacted record of one request and its final response.
type Exchange struct {
	Method          string        `json:"method"`
	URL             string        `json:"url"`
	RequestHeaders  http.Header   `json:"requestHeaders,omitempty"`
	RequestBody     string        `json:"requestBody,omitempty"`
	Status          int           `json:"status,omitempty"`
	ResponseHeaders http.Header   `json:"responseHeaders,omitempty"`
	ResponseBody    string        `json:"responseBody,omitempty"`
	Started         time.Time     `json:"started"`
	Duration        time.Duration `json:"durationNs"`
	Attempts        []Attempt     `json:"attempts"`
	Redirects       []string      `json:"redirects,omitempty"`
	Error           string        `json:"error,omitempty"`
	ErrorKind       ErrorKind     `json:"errorKind,omitempty"`
}

// Attempt is one try at sending a request.
type Attempt struct {
	Number   int           `json:"number"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"durationNs"`
	Status   int           `json:"status,omitempty"`
	Error    string        `json:"error,omitempty"`
	// Connected tells whether a connection to the server was obtained, i.e.
	// whether the request may have reached it.
	Connected bool `json:"connected"`
	// RetryAfter is the wait before the next attempt, when one followed.
	RetryAfter time.Duration `json:"retryAfterNs,omitempty"`
	// Decision says why the client did or did not try again.
	Decision string `json:"decision,omitempty"`
}

// ErrorKind classifies a TransportError.
type ErrorKind string

// Kinds of transport failure.
const (
	KindUnreachable ErrorKind = "unreachable"
	KindTimeout     ErrorKind = "timeout"
	KindConnection  ErrorKind = "connection"
	KindTooLarge    ErrorKind = "body-too-large"
	KindRedirects   ErrorKind = "redirect-loop"
	KindTLS         ErrorKind = "tls"
	KindAuth        ErrorKind = "auth"
	KindCanceled    ErrorKind = "canceled"
)

// TransportError means no usable response was obtained; URL and Err are
// redacted.
type TransportError struct {
	Method, URL string
	Kind        ErrorKind
	Err         error
}

// Error implements error.
func (e *TransportError) Error() string {
	return fmt.Sprintf("%s %s: %s: %v", e.Method, e.URL, e.Kind, e.Err)
}

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }

// Resolve returns the absolute URL for a path relative to the base URL.
func (c *Client) Resolve(path string) (string, error) {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		u, err := url.Parse(strings.ReplaceAll(path, " ", "%20"))
		if err != nil {
			return "", fmt.Errorf("parse URL %q: %w", path, err)
		}
		return u.String(), nil
	}
	ref, err := url.Parse(strings.ReplaceAll(strings.TrimPrefix(path, "/"), " ", "%20"))
	if err != nil {
		return "", fmt.Errorf("parse path %q: %w", path, err)
	}
	if strings.HasPrefix(ref.Path, "$") {
		ref = &url.URL{Path: "./" + ref.Path, RawQuery: ref.RawQuery}
	}
	return c.base.ResolveReference(ref).String(), nil
}

// Idempotent reports whether a method may be repeated without extra effect.
func Idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	return false
}

// Do sends req and returns the final response and the redacted exchange. The
// exchange is returned even when err is non-nil; err is a *TransportError
// when no usable response was obtained, or another error when the request
// could not be built.
func (c *Client) Do(ctx context.Context, req Request) (*Response, *Exchange, error) {
	method := strings.ToUpper(req.Method)
	target, err := c.Resolve(req.Path)
	if err != nil {
		return nil, nil, err
	}
	rec := &recorder{client: c, idempotent: Idempotent(method)}
	ctx = context.WithValue(ctx, recorderKey{}, rec)
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { rec.connected() }})
	var body any
	if req.Body != nil {
		body = req.Body
	}
	rr, err := retryablehttp.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, nil, fmt.Errorf("build %s %s: %w", method, target, err)
	}
	rr.Header.Set("Accept", FHIRJSON)
	if req.Body != nil {
		rr.Header.Set("Content-Type", FHIRJSON)
	}
	for name, values := range c.opts.Header {
		rr.Header[http.CanonicalHeaderKey(name)] = append([]string(nil), values...)
	}
	for name, values := range req.Header {
		rr.Header[http.CanonicalHeaderKey(name)] = append([]string(nil), values...)
	}
	red := c.opts.Redactor
	ex := &Exchange{Method: method, URL: red.String(target), Started: time.Now()}
	finish := func(resp *Response, kind ErrorKind, cause error) (*Response, *Exchange, error) {
		ex.Duration = time.Since(ex.Started)
		ex.RequestHeaders = red.Header(rr.Header)
		if req.Body != nil {
			ex.RequestBody = red.String(string(req.Body))
		}
		ex.Attempts = rec.snapshot()
		for _, hop := range rec.redirectList() {
			ex.Redirects = append(ex.Redirects, red.String(hop))
		}
		if cause == nil {
			return resp, ex, nil
		}
		var ue *url.Error
		if errors.As(cause, &ue) && cause == error(ue) {
			cause = ue.Err
		}
		terr := &TransportError{Method: method, URL: red.String(target), Kind: kind, Err: errors.New(red.String(cause.Error()))}
		ex.Error = terr.Err.Error()
		ex.ErrorKind = kind
		return resp, ex, terr
	}
	if c.opts.Auth != nil {
		if err := c.opts.Auth.Authorize(ctx, rr.Request); err != nil {
			return finish(nil, KindAuth, fmt.Errorf("authorize request: %w", err))
		}
	}
	rc := &retryablehttp.Client{
		HTTPClient:     c.http,
		RetryWaitMin:   c.opts.RetryWaitMin,
		RetryWaitMax:   c.opts.RetryWaitMax,
		RetryMax:       c.opts.MaxAttempts - 1,
		CheckRetry:     rec.checkRetry,
		Backoff:        rec.backoff,
		RequestLogHook: rec.begin,
		ErrorHandler:   retryablehttp.PassthroughErrorHandler,
	}
	hr, err := rc.Do(rr)
	if refresher, ok := c.opts.Auth.(Refresher); ok && err == nil && hr.StatusCode == http.StatusUnauthorized && rec.idempotent {
		io.Copy(io.Discard, io.LimitReader(hr.Body, 64<<10))
		hr.Body.Close()
		rec.note("401: credentials refreshed and the request sent again")
		refresher.Refresh()
		if err := c.opts.Auth.Authorize(ctx, rr.Request); err != nil {
			return finish(nil, KindAuth, fmt.Errorf("authorize request: %w", err))
		}
		hr, err = rc.Do(rr)
	}
	if err != nil {
		if hr != nil {
			hr.Body.Close()
		}
		return finish(nil, classify(err, ctx), err)
	}
	defer hr.Body.Close()
	resp := &Response{Status: hr.StatusCode, Header: hr.Header, URL: hr.Request.URL.String()}
	ex.URL = red.String(resp.URL)
	ex.Status = hr.StatusCode
	ex.ResponseHeaders = red.Header(hr.Header)
	if hr.ContentLength > c.opts.MaxBodyBytes {
		rec.endBody(nil)
		return finish(nil, KindTooLarge, fmt.Errorf("response body of %d bytes exceeds the limit of %d bytes", hr.ContentLength, c.opts.MaxBodyBytes))
	}
	data, readErr := io.ReadAll(io.LimitReader(hr.Body, c.opts.MaxBodyBytes+1))
	rec.endBody(readErr)
	resp.Duration = time.Since(ex.Started)
	if int64(len(data)) > c.opts.MaxBodyBytes {
		ex.ResponseBody = red.String(string(data[:min(len(data), recordedPrefixBytes)]))
		return finish(nil, KindTooLarge, fmt.Errorf("response body exceeds the limit of %d bytes", c.opts.MaxBodyBytes))
	}
	ex.ResponseBody = red.String(string(data))
	if readErr != nil {
		return finish(nil, classify(readErr, ctx), fmt.Errorf("read response body: %w", readErr))
	}
	resp.Body = data
	return finish(resp, "", nil)
}

func classify(err error, ctx context.Context) ErrorKind {
	var netErr net.Error
	var opErr *net.OpError
	var tlsErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	switch {
	case errors.Is(err, errTooManyRedirects):
		return KindRedirects
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return KindCanceled
	case errors.As(err, &tlsErr), errors.As(err, &recErr), strings.Contains(err.Error(), "tls: "):
		return KindTLS
	case errors.As(err, &netErr) && netErr.Timeout():
		return KindTimeout
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return KindUnreachable
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return KindUnreachable
	}
	return KindConnection
}

var errTooManyRedirects = fmt.Errorf("stopped after %d redirects", maxRedirects)

func checkRedirect(req *http.Request, via []*http.Request) error {
	if !Idempotent(via[0].Method) || via[0].Method != http.MethodGet && via[0].Method != http.MethodHead {
		return http.ErrUseLastResponse
	}
	if rec, ok := req.Context().Value(recorderKey{}).(*recorder); ok && req.Response != nil {
		rec.redirected(fmt.Sprintf("%d %s -> %s", req.Response.StatusCode, via[len(via)-1].URL, req.URL))
	}
	if len(via) >= maxRedirects {
		return errTooManyRedirects
	}
	return nil
}

type recorderKey struct{}

type recorder struct {
	client     *Client
	idempotent bool

	mu        sync.Mutex
	round     int
	attempts  []Attempt
	redirects []string
}

func (r *recorder) begin(_ retryablehttp.Logger, _ *http.Request, n int) {
	r.mu.Lock()
	r.round = n + 1
	r.attempts = append(r.attempts, Attempt{Number: len(r.attempts) + 1, Started: time.Now()})
	r.mu.Unlock()
}

// note sets the decision of the latest attempt.
func (r *recorder) note(decision string) {
	r.mu.Lock()
	r.current().Decision = decision
	r.mu.Unlock()
}

func (r *recorder) connected() {
	r.mu.Lock()
	if n := len(r.attempts); n > 0 {
		r.attempts[n-1].Connected = true
	}
	r.mu.Unlock()
}

func (r *recorder) redirected(hop string) {
	r.mu.Lock()
	r.redirects = append(r.redirects, hop)
	r.mu.Unlock()
}

func (r *recorder) current() *Attempt {
	if n := len(r.attempts); n > 0 {
		return &r.attempts[n-1]
	}
	r.attempts = append(r.attempts, Attempt{Number: 1, Started: time.Now()})
	return &r.attempts[0]
}

// checkRetry retries idempotent requests on connection failures (not
// timeouts), 429 and 503; any other request only when its connection was
// never established, so the server cannot have seen it.
func (r *recorder) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.current()
	a.Duration = time.Since(a.Started)
	if resp != nil {
		a.Status = resp.StatusCode
	}
	if err != nil {
		a.Error = r.client.opts.Redactor.String(err.Error())
	}
	if ctx.Err() != nil {
		a.Decision = "not retried: canceled"
		return false, ctx.Err()
	}
	last := r.round >= r.client.opts.MaxAttempts
	retry, why := r.decide(ctx, resp, err, a)
	switch {
	case retry && last:
		a.Decision = "not retried: attempts exhausted (" + why + ")"
		return false, nil
	case retry:
		a.Decision = "retried: " + why
	default:
		a.Decision = why
	}
	return retry, nil
}

func (r *recorder) decide(ctx context.Context, resp *http.Response, err error, a *Attempt) (bool, string) {
	if err != nil {
		kind := classify(err, ctx)
		switch {
		case kind == KindTimeout || kind == KindTLS || kind == KindRedirects || kind == KindCanceled:
			return false, "not retried: " + string(kind)
		case !a.Connected:
			return true, "connection never established"
		case !r.idempotent:
			return false, "not retried: the request may have reached the server and is not idempotent"
		default:
			return true, "connection failed"
		}
	}
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return false, ""
	}
	if !r.idempotent {
		return false, fmt.Sprintf("not retried: %d to a request that is not idempotent", resp.StatusCode)
	}
	if wait, ok := retryAfter(resp); ok && wait > r.client.opts.RetryWaitMax {
		return false, fmt.Sprintf("not retried: Retry-After %s exceeds the %s limit", wait, r.client.opts.RetryWaitMax)
	}
	return true, strconv.Itoa(resp.StatusCode)
}

func (r *recorder) backoff(lo, hi time.Duration, n int, resp *http.Response) time.Duration {
	wait, ok := retryAfter(resp)
	if !ok {
		ceiling := lo << min(n, 20)
		if ceiling > hi || ceiling <= 0 {
			ceiling = hi
		}
		wait = lo + rand.N(ceiling-lo+1)
	}
	r.mu.Lock()
	r.current().RetryAfter = wait
	r.mu.Unlock()
	return wait
}

func (r *recorder) endBody(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.current()
	a.Duration = time.Since(a.Started)
	if err != nil {
		a.Error = r.client.opts.Redactor.String(err.Error())
	}
}

func (r *recorder) snapshot() []Attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Attempt(nil), r.attempts...)
}

func (r *recorder) redirectList() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.redirects...)
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
		if secs > 86400 {
			secs = 86400
		}
		return time.Duration(secs) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return min(max(time.Until(at), 0), 24*time.Hour), true
	}
	return 0, false
}
