// Package runner owns the execution of Gherkin workflow features against a
// FHIR endpoint: it runs them with godog, one World per scenario, sends the
// requests through fhirclient, and keeps everything that happened as a
// plain-data Record for reports and evidence.
package runner

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cucumber/godog"
	messages "github.com/cucumber/messages/go/v21"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/runner/fhirclient"
	"github.com/nhsconform/conform/runner/receiver"
	"github.com/nhsconform/conform/runner/redact"
	"github.com/nhsconform/conform/runner/steps"
)

// Config is everything a run needs.
type Config struct {
	// Target is the FHIR base URL of the system under test.
	Target string
	// Features holds feature files and fixtures; Paths name files or folders
	// in it ("features", "admission/adm-01.feature", "x.feature:12").
	Features fs.FS
	Paths    []string
	// Tags filters scenarios with godog's syntax: "@MUST && ~@wip", "@a,@b".
	Tags        string
	Concurrency int
	// Timeout bounds one request attempt (default 30 s).
	Timeout time.Duration
	// MaxAttempts bounds the attempts per request (default 3).
	MaxAttempts int
	// MaxBodyBytes bounds a response body (default 5 MiB).
	MaxBodyBytes int64
	// Header is added to every request.
	Header    http.Header
	Auth      fhirclient.Authorizer
	TLS       *tls.Config
	Validator conformance.Validator
	FHIRPath  steps.FHIRPath
	// Listen, when set, starts a receiving endpoint for pushed messages.
	Listen string
	// Receiver is an already started receiving endpoint to use instead of
	// Listen (so its URL can be handed to a server before the run); Run does
	// not close it.
	Receiver *receiver.Receiver
	// ReceiverURL is the receiving endpoint's base URL as the system under
	// test reaches it ({{receiver}}); default http://LISTEN-ADDRESS.
	ReceiverURL string
	// Redactor masks secrets in the record; one is made when nil.
	Redactor *redact.Redactor
	// Transport replaces the HTTP transport (tests and in-process servers).
	Transport http.RoundTripper
	// OnScenario, when set, is called with each scenario as soon as it
	// finishes, one call at a time, in completion order (progress output).
	OnScenario func(Scenario)
	// GodogFormat optionally adds a godog formatter ("cucumber", "junit")
	// writing to GodogOutput; exchanges are attached to its steps.
	GodogFormat string
	GodogOutput io.Writer
}

// ClientOptions returns the FHIR client settings of the run: target,
// timeouts, attempts, body limit, headers, auth, TLS, redactor and transport.
func (cfg Config) ClientOptions() fhirclient.Options {
	return fhirclient.Options{
		BaseURL: cfg.Target, Timeout: cfg.Timeout, MaxAttempts: cfg.MaxAttempts, MaxBodyBytes: cfg.MaxBodyBytes,
		Header: cfg.Header, Auth: cfg.Auth, TLS: cfg.TLS, Redactor: cfg.Redactor, Transport: cfg.Transport,
	}
}

// ConfigError is a configuration that cannot run: exit code 2.
type ConfigError struct{ Err error }

// Error implements error.
func (e *ConfigError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *ConfigError) Unwrap() error { return e.Err }

// FeatureError is a feature file that cannot be read or parsed: exit code 2.
type FeatureError struct{ Err error }

// Error implements error.
func (e *FeatureError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *FeatureError) Unwrap() error { return e.Err }

// ErrNoScenarios means the paths and tags selected no scenario.
var ErrNoScenarios = errors.New("no scenario selected")

var tagTerm = regexp.MustCompile(`^~?@?[^\s,&~@]+$`)

// normalizeTags trims a tag expression and checks every term is a tag, so
// that godog's filter (which panics on empty terms) only sees valid input.
func normalizeTags(expr string) (string, error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return "", nil
	}
	for _, and := range strings.Split(expr, "&&") {
		for _, term := range strings.Split(and, ",") {
			if !tagTerm.MatchString(strings.TrimSpace(term)) {
				return "", fmt.Errorf("tag expression %q: %q is not a tag (write @a && ~@b for and/not, @a,@b for or)", expr, strings.TrimSpace(term))
			}
		}
	}
	return expr, nil
}

var runCounter atomic.Int64

// Run executes the selected scenarios and returns their record. A non-nil
// error means the run could not start (*ConfigError, *FeatureError,
// ErrNoScenarios); step failures and errors are in the Record.
func Run(ctx context.Context, cfg Config) (*Record, error) {
	if cfg.Features == nil {
		return nil, &ConfigError{Err: errors.New("no features folder given")}
	}
	if len(cfg.Paths) == 0 {
		cfg.Paths = []string{"."}
	}
	tags, err := normalizeTags(cfg.Tags)
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	cfg.Tags = tags
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.Concurrency > 256 {
		return nil, &ConfigError{Err: fmt.Errorf("concurrency %d is above the limit of 256", cfg.Concurrency)}
	}
	if cfg.Redactor == nil {
		cfg.Redactor = redact.New()
	}
	client, err := fhirclient.New(cfg.ClientOptions())
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("configure target: %w", err)}
	}
	for _, p := range cfg.Paths {
		name, _ := steps.SplitFeatureLine(p)
		if !fs.ValidPath(name) {
			return nil, &ConfigError{Err: fmt.Errorf("feature path %q is not a relative path inside the features folder", p)}
		}
		if _, err := fs.Stat(cfg.Features, name); err != nil {
			return nil, &FeatureError{Err: fmt.Errorf("open feature path %s: %w", p, err)}
		}
		if err := checkFeatureSizes(cfg.Features, name); err != nil {
			return nil, &FeatureError{Err: err}
		}
	}

	runID := fmt.Sprintf("%s-%d", time.Now().UTC().Format("20060102T150405Z"), runCounter.Add(1))
	rec := &Record{RunID: runID, Target: cfg.Redactor.String(client.BaseURL()), Tags: cfg.Tags, Started: time.Now()}
	suiteName := "conform-" + runID
	opts := &godog.Options{
		Format:         discardFormat,
		Output:         io.Discard,
		Paths:          cfg.Paths,
		FS:             cfg.Features,
		Tags:           cfg.Tags,
		Concurrency:    cfg.Concurrency,
		Strict:         true,
		NoColors:       true,
		DefaultContext: ctx,
	}
	if cfg.GodogFormat != "" {
		for _, name := range strings.Split(cfg.GodogFormat, ",") {
			if _, ok := godog.AvailableFormatters()[name]; !ok || name == discardFormat {
				return nil, &ConfigError{Err: fmt.Errorf("godog format %q is not one of pretty, progress, cucumber, junit, events", name)}
			}
		}
		opts.Format = cfg.GodogFormat
		opts.Output = cfg.GodogOutput
		if opts.Output == nil {
			opts.Output = io.Discard
		}
	}
	features, err := (godog.TestSuite{Name: suiteName, Options: opts}).RetrieveFeatures()
	if err != nil {
		return nil, &FeatureError{Err: fmt.Errorf("parse features: %s", parseMessage(err))}
	}
	index := newIndex(rec)
	index.red, index.onScenario = cfg.Redactor, cfg.OnScenario
	for _, f := range features {
		index.add(f.GherkinDocument, f.Pickles)
	}
	if len(rec.Scenarios) == 0 {
		return nil, ErrNoScenarios
	}

	env := &steps.Env{Client: client, Validator: cfg.Validator, FHIRPath: cfg.FHIRPath, Features: cfg.Features, RunID: runID, Redactor: cfg.Redactor}
	switch {
	case cfg.Receiver != nil:
		env.Receiver = cfg.Receiver
		rec.Receiver = cfg.Receiver.URL()
	case cfg.Listen != "":
		r, err := receiver.Listen(cfg.Listen, receiver.Options{PublicURL: cfg.ReceiverURL})
		if err != nil {
			return nil, &ConfigError{Err: err}
		}
		defer r.Close()
		env.Receiver = r
		rec.Receiver = r.URL()
	}

	suite := godog.TestSuite{
		Name:                suiteName,
		ScenarioInitializer: func(sc *godog.ScenarioContext) { index.initScenario(sc, env) },
		Options:             opts,
	}
	if code := suite.Run(); code == 2 {
		return nil, &FeatureError{Err: errors.New("godog refused the features or options")}
	}
	rec.Duration = time.Since(rec.Started)
	for i := range rec.Scenarios {
		if s := &rec.Scenarios[i]; !s.finished {
			index.finish(s)
		}
	}
	if ctx.Err() != nil {
		return rec, fmt.Errorf("run interrupted: %w", ctx.Err())
	}
	return rec, nil
}

var parserLocation = regexp.MustCompile(`(?m)^\((\d+):(\d+)\): `)

// parseMessage rewrites godog's "FILE - Parser errors:\n(L:C): msg" as
// "FILE:L:C: msg", one line per error.
func parseMessage(err error) string {
	msg := err.Error()
	file, rest, ok := strings.Cut(msg, " - Parser errors:\n")
	if !ok {
		if file, rest, ok = strings.Cut(msg, " - "); !ok {
			return msg
		}
	}
	return parserLocation.ReplaceAllString(strings.TrimSpace(rest), file+":$1:$2: ")
}

// maxFeatureBytes bounds one feature file: godog reads each whole.
const maxFeatureBytes = 10 << 20

func checkFeatureSizes(fsys fs.FS, root string) error {
	return fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read feature path %s: %w", p, err)
		}
		if d.IsDir() || (!strings.HasSuffix(p, ".feature") && p != root) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("read feature file %s: %w", p, err)
		}
		if info.Size() > maxFeatureBytes {
			return fmt.Errorf("feature file %s is larger than %d bytes", p, maxFeatureBytes)
		}
		return nil
	})
}

// index maps godog pickles to their pre-filled place in the Record.
type index struct {
	rec        *Record
	scenarios  map[string]int
	steps      map[string]int
	red        *redact.Redactor
	onScenario func(Scenario)
	mu         sync.Mutex
}

func newIndex(rec *Record) *index {
	return &index{rec: rec, scenarios: map[string]int{}, steps: map[string]int{}}
}

type astStep struct {
	keyword string
	line    int
}

func (ix *index) add(doc *messages.GherkinDocument, pickles []*messages.Pickle) {
	if doc == nil || doc.Feature == nil {
		return
	}
	scenarioLines := map[string]int{}
	stepInfo := map[string]astStep{}
	visitSteps := func(list []*messages.Step) {
		for _, s := range list {
			stepInfo[s.Id] = astStep{keyword: strings.TrimSpace(s.Keyword), line: int(s.Location.Line)}
		}
	}
	var visitChildren func(children []*messages.FeatureChild)
	visitChildren = func(children []*messages.FeatureChild) {
		for _, c := range children {
			switch {
			case c.Background != nil:
				visitSteps(c.Background.Steps)
			case c.Scenario != nil:
				scenarioLines[c.Scenario.Id] = int(c.Scenario.Location.Line)
				visitSteps(c.Scenario.Steps)
				for _, ex := range c.Scenario.Examples {
					for _, row := range ex.TableBody {
						scenarioLines[row.Id] = int(row.Location.Line)
					}
				}
			case c.Rule != nil:
				rc := make([]*messages.FeatureChild, 0, len(c.Rule.Children))
				for _, r := range c.Rule.Children {
					rc = append(rc, &messages.FeatureChild{Background: r.Background, Scenario: r.Scenario})
				}
				visitChildren(rc)
			}
		}
	}
	visitChildren(doc.Feature.Children)
	for _, p := range pickles {
		uri, _ := steps.SplitFeatureLine(p.Uri)
		sc := Scenario{ID: p.Id, Feature: doc.Feature.Name, URI: uri, Name: p.Name, Status: conformance.StatusSkipped}
		ids := p.AstNodeIds
		if len(ids) > 0 {
			sc.Line = scenarioLines[ids[len(ids)-1]]
			if sc.Line == 0 {
				sc.Line = scenarioLines[ids[0]]
			}
		}
		for _, t := range p.Tags {
			sc.Tags = append(sc.Tags, t.Name)
		}
		for i, ps := range p.Steps {
			st := Step{Text: ps.Text, Status: conformance.StatusSkipped}
			if len(ps.AstNodeIds) > 0 {
				info := stepInfo[ps.AstNodeIds[0]]
				st.Keyword, st.Line = info.keyword, info.line
			}
			sc.Steps = append(sc.Steps, st)
			ix.steps[p.Id+"/"+ps.Id] = i
		}
		ix.scenarios[p.Id] = len(ix.rec.Scenarios)
		ix.rec.Scenarios = append(ix.rec.Scenarios, sc)
	}
}

// initScenario is godog's ScenarioInitializer: a World per scenario, and
// hooks writing the scenario's own entry of the Record.
func (ix *index) initScenario(sc *godog.ScenarioContext, env *steps.Env) {
	var (
		current *Scenario
		started time.Time
	)
	world := env.NewWorld("")
	world.Register(sc)
	sc.Before(func(ctx context.Context, p *godog.Scenario) (context.Context, error) {
		world.SetFeature(p.Uri)
		if i, ok := ix.scenarios[p.Id]; ok {
			current = &ix.rec.Scenarios[i]
			current.Started = time.Now()
		}
		return ctx, nil
	})
	sc.StepContext().Before(func(ctx context.Context, st *godog.Step) (context.Context, error) {
		started = time.Now()
		return ctx, nil
	})
	sc.StepContext().After(func(ctx context.Context, st *godog.Step, status godog.StepResultStatus, err error) (context.Context, error) {
		if current == nil {
			return ctx, nil
		}
		i, ok := ix.steps[current.ID+"/"+st.Id]
		if !ok {
			return ctx, nil
		}
		step := &current.Steps[i]
		step.Started = started
		step.Duration = time.Since(started)
		step.Status, step.Error = classify(status, err, env.Redactor)
		ev := world.TakeEvidence()
		step.Exchanges, step.Outcomes, step.Received = ev.Exchanges, ev.Outcomes, ev.Received
		for _, ex := range ev.Exchanges {
			if data, err := json.Marshal(ex); err == nil {
				ctx = godog.Attach(ctx, godog.Attachment{Body: data, FileName: "exchange.json", MediaType: "application/json"})
			}
		}
		current.Duration = time.Since(current.Started)
		if i == len(current.Steps)-1 {
			ix.finish(current)
		}
		return ctx, nil
	})
}

// finish completes a scenario's entry after its last step and reports it.
func (ix *index) finish(s *Scenario) {
	for j := range s.Steps {
		st := &s.Steps[j]
		st.Text = ix.red.String(st.Text)
		if st.Status == conformance.StatusUndefined && st.Suggestion == "" {
			if d, ok := steps.Suggest(st.Text); ok {
				st.Suggestion, _, _ = strings.Cut(d.Phrase, "\n")
			}
		}
	}
	s.Status = scenarioStatus(s.Steps)
	s.finished = true
	if ix.onScenario != nil {
		ix.mu.Lock()
		defer ix.mu.Unlock()
		ix.onScenario(*s)
	}
}

func classify(status godog.StepResultStatus, err error, red *redact.Redactor) (conformance.Status, string) {
	msg := ""
	if err != nil {
		msg = red.String(err.Error())
	}
	switch status {
	case godog.StepPassed:
		return conformance.StatusPass, ""
	case godog.StepSkipped:
		return conformance.StatusSkipped, ""
	case godog.StepUndefined, godog.StepPending:
		return conformance.StatusUndefined, "undefined step: no step definition matches this text"
	case godog.StepAmbiguous:
		return conformance.StatusError, msg
	}
	var ex *steps.ExecError
	if errors.As(err, &ex) {
		return conformance.StatusError, msg
	}
	return conformance.StatusFail, msg
}
