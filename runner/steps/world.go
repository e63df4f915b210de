// Package steps owns conform's step library: the readable Gherkin phrasings
// for FHIR interactions, their documentation (the source of `conform steps`
// and docs/STEPS.md) and the per-scenario state they share.
package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/runner/fhirclient"
	"github.com/nhsconform/conform/runner/receiver"
	"github.com/nhsconform/conform/runner/redact"
)

// maxFixtureBytes bounds a request body file.
const maxFixtureBytes = 10 << 20

// FHIRPath evaluates a FHIRPath expression on a decoded resource (the shapes
// encoding/json produces with UseNumber); env holds %NAME variables.
type FHIRPath interface {
	Evaluate(ctx context.Context, resource any, expression string, env map[string]any) ([]any, error)
}

// Env is what every scenario of a run shares.
type Env struct {
	Client    *fhirclient.Client
	Validator conformance.Validator
	FHIRPath  FHIRPath
	// Receiver is nil unless the run listens for pushed messages.
	Receiver *receiver.Receiver
	// Features holds the feature files and their fixtures.
	Features fs.FS
	// RunID is the value of {{run}}, unique per run.
	RunID    string
	Redactor *redact.Redactor
}

// ExecError marks a step that could not be executed, so no verdict was
// drawn (a missing fixture, a value never stored, an unreachable target, no
// validator configured). Any other step error is a failed check.
type ExecError struct{ Err error }

// Error implements error.
func (e *ExecError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *ExecError) Unwrap() error { return e.Err }

func execErr(format string, args ...any) error {
	return &ExecError{Err: fmt.Errorf(format, args...)}
}

// Received is the redacted record of a message delivered to the receiver.
type Received struct {
	Method   string      `json:"method"`
	Path     string      `json:"path"`
	Headers  http.Header `json:"headers,omitempty"`
	Body     string      `json:"body,omitempty"`
	Received time.Time   `json:"received"`
}

// Evidence is what one step produced: exchanges, validation outcomes and
// received messages.
type Evidence struct {
	Exchanges []fhirclient.Exchange
	Outcomes  []conformance.Outcome
	Received  []Received
}

// World is the state of one scenario: stored values, headers set by steps,
// the current subject (last response or received message) and the evidence
// of the step running now. One World per scenario; never shared.
type World struct {
	env        *Env
	featureDir string
	vars       map[string]string
	header     http.Header

	sentHeader http.Header
	subject    *subject
	evidence   Evidence
}

// subject is what assertions look at: the last response or received message.
type subject struct {
	describe    string
	status      int
	header      http.Header
	body        []byte
	duration    time.Duration
	decoded     any
	decodeErr   error
	decodedOnce bool
}

// NewWorld returns the state for one scenario of the feature file at
// featureURI (a path inside Env.Features, possibly ending in ":LINE").
func (e *Env) NewWorld(featureURI string) *World {
	return &World{env: e, featureDir: featureDir(featureURI), vars: map[string]string{}, header: http.Header{}}
}

// SetFeature names the feature file of the scenario about to run, against
// which fixture paths are resolved.
func (w *World) SetFeature(featureURI string) {
	w.featureDir = featureDir(featureURI)
}

// featureDir returns the folder of the feature file at featureURI.
func featureDir(featureURI string) string {
	file, _ := SplitFeatureLine(featureURI)
	return path.Dir(file)
}

// SplitFeatureLine splits a feature URI "path:LINE" into the path and LINE;
// line is empty when the URI does not end in a colon and digits.
func SplitFeatureLine(uri string) (file, line string) {
	if i := strings.LastIndexByte(uri, ':'); i > 0 && isDigits(uri[i+1:]) {
		return uri[:i], uri[i+1:]
	}
	return uri, ""
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// TakeEvidence returns the evidence gathered since the last call and resets it.
func (w *World) TakeEvidence() Evidence {
	ev := w.evidence
	w.evidence = Evidence{}
	return ev
}

// Values returns a copy of the stored values.
func (w *World) Values() map[string]string {
	out := make(map[string]string, len(w.vars))
	for k, v := range w.vars {
		out[k] = v
	}
	return out
}

// Register binds every step of the catalogue to this World.
func (w *World) Register(sc *godog.ScenarioContext) {
	for i, d := range catalogue {
		sc.Step(compiledPatterns[i], d.bind(w))
	}
}

func (w *World) lookup(name string) (string, bool) {
	if v, ok := w.vars[name]; ok {
		return v, true
	}
	switch name {
	case BuiltinRun:
		return w.env.RunID, true
	case BuiltinUUID:
		return newUUID(), true
	case BuiltinNHSNumber:
		return NewNHSNumber(), true
	case BuiltinNow:
		return nowInstant(), true
	case BuiltinTarget:
		if w.env.Client != nil {
			return strings.TrimSuffix(w.env.Client.BaseURL(), "/"), true
		}
	case BuiltinReceiver:
		if w.env.Receiver != nil {
			return w.env.Receiver.URL(), true
		}
	}
	return "", false
}

// expand fills {{NAME}} values; a value never stored cannot be executed.
func (w *World) expand(s string) (string, error) {
	out, err := expand(s, w.lookup, func() []string { return slices.Sorted(maps.Keys(w.vars)) })
	var uv *UndefinedValueError
	switch {
	case errors.As(err, &uv) && uv.Name == BuiltinReceiver:
		return "", execErr("{{receiver}} needs a receiving endpoint: run with --listen ADDR")
	case err != nil:
		return "", &ExecError{Err: err}
	}
	return out, nil
}

// fixture reads a file named relative to the feature file and expands it.
func (w *World) fixture(name string) ([]byte, error) {
	name, err := w.expand(name)
	if err != nil {
		return nil, err
	}
	if w.env.Features == nil {
		return nil, execErr("read fixture %q: no feature folder configured", name)
	}
	p := path.Clean(path.Join(w.featureDir, name))
	if path.IsAbs(name) || !fs.ValidPath(p) {
		return nil, execErr("read fixture %q: the path must stay inside the feature folder", name)
	}
	f, err := w.env.Features.Open(p)
	if err != nil {
		return nil, execErr("read fixture %q (looked for %s): %w", name, p, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFixtureBytes+1))
	if err != nil {
		return nil, execErr("read fixture %s: %w", p, err)
	}
	if len(data) > maxFixtureBytes {
		return nil, execErr("read fixture %s: larger than %d bytes", p, maxFixtureBytes)
	}
	out, err := w.expand(string(data))
	if err != nil {
		return nil, fmt.Errorf("fill fixture %s: %w", p, err)
	}
	return []byte(out), nil
}

// send performs a request and makes its response the subject.
func (w *World) send(ctx context.Context, method, target string, header http.Header, body []byte) error {
	if w.env.Client == nil {
		return execErr("send %s %s: no target configured", method, target)
	}
	target, err := w.expand(target)
	if err != nil {
		return err
	}
	h := w.header.Clone()
	for k, v := range header {
		h[k] = v
	}
	for k, vs := range h {
		for i, v := range vs {
			if vs[i], err = w.expand(v); err != nil {
				return fmt.Errorf("fill header %s: %w", k, err)
			}
			if strings.ContainsAny(vs[i], "\r\n\x00") {
				return execErr("header %s: the value contains a line break or NUL", k)
			}
		}
	}
	resp, ex, err := w.env.Client.Do(ctx, fhirclient.Request{Method: method, Path: target, Header: h, Body: body})
	if ex != nil {
		w.evidence.Exchanges = append(w.evidence.Exchanges, *ex)
	}
	w.sentHeader = h
	w.subject = nil
	if err != nil {
		var terr *fhirclient.TransportError
		if errors.As(err, &terr) {
			switch terr.Kind {
			case fhirclient.KindUnreachable, fhirclient.KindAuth, fhirclient.KindTLS, fhirclient.KindCanceled:
				return &ExecError{Err: err}
			}
			return err
		}
		return &ExecError{Err: err}
	}
	w.subject = &subject{
		describe: fmt.Sprintf("response to %s %s", method, resp.URL),
		status:   resp.Status,
		header:   resp.Header,
		body:     resp.Body,
		duration: resp.Duration,
	}
	return nil
}

func (w *World) current() (*subject, error) {
	if w.subject == nil {
		return nil, execErr("no response yet: send a request first")
	}
	return w.subject, nil
}

// resource returns the subject decoded as JSON; a body that is not JSON is a failure.
func (w *World) resource() (map[string]any, *subject, error) {
	s, err := w.current()
	if err != nil {
		return nil, nil, err
	}
	if !s.decodedOnce {
		s.decodedOnce = true
		s.decoded, s.decodeErr = decodeJSON(s.body)
	}
	if s.decodeErr != nil {
		return nil, s, fmt.Errorf("%s is not JSON (Content-Type %q, %d bytes): %w", s.describe, s.header.Get("Content-Type"), len(s.body), s.decodeErr)
	}
	obj, ok := s.decoded.(map[string]any)
	if !ok {
		return nil, s, fmt.Errorf("%s is JSON but not a resource object", s.describe)
	}
	return obj, s, nil
}

func decodeJSON(data []byte) (any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the body is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

func (w *World) evaluate(ctx context.Context, expr string) ([]any, error) {
	if w.env.FHIRPath == nil {
		return nil, execErr("evaluate FHIRPath %q: no FHIRPath engine configured", expr)
	}
	res, _, err := w.resource()
	if err != nil {
		return nil, err
	}
	out, err := w.env.FHIRPath.Evaluate(ctx, res, expr, w.fhirpathEnv())
	if err != nil {
		return nil, &ExecError{Err: fmt.Errorf("evaluate FHIRPath %q: %w", expr, err)}
	}
	return out, nil
}

// compiledPatterns holds the catalogue's patterns, compiled once per process.
var compiledPatterns = func() []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(catalogue))
	for i, d := range catalogue {
		out[i] = regexp.MustCompile(d.Pattern)
	}
	return out
}()

var headerNameRe = regexp.MustCompile(`^[!#$%&'*+\-.^_|~0-9A-Za-z]+$`)

func checkHeaderName(name string) error {
	if !headerNameRe.MatchString(name) {
		return execErr("%q is not a valid HTTP header name", name)
	}
	return nil
}

func (w *World) receive(ctx context.Context, seconds int, match func(receiver.Message) bool, what string) error {
	if w.env.Receiver == nil {
		return execErr("wait for a message: no receiving endpoint (run with --listen ADDR)")
	}
	if seconds <= 0 || seconds > 3600 {
		return execErr("wait for a message: %d seconds is outside 1..3600", seconds)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Duration(seconds)*time.Second)
	defer cancel()
	m, err := w.env.Receiver.Wait(wctx, match)
	if err != nil {
		if ctx.Err() != nil {
			return &ExecError{Err: err}
		}
		return fmt.Errorf("no message %sarrived within %d seconds (%d received in all)", what, seconds, w.env.Receiver.Received())
	}
	red := w.env.Redactor
	w.evidence.Received = append(w.evidence.Received, Received{
		Method: m.Method, Path: m.Path, Headers: red.Header(m.Header), Body: red.String(string(m.Body)), Received: m.Received,
	})
	w.subject = &subject{describe: fmt.Sprintf("message received at %s", m.Path), status: 0, header: m.Header, body: m.Body}
	return nil
}
