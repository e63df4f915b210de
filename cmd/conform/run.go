package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/profiles/fhirpath"
	fhirmodel "github.com/nhsconform/conform/profiles/model"
	"github.com/nhsconform/conform/profiles/packages"
	"github.com/nhsconform/conform/profiles/snapshot"
	"github.com/nhsconform/conform/profiles/validate"
	"github.com/nhsconform/conform/runner"
	"github.com/nhsconform/conform/runner/auth"
	"github.com/nhsconform/conform/runner/fhirclient"
	"github.com/nhsconform/conform/runner/redact"
	"github.com/nhsconform/conform/runner/steps"
)

func init() {
	register(&command{name: "run", summary: "run Gherkin workflow features against a FHIR endpoint", run: runRun})
}

// runOutput is one -o FORMAT[=FILE].
type runOutput struct {
	format, file string
}

func parseRunOutputs(values []string) ([]runOutput, error) {
	if len(values) == 0 {
		values = []string{"text"}
	}
	var outs []runOutput
	stdout := 0
	for _, v := range values {
		format, file, _ := strings.Cut(v, "=")
		if format != "text" && format != "json" {
			return nil, fmt.Errorf("unknown output format %q (want text or json, optionally =FILE)", format)
		}
		if file == "" {
			stdout++
		}
		outs = append(outs, runOutput{format: format, file: file})
	}
	if stdout > 1 {
		return nil, errors.New("only one -o output may go to stdout; give the others a =FILE")
	}
	return outs, nil
}

// authFlags are the credential flags of conform run. Secrets are read from
// files or environment variables only, never from the command line.
type authFlags struct {
	bearerFile, bearerEnv                     string
	tokenURL, clientID, secretEnv, secretFile string
	scope, jwtKey, jwtKID                     string
	certFile, keyFile, caFile                 string
}

func addAuthFlags(fs *pflag.FlagSet) *authFlags {
	a := &authFlags{}
	fs.StringVar(&a.bearerFile, "bearer-token-file", "", "send the bearer token in `FILE`")
	fs.StringVar(&a.bearerEnv, "bearer-token-env", "", "send the bearer token in environment variable `NAME`")
	fs.StringVar(&a.tokenURL, "token-url", "", "OAuth2 token endpoint `URL` (client credentials or signed JWT assertion)")
	fs.StringVar(&a.clientID, "client-id", "", "OAuth2 client `ID` (NHS England: the application's API key)")
	fs.StringVar(&a.secretEnv, "client-secret-env", "", "OAuth2 client secret in environment variable `NAME`")
	fs.StringVar(&a.secretFile, "client-secret-file", "", "OAuth2 client secret in `FILE`")
	fs.StringVar(&a.scope, "scope", "", "OAuth2 `SCOPE` to request")
	fs.StringVar(&a.jwtKey, "jwt-key", "", "RSA private key `FILE` (PEM) signing an RS512 client assertion (private_key_jwt)")
	fs.StringVar(&a.jwtKID, "jwt-kid", "", "key id `KID` of --jwt-key as registered with the token endpoint")
	fs.StringVar(&a.certFile, "cert", "", "client certificate `FILE` (PEM) for mutual TLS")
	fs.StringVar(&a.keyFile, "key", "", "private key `FILE` (PEM) of --cert")
	fs.StringVar(&a.caFile, "ca", "", "CA certificates `FILE` (PEM) trusted for the target, besides the system's")
	return a
}

// build returns the authorizer (nil when none is configured) and the TLS config.
func (a *authFlags) build(e *env, red *redact.Redactor) (fhirclient.Authorizer, *http.Client, error) {
	tlsCfg, err := auth.TLSConfig(auth.TLSFiles{CertFile: a.certFile, KeyFile: a.keyFile, CAFile: a.caFile})
	if err != nil {
		return nil, nil, err
	}
	tokenClient := &http.Client{Timeout: 30 * time.Second}
	if tlsCfg != nil {
		tokenClient.Transport = &http.Transport{TLSClientConfig: tlsCfg, Proxy: http.ProxyFromEnvironment}
	}
	kinds := 0
	for _, set := range []bool{a.bearerFile != "", a.bearerEnv != "", a.tokenURL != ""} {
		if set {
			kinds++
		}
	}
	if kinds > 1 {
		return nil, nil, errors.New("choose one of --bearer-token-file, --bearer-token-env and --token-url")
	}
	switch {
	case a.bearerFile != "":
		b, err := auth.BearerFromFile(a.bearerFile, red)
		return b, tokenClient, err
	case a.bearerEnv != "":
		b, err := auth.BearerFromEnv(e.getenv, a.bearerEnv, red)
		return b, tokenClient, err
	case a.tokenURL == "":
		if a.clientID != "" || a.jwtKey != "" || a.secretEnv != "" || a.secretFile != "" {
			return nil, nil, errors.New("--client-id, --client-secret-* and --jwt-key need --token-url")
		}
		return nil, tokenClient, nil
	}
	if a.clientID == "" {
		return nil, nil, errors.New("--token-url needs --client-id")
	}
	if a.jwtKey != "" {
		if a.secretEnv != "" || a.secretFile != "" {
			return nil, nil, errors.New("choose a client secret or --jwt-key, not both")
		}
		key, err := auth.LoadRSAKey(a.jwtKey)
		if err != nil {
			return nil, nil, err
		}
		f, err := auth.NewFetcher(auth.JWTAssertion{TokenURL: a.tokenURL, ClientID: a.clientID, KeyID: a.jwtKID, Scope: a.scope, Key: key}, tokenClient, red)
		return f, tokenClient, err
	}
	var secret string
	switch {
	case a.secretEnv != "":
		secret = e.getenv(a.secretEnv)
		if secret == "" {
			return nil, nil, fmt.Errorf("environment variable %s is not set", a.secretEnv)
		}
	case a.secretFile != "":
		data, err := os.ReadFile(a.secretFile)
		if err != nil {
			return nil, nil, fmt.Errorf("read client secret: %w", err)
		}
		secret = strings.TrimSpace(string(data))
	default:
		return nil, nil, errors.New("--token-url needs --client-secret-env, --client-secret-file or --jwt-key")
	}
	red.Add(secret)
	f, err := auth.NewFetcher(auth.ClientCredentials{TokenURL: a.tokenURL, ClientID: a.clientID, ClientSecret: secret, Scope: a.scope}, tokenClient, red)
	return f, tokenClient, err
}

// parseHeaders reads repeated "Name: value" flags.
func parseHeaders(values []string, red *redact.Redactor) (http.Header, error) {
	h := http.Header{}
	for _, v := range values {
		name, value, ok := strings.Cut(v, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") || strings.ContainsAny(value, "\r\n") {
			return nil, fmt.Errorf("--header %q: want \"Name: value\"", red.String(v))
		}
		if redact.IsSensitiveHeader(name) {
			red.Add(value)
			if _, cred, found := strings.Cut(value, " "); found {
				red.Add(cred)
			}
		}
		h.Add(name, value)
	}
	return h, nil
}

// featureRoot turns feature paths on disk into one folder and paths inside
// it: the deepest folder holding the parents of all of them, so fixtures may
// sit beside or above each feature file's folder.
func featureRoot(paths []string) (string, []string, error) {
	var abs, lines []string
	for _, p := range paths {
		file, line := p, ""
		if i := strings.LastIndexByte(p, ':'); i > 0 && isNumber(p[i+1:]) {
			file, line = p[:i], p[i:]
		}
		a, err := filepath.Abs(file)
		if err != nil {
			return "", nil, err
		}
		if _, err := os.Stat(a); err != nil {
			return "", nil, fmt.Errorf("feature path %s: %w", file, err)
		}
		abs = append(abs, a)
		lines = append(lines, line)
	}
	root := filepath.Dir(abs[0])
	for _, a := range abs[1:] {
		for !strings.HasPrefix(filepath.Dir(a)+string(filepath.Separator), root+string(filepath.Separator)) && root != filepath.Dir(root) {
			root = filepath.Dir(root)
		}
	}
	rel := make([]string, len(abs))
	for i, a := range abs {
		r, err := filepath.Rel(root, a)
		if err != nil {
			return "", nil, err
		}
		rel[i] = filepath.ToSlash(r) + lines[i]
	}
	return root, rel, nil
}

func isNumber(s string) bool {
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

// profileTools loads FHIR packages once, on first use, for the validator
// and the FHIRPath type model; a run that validates nothing never loads them.
type profileTools struct {
	load   func() (*packages.Set, error)
	warn   func(string)
	once   sync.Once
	set    *packages.Set
	err    error
	v      conformance.Validator
	vErr   error
	fpOnce sync.Once
	fp     *steps.Engine
}

func (p *profileTools) packages() (*packages.Set, error) {
	p.once.Do(func() {
		p.set, p.err = p.load()
		if p.err == nil {
			g := &snapshot.Generator{Resolve: p.set.ResolveJSON}
			p.v, p.vErr = validate.New(validate.Options{
				Resolve: p.set.ResolveJSON,
				Snapshot: func(sd map[string]any) (map[string]any, error) {
					out, _, err := g.Generate(sd)
					return out, err
				},
			})
		}
	})
	return p.set, p.err
}

// Validate implements conformance.Validator.
func (p *profileTools) Validate(ctx context.Context, resource []byte, profiles ...string) (conformance.Outcome, error) {
	if _, err := p.packages(); err != nil {
		return conformance.Outcome{}, fmt.Errorf("load FHIR packages for validation: %w", err)
	}
	if p.vErr != nil {
		return conformance.Outcome{}, fmt.Errorf("set up the validator: %w", p.vErr)
	}
	return p.v.Validate(ctx, resource, profiles...)
}

// Evaluate implements steps.FHIRPath with the R4 type model when the core
// package loads, else navigating by JSON names only (with a warning).
func (p *profileTools) Evaluate(ctx context.Context, resource any, expression string, env map[string]any) ([]any, error) {
	p.fpOnce.Do(func() {
		opts := fhirpath.Options{CollectionAs: true, NoPathChecks: true}
		if set, err := p.packages(); err == nil {
			opts.Model = fhirpath.FromModel(fhirmodel.New(set.ResolveJSON))
		} else {
			p.warn(fmt.Sprintf("FHIRPath without the FHIR type model (%v): choice elements and type functions will not work", err))
		}
		p.fp = steps.NewEngine(fhirpath.NewEngine(opts))
	})
	return p.fp.Evaluate(ctx, resource, expression, env)
}

func runRun(e *env, args []string) conformance.ExitCode {
	const name = "run"
	fs := newFlags(e, name, "[--target URL] [--features PATH...] [flags]", `
Run Gherkin features against the FHIR endpoint at --target and report every
scenario. With --packs, every built-in workflow pack runs instead and each
acceptance criterion gets a verdict (exit 0 when every MUST criterion
passes, 1 when one fails); with neither --target nor --features, the packs
run against the reference server started in-process.

Each --features PATH is a .feature file (optionally FILE:LINE for one
scenario) or a folder searched for them; request bodies named in steps are
read relative to each feature file. 'conform steps' lists the steps.

Credentials come from files or environment variables, never the command
line: a bearer token (--bearer-token-file, --bearer-token-env), OAuth2 client
credentials (--token-url, --client-id, --client-secret-env|file) or the NHS
England signed JWT assertion (--token-url, --client-id, --jwt-key,
--jwt-kid), and mutual TLS (--cert, --key, --ca). Secrets never appear in
any output.

--tags uses godog's syntax: "@MUST && ~@wip" (and, not), "@ADM-01,@ADM-02" (or).
--listen ADDR starts a receiving endpoint for pushed messages; features
refer to it as {{receiver}}.
Validation steps load hl7.fhir.r4.core from the FHIR package cache and each
--ig on first use.

-o text prints each scenario and the failures; -o json prints the run record
(every scenario, step, status and exchange). Add =FILE to write to a file;
-o is repeatable.

Exit codes: 0 all scenarios passed, 1 a scenario failed, 2 usage or
configuration (including a feature file that does not parse), 3 could not
complete (target unreachable, undefined or ambiguous steps, missing
fixtures, values never stored).`)
	target := fs.String("target", "", "FHIR base `URL` of the system under test")
	features := fs.StringArray("features", nil, "feature file or folder `PATH` (repeatable; FILE:LINE selects one scenario)")
	tags := fs.String("tags", "", "run only scenarios matching tag `EXPR`")
	concurrency := fs.Int("concurrency", 1, "scenarios run at once")
	timeout := fs.Duration("timeout", fhirclient.DefaultTimeout, "time limit of one request attempt")
	attempts := fs.Int("attempts", fhirclient.DefaultMaxAttempts, "attempts per request when a retry is safe (GET, PUT, DELETE on 429, 503 or a failed connection)")
	headers := fs.StringArray("header", nil, "add `\"Name: value\"` to every request (repeatable)")
	listen := fs.String("listen", "", "start a receiving endpoint on `ADDR` (e.g. 127.0.0.1:8089) for pushed messages")
	receiverURL := fs.String("receiver-url", "", "base `URL` the system under test reaches the --listen endpoint at (default http://ADDR)")
	progress := fs.Bool("progress", false, "print each scenario to stderr as soon as it finishes")
	outputs := fs.StringArrayP("output", "o", nil, "output `FORMAT[=FILE]`: text or json (repeatable)")
	builtinPacks := fs.Bool("packs", false, "run the built-in workflow packs against --target (the default without --target and --features)")
	af := addAuthFlags(fs)
	pf := addPackageFlags(fs)
	if code, done := parseFlags(e, fs, args); done {
		return code
	}
	features2 := append(*features, fs.Args()...)
	switch {
	case *target == "" && len(features2) > 0:
		return usageError(e, name, "--target is required with --features (without both, the built-in packs run against the in-process reference server)")
	case *target != "" && len(features2) == 0 && !*builtinPacks:
		return usageError(e, name, "no --features given (--packs runs the built-in workflow packs)")
	case *builtinPacks && len(features2) > 0:
		return usageError(e, name, "--packs and --features exclude each other")
	case *concurrency < 1 || *concurrency > 256:
		return usageError(e, name, "--concurrency must be between 1 and 256")
	case *timeout <= 0:
		return usageError(e, name, "--timeout must be positive")
	case *attempts < 1 || *attempts > 10:
		return usageError(e, name, "--attempts must be between 1 and 10")
	case *receiverURL != "" && *listen == "":
		return usageError(e, name, "--receiver-url needs --listen")
	}
	outs, err := parseRunOutputs(*outputs)
	if err != nil {
		return usageError(e, name, "%v", err)
	}
	for _, o := range outs {
		if o.file == "" {
			continue
		}
		f, err := os.OpenFile(o.file, os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			return usageError(e, name, "cannot write -o %s=%s: %v", o.format, o.file, err)
		}
		f.Close()
	}
	red := redact.New()
	header, err := parseHeaders(*headers, red)
	if err != nil {
		return usageError(e, name, "%v", err)
	}
	authorizer, _, err := af.build(e, red)
	if err != nil {
		return usageError(e, name, "%s", red.String(err.Error()))
	}
	tlsCfg, _ := auth.TLSConfig(auth.TLSFiles{CertFile: af.certFile, KeyFile: af.keyFile, CAFile: af.caFile})
	if len(features2) == 0 {
		return runBuiltinPacks(e, name, outs, packSuite{target: *target, pf: pf, red: red, runner: runner.Config{
			Tags: *tags, Concurrency: *concurrency, Timeout: *timeout, MaxAttempts: *attempts, Header: header,
			Auth: authorizer, TLS: tlsCfg, Listen: *listen, ReceiverURL: *receiverURL,
		}})
	}
	root, paths, err := featureRoot(features2)
	if err != nil {
		return usageError(e, name, "%v", err)
	}
	var warnOnce sync.Once
	tools := &profileTools{
		load: func() (*packages.Set, error) { return pf.load(e) },
		warn: func(msg string) {
			warnOnce.Do(func() { fmt.Fprintf(e.stderr, "conform %s: warning: %s\n", name, red.String(msg)) })
		},
	}
	var onScenario func(runner.Scenario)
	if *progress {
		onScenario = func(s runner.Scenario) {
			fmt.Fprintf(e.stderr, "%-9s %s (%s:%d) %s\n", strings.ToUpper(string(s.Status)), red.String(s.Name), s.URI, s.Line, s.Duration.Round(time.Millisecond))
		}
	}
	rec, err := runner.Run(e.ctx, runner.Config{
		OnScenario:  onScenario,
		Target:      *target,
		Features:    os.DirFS(root),
		Paths:       paths,
		Tags:        *tags,
		Concurrency: *concurrency,
		Timeout:     *timeout,
		MaxAttempts: *attempts,
		Header:      header,
		Auth:        authorizer,
		TLS:         tlsCfg,
		Validator:   tools,
		FHIRPath:    tools,
		Listen:      *listen,
		ReceiverURL: *receiverURL,
		Redactor:    red,
	})
	var cfgErr *runner.ConfigError
	var featErr *runner.FeatureError
	switch {
	case errors.As(err, &cfgErr), errors.As(err, &featErr), errors.Is(err, runner.ErrNoScenarios):
		return usageError(e, name, "%s", red.String(err.Error()))
	case err != nil && rec == nil:
		return failure(e, name, errors.New(red.String(err.Error())))
	}
	for _, o := range outs {
		if werr := writeRunOutput(e, o, rec, red); werr != nil {
			return failure(e, name, werr)
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "conform %s: %s\n", name, red.String(err.Error()))
		return conformance.ExitIncomplete
	}
	return rec.ExitCode()
}

func writeRunOutput(e *env, o runOutput, rec *runner.Record, red *redact.Redactor) error {
	w := e.stdout
	if o.file != "" {
		f, err := os.Create(o.file)
		if err != nil {
			return fmt.Errorf("write %s output: %w", o.format, err)
		}
		defer f.Close()
		w = f
	}
	var err error
	switch o.format {
	case "json":
		var data []byte
		data, err = json.MarshalIndent(rec, "", "  ")
		if err == nil {
			_, err = w.Write(append(red.Bytes(data), '\n'))
		}
	default:
		_, err = io.WriteString(w, red.String(renderRunText(rec)))
	}
	if err != nil {
		return fmt.Errorf("write %s output: %w", o.format, err)
	}
	return nil
}

func renderRunText(rec *runner.Record) string {
	var b strings.Builder
	feature := ""
	for _, s := range rec.Scenarios {
		if s.Feature != feature {
			feature = s.Feature
			fmt.Fprintf(&b, "Feature: %s\n", feature)
		}
		fmt.Fprintf(&b, "  %-9s %s (%s:%d)\n", strings.ToUpper(string(s.Status)), s.Name, s.URI, s.Line)
		if s.Status == conformance.StatusPass {
			continue
		}
		for _, st := range s.Steps {
			if st.Status == conformance.StatusPass || st.Status == conformance.StatusSkipped {
				continue
			}
			fmt.Fprintf(&b, "      %s %s %s (line %d)\n", strings.ToUpper(string(st.Status)), st.Keyword, st.Text, st.Line)
			if st.Error != "" {
				fmt.Fprintf(&b, "        %s\n", strings.ReplaceAll(st.Error, "\n", "\n        "))
			}
			if st.Suggestion != "" {
				fmt.Fprintf(&b, "        did you mean: %s\n", st.Suggestion)
			}
			for _, ex := range st.Exchanges {
				result := ex.ErrorKind
				if ex.Status != 0 {
					result = fhirclient.ErrorKind(fmt.Sprint(ex.Status))
				}
				fmt.Fprintf(&b, "        %s %s -> %s (%s, %d attempt(s))\n", ex.Method, ex.URL, result, ex.Duration.Round(time.Millisecond), len(ex.Attempts))
			}
		}
	}
	c := rec.Counts()
	fmt.Fprintf(&b, "\n%d scenarios: %d passed, %d failed, %d error, %d undefined, %d skipped in %s\n",
		len(rec.Scenarios), c[conformance.StatusPass], c[conformance.StatusFail], c[conformance.StatusError],
		c[conformance.StatusUndefined], c[conformance.StatusSkipped], rec.Duration.Round(time.Millisecond))
	return b.String()
}
