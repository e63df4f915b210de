package main

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/spf13/pflag"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/profiles/fhirpath"
	"github.com/nhsconform/conform/profiles/packages"
	"github.com/nhsconform/conform/profiles/validate"
	"github.com/nhsconform/conform/report"
	"github.com/nhsconform/conform/report/evidence"
	"github.com/nhsconform/conform/runner"
	"github.com/nhsconform/conform/runner/auth"
	"github.com/nhsconform/conform/runner/fhirclient"
	"github.com/nhsconform/conform/runner/redact"
	"github.com/nhsconform/conform/runner/steps"
	"github.com/nhsconform/conform/scenarios"
	"github.com/nhsconform/conform/scenarios/packs"
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
	parsed, err := report.ParseOutputs(values)
	if err != nil {
		return nil, err
	}
	outs := make([]runOutput, len(parsed))
	for i, o := range parsed {
		outs[i] = runOutput{format: o.Format, file: o.Path}
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

// build returns the authorizer (nil when none is configured) and the TLS
// configuration (nil without --cert or --ca), used for the token endpoint too.
func (a *authFlags) build(e *env, red *redact.Redactor) (fhirclient.Authorizer, *tls.Config, error) {
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
		return b, tlsCfg, err
	case a.bearerEnv != "":
		b, err := auth.BearerFromEnv(e.getenv, a.bearerEnv, red)
		return b, tlsCfg, err
	case a.tokenURL == "":
		if a.clientID != "" || a.jwtKey != "" || a.secretEnv != "" || a.secretFile != "" {
			return nil, nil, errors.New("--client-id, --client-secret-* and --jwt-key need --token-url")
		}
		return nil, tlsCfg, nil
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
		return f, tlsCfg, err
	}
	var secret string
	switch {
	case a.secretEnv != "":
		secret = e.getenv(a.secretEnv)
		if secret == "" {
			return nil, nil, fmt.Errorf("environment variable %s is not set", a.secretEnv)
		}
	case a.secretFile != "":
		data, err := readSecretFile(a.secretFile)
		if err != nil {
			return nil, nil, fmt.Errorf("read client secret: %w", err)
		}
		secret = strings.TrimSpace(string(data))
	default:
		return nil, nil, errors.New("--token-url needs --client-secret-env, --client-secret-file or --jwt-key")
	}
	red.Add(secret)
	f, err := auth.NewFetcher(auth.ClientCredentials{TokenURL: a.tokenURL, ClientID: a.clientID, ClientSecret: secret, Scope: a.scope}, tokenClient, red)
	return f, tlsCfg, err
}

// maxSecretFile bounds the size of a file holding a client secret.
const maxSecretFile = 64 << 10

// readSecretFile reads a file holding a secret, refusing one larger than
// maxSecretFile (a device or a wrong file named by mistake).
func readSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxSecretFile {
		return nil, fmt.Errorf("%s is larger than %d bytes, too large for a secret", path, maxSecretFile)
	}
	return data, nil
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
			return "", nil, fmt.Errorf("feature path %s: %w", file, err)
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
			return "", nil, fmt.Errorf("feature path %s: %w", a, err)
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
			p.v, p.vErr = validate.FromPackages(p.set, validate.Options{})
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
			opts.Model = fhirpath.FromModel(set.Model())
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

-o NAME[=FILE] (repeatable) writes the run record in a format: text (each
scenario as it ends, a progress bar on a terminal, then the verdicts), json
(the run record), junit, cucumber (Cucumber JSON), ndjson (Cucumber
Messages), testreport (FHIR TestReport resources in a Bundle) or html (one
self-contained page). --out DIR also writes an evidence bundle: every
format, each exchange, a manifest of SHA-256 hashes signed with --sign-key
(see 'conform keygen' and 'conform verify'), linked to the previous run for
the same target in DIR's parent folder; --zip also writes DIR.zip.
--waivers FILE turns the failures of the criteria it names into waived until
each waiver's expiry date: {"waivers": [{"criterion": "ADM-03", "reason":
"...", "by": "...", "expires": "2026-12-31"}]}. --label KEY=VALUE records
facts such as supplier, lot or environment.

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
	outputs := fs.StringArrayP("output", "o", nil, "output `FORMAT[=FILE]`: "+strings.Join(report.FormatNames(), ", ")+" (repeatable)")
	bundleDir := fs.String("out", "", "write an evidence bundle to the new or empty folder `DIR`")
	zipBundle := fs.Bool("zip", false, "with --out DIR, also write the sealed bundle as DIR.zip")
	signKey := fs.String("sign-key", "", "with --out, sign the bundle's manifest with the Ed25519 key `FILE` ('conform keygen')")
	waiversFile := fs.String("waivers", "", "waivers `FILE` (JSON) turning failures of the criteria it names into waived until their expiry")
	labels := fs.StringArray("label", nil, "record `KEY=VALUE` with the run, e.g. supplier=Acme (repeatable)")
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
	rs, err := newRecordSettings(*bundleDir, *zipBundle, *signKey, *waiversFile, *labels, len(features2) == 0)
	if err != nil {
		return usageError(e, name, "%v", err)
	}
	rs.tagged = *tags != ""
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
	authorizer, tlsCfg, err := af.build(e, red)
	if err != nil {
		return usageError(e, name, "%s", red.String(err.Error()))
	}
	if len(features2) == 0 {
		all, err := packs.Builtin()
		if err != nil {
			return failure(e, name, err)
		}
		set, err := loadPackPackages(e, pf, all)
		if err != nil {
			return usageError(e, name, "%s", red.String(err.Error()))
		}
		w := rs.writer(e, outs, red, scenarios.FS)
		res, code, err := runPackSuite(e, packSuite{target: *target, pf: pf, red: red, set: set, runner: runner.Config{
			Tags: *tags, Concurrency: *concurrency, Timeout: *timeout, MaxAttempts: *attempts, Header: header,
			Auth: authorizer, TLS: tlsCfg, Listen: *listen, ReceiverURL: *receiverURL, OnScenario: w.Scenario,
		}})
		if err != nil {
			w.Finish(nil)
			if code == conformance.ExitUsage {
				return usageError(e, name, "%s", red.String(err.Error()))
			}
			return failure(e, name, errors.New(red.String(err.Error())))
		}
		return rs.finish(e, name, w, report.Input{Suite: res}, set)
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
	w := rs.writer(e, outs, red, os.DirFS(root))
	onScenario := w.Scenario
	if *progress {
		onScenario = func(s runner.Scenario) {
			fmt.Fprintf(e.stderr, "%-9s %s (%s:%d) %s\n", strings.ToUpper(string(s.Status)), red.String(s.Name), s.URI, s.Line, s.Duration.Round(time.Millisecond))
			w.Scenario(s)
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
		w.Finish(nil)
		return usageError(e, name, "%s", red.String(err.Error()))
	case err != nil && rec == nil:
		w.Finish(nil)
		return failure(e, name, errors.New(red.String(err.Error())))
	}
	code := rs.finish(e, name, w, report.Input{Run: rec}, tools.set)
	if err != nil {
		fmt.Fprintf(e.stderr, "conform %s: %s\n", name, red.String(err.Error()))
		return conformance.ExitIncomplete
	}
	return code
}

// recordSettings are the flags of conform run that shape its run record and
// evidence bundle.
type recordSettings struct {
	bundleDir string
	zip       bool
	key       ed25519.PrivateKey
	waivers   []conformance.Waiver
	labels    map[string]string
	red       *redact.Redactor
	// tagged runs select scenarios by tag: the progress bar has no total.
	tagged bool
}

func newRecordSettings(bundleDir string, zipBundle bool, signKey, waiversFile string, labels []string, packRun bool) (*recordSettings, error) {
	rs := &recordSettings{bundleDir: bundleDir, zip: zipBundle}
	if bundleDir == "" && (zipBundle || signKey != "") {
		return nil, errors.New("--zip and --sign-key need --out DIR")
	}
	if bundleDir != "" {
		if entries, err := os.ReadDir(bundleDir); err == nil && len(entries) > 0 {
			return nil, fmt.Errorf("--out %s: the folder is not empty; give each run its own folder", bundleDir)
		}
	}
	if signKey != "" {
		key, err := evidence.LoadPrivateKey(signKey)
		if err != nil {
			return nil, fmt.Errorf("--sign-key: %w", err)
		}
		rs.key = key
	}
	if waiversFile != "" {
		ws, err := report.LoadWaivers(waiversFile)
		if err != nil {
			return nil, err
		}
		known := map[string]bool{}
		if packRun {
			all, err := packs.Builtin()
			if err != nil {
				return nil, err
			}
			for _, p := range all {
				for _, c := range p.Criteria {
					known[c.ID] = true
				}
			}
		}
		if err := report.CheckWaivers(ws, func(id string) bool { return known[id] }); err != nil {
			return nil, fmt.Errorf("waivers %s: %w (waivers apply to the criteria of the built-in packs; 'conform packs list' names them)", waiversFile, err)
		}
		rs.waivers = ws
	}
	for _, l := range labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok || !validLabelKey(k) || v == "" || len(v) > 200 || strings.ContainsFunc(v, unicode.IsControl) {
			return nil, fmt.Errorf("--label %q: want KEY=VALUE with KEY of letters, digits, '-', '_' or '.' and a VALUE of at most 200 printable characters", l)
		}
		if rs.labels == nil {
			rs.labels = map[string]string{}
		}
		rs.labels[k] = v
	}
	return rs, nil
}

func validLabelKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// writer starts the run's outputs; sources are the feature files for ndjson.
func (rs *recordSettings) writer(e *env, outs []runOutput, red *redact.Redactor, sources iofs.FS) *report.Writer {
	rs.red = red
	parsed := make([]report.Output, len(outs))
	for i, o := range outs {
		parsed[i] = report.Output{Format: o.format, Path: o.file}
	}
	total := 0
	if all, err := packs.Builtin(); err == nil && sources == iofs.FS(scenarios.FS) && !rs.tagged {
		for _, p := range all {
			total += len(p.Scenarios)
		}
	}
	return report.NewWriter(e.stdout, parsed, total, report.Options{Sources: sources, Terminal: report.IsTerminal(e.stdout)}, red.Bytes)
}

// finish builds the run record, writes the outputs and the evidence bundle,
// and returns the exit code of the record's verdict.
func (rs *recordSettings) finish(e *env, name string, w *report.Writer, in report.Input, set *packages.Set) conformance.ExitCode {
	in.ToolVersion, in.Labels, in.Waivers, in.Ended = version, rs.labels, rs.waivers, time.Now()
	if set != nil {
		ids, err := report.PackageIdentities(set.Packages())
		if err != nil {
			w.Finish(nil)
			return failure(e, name, err)
		}
		in.Packages = ids
	}
	rec, err := report.Build(in)
	if err != nil {
		w.Finish(nil)
		var unknown *report.UnknownCriterionError
		if errors.As(err, &unknown) {
			return usageError(e, name, "%v", err)
		}
		return failure(e, name, err)
	}
	if rs.bundleDir != "" {
		res, err := report.WriteBundle(rs.bundleDir, rec, report.BundleOptions{Key: rs.key, Zip: rs.zip, Redact: rs.red.Bytes, Options: report.Options{Sources: w.Sources()}})
		if err != nil {
			w.Finish(nil)
			return failure(e, name, err)
		}
		signed := "unsigned"
		if rs.key != nil {
			signed = "signed"
		}
		fmt.Fprintf(e.stderr, "conform %s: evidence bundle %s (%d files, %s)", name, res.Dir, len(res.Manifest.Files), signed)
		if res.Zip != "" {
			fmt.Fprintf(e.stderr, " and %s", res.Zip)
		}
		fmt.Fprintln(e.stderr)
	}
	if err := w.Finish(rec); err != nil {
		return failure(e, name, err)
	}
	return rec.ExitCode()
}
