package main

import (
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/profiles/packages"
	"github.com/nhsconform/conform/profiles/validate"
	"github.com/nhsconform/conform/scenarios/refserver"
)

func init() {
	register(&command{name: "serve", summary: "run the in-memory reference FHIR R4 server", run: runServe})
}

const serveDescription = `Runs conform's reference FHIR R4 server in memory: create, read, update, conditional
create and update, delete, search, history, transaction and batch, $validate,
$process-message with the BaRS receiver behaviour and a CapabilityStatement at /metadata.
Writes are validated with conform's validator against hl7.fhir.r4.core and the UK Core
profiles loaded with --ig; invalid resources are rejected with 422.

The first line of output is "conform reference server listening on http://HOST:PORT/fhir";
the second says how writes are validated. The server runs until interrupted.

--push-url names the FHIR base of a receiving endpoint: the asynchronous BaRS
servicerequest-response and discharge notifications (an Encounter becoming finished) are
POSTed to PUSH-URL/$process-message.

Each --fault breaks one behaviour, so that a workflow pack can be shown to notice it:
`

func runServe(e *env, args []string) conformance.ExitCode {
	var b strings.Builder
	b.WriteString(serveDescription)
	for _, f := range refserver.Faults() {
		fmt.Fprintf(&b, "  %-26s %s\n", f.Name, f.Breaks)
	}
	fs := newFlags(e, "serve", "[--addr ADDR] [--fault NAME]... [--push-url URL] [--ig SRC]...", b.String())
	addr := fs.String("addr", "127.0.0.1:8080", "listen on `ADDR` (host:port; port 0 picks a free port)")
	faults := fs.StringArray("fault", nil, "switch on the fault `NAME` (repeatable; see --list-faults)")
	listFaults := fs.Bool("list-faults", false, "print the fault names, one a line, and exit")
	pushURL := fs.String("push-url", "", "FHIR base `URL` that BaRS responses and discharge notifications are pushed to")
	noValidate := fs.Bool("no-validate", false, "make structural JSON checks only, without profile validation")
	var shownPushURL string
	pf := addPackageFlags(fs)
	if code, done := parseFlags(e, fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, "serve", "unexpected argument %q", fs.Arg(0))
	}
	if *listFaults {
		for _, f := range refserver.Faults() {
			fmt.Fprintln(e.stdout, f.Name)
		}
		return conformance.ExitPass
	}
	if err := refserver.CheckFaults(*faults); err != nil {
		return usageError(e, "serve", "%v", err)
	}
	if *pushURL != "" {
		u, err := url.Parse(*pushURL)
		if err != nil {
			return usageError(e, "serve", "--push-url is not a URL")
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageError(e, "serve", "--push-url %q is not an absolute http or https URL", u.Redacted())
		}
		shownPushURL = strings.TrimRight(u.Redacted(), "/")
	}
	if *noValidate && len(pf.igs) > 0 {
		return usageError(e, "serve", "--ig has no use with --no-validate")
	}

	opts := refserver.Options{Faults: *faults, PushURL: *pushURL, Log: &lockedWriter{w: e.stderr}}
	note := "validation: none (--no-validate): writes get structural JSON checks only"
	if !*noValidate {
		set, err := pf.load(e)
		if err != nil {
			fmt.Fprintf(e.stderr, "conform serve: load FHIR packages: %v\n(install hl7.fhir.r4.core with 'conform packages install', pass it with --ig, or serve with --no-validate)\n", err)
			return conformance.ExitUsage
		}
		v, err := validate.FromPackages(set, validate.Options{})
		if err != nil {
			return failure(e, "serve", fmt.Errorf("build validator: %w", err))
		}
		opts.Validator = v
		opts.Profiles, note = loadedProfiles(set)
	}
	srv, err := refserver.New(opts)
	if err != nil {
		return usageError(e, "serve", "%v", err)
	}
	base, done, err := srv.Start(e.ctx, *addr)
	if err != nil {
		return failure(e, "serve", err)
	}
	fmt.Fprintf(e.stdout, "conform reference server listening on %s\n", base)
	fmt.Fprintln(e.stdout, note)
	if len(*faults) > 0 {
		fmt.Fprintf(e.stdout, "faults on: %s\n", strings.Join(*faults, ", "))
	}
	if *pushURL != "" {
		fmt.Fprintf(e.stdout, "pushing BaRS responses and discharge notifications to %s/$process-message\n", shownPushURL)
	}
	if err := <-done; err != nil {
		return failure(e, "serve", err)
	}
	return conformance.ExitPass
}

// loadedProfiles keeps the UK Core profiles the package set defines and
// describes the validation the server will make.
func loadedProfiles(set *packages.Set) (map[string]string, string) {
	profiles := map[string]string{}
	sources := map[string]bool{}
	for typ, u := range refserver.DefaultProfiles() {
		if r, ok := set.Resolve(u); ok {
			profiles[typ] = u
			if r.Package != nil {
				sources[r.Package.ID()] = true
			}
		}
	}
	if len(profiles) == 0 {
		return profiles, "validation: FHIR R4 base definitions only; no UK Core profile is loaded (add --ig with UK Core)"
	}
	ids := make([]string, 0, len(sources))
	for id := range sources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return profiles, fmt.Sprintf("validation: writes judged against FHIR R4 and %d UK Core profiles (%s)", len(profiles), strings.Join(ids, ", "))
}

// lockedWriter serialises writes from the server's background pushes.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
