// Package refserver is conform's reference FHIR R4 server: an in-memory,
// versioned store answering the interactions the workflow packs exercise
// (CRUD, conditional create and update, search, history, transaction and
// batch, $validate, $process-message with the BaRS behaviour, and a
// CapabilityStatement), validating writes against UK Core, with named fault
// switches that each break one behaviour.
package refserver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/profiles/model"
)

// BasePath is the path under which the server answers FHIR requests.
const BasePath = "/fhir"

// Defaults for the zero values of Options.
const (
	DefaultMaxBodyBytes = 8 << 20
	DefaultMaxVersions  = 200_000
	DefaultMaxStoreSize = 512 << 20
	DefaultPushTimeout  = 10 * time.Second
	maxPendingPushes    = 64
	maxRememberedIDs    = 100_000
)

// Options configures a Server.
type Options struct {
	// Validator judges every written resource; nil means structural JSON
	// checks only (resourceType, id), with no profile validation.
	Validator conformance.Validator
	// Profiles maps a resource type to the profile URL writes of that type are
	// validated against and the CapabilityStatement advertises; nil means
	// DefaultProfiles().
	Profiles map[string]string
	// Faults names the faults to switch on (see Faults).
	Faults []string
	// Clock gives the time stamped into meta.lastUpdated; nil means time.Now.
	Clock func() time.Time
	// PushURL is the FHIR base of the receiving endpoint that BaRS responses
	// and discharge notifications are POSTed to, at PushURL + "/$process-message".
	// Empty means nothing is pushed.
	PushURL string
	// PushClient sends pushed messages; nil means a client with DefaultPushTimeout.
	PushClient *http.Client
	// BaseURL is the FHIR base named in pushed messages; empty means the URL
	// Start listens on, else the base of the first request.
	BaseURL string
	// Log receives one line per failed push; nil discards them.
	Log io.Writer
	// MaxBodyBytes bounds a request body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxVersions bounds the resource versions held; 0 means DefaultMaxVersions.
	MaxVersions int
	// MaxStoreSize bounds the bytes of stored resource versions; 0 means DefaultMaxStoreSize.
	MaxStoreSize int64
}

// Server is the reference FHIR server; it is an http.Handler safe for
// concurrent use.
type Server struct {
	opts     Options
	faults   faultSet
	profiles map[string]string
	store    *store
	started  time.Time

	idsMu     sync.Mutex
	seenIDs   map[string]bool
	seenOrder []string
	pushes    sync.WaitGroup
	pushSlots chan struct{}
	logMu     sync.Mutex
	base      atomic.Pointer[string]
}

// New returns a Server; it fails on an unknown fault name.
func New(opts Options) (*Server, error) {
	if err := CheckFaults(opts.Faults); err != nil {
		return nil, fmt.Errorf("configure reference server: %w", err)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxVersions <= 0 {
		opts.MaxVersions = DefaultMaxVersions
	}
	if opts.MaxStoreSize <= 0 {
		opts.MaxStoreSize = DefaultMaxStoreSize
	}
	if opts.PushClient == nil {
		opts.PushClient = &http.Client{Timeout: DefaultPushTimeout}
	}
	opts.PushURL = strings.TrimRight(opts.PushURL, "/")
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	profiles := opts.Profiles
	if profiles == nil {
		profiles = DefaultProfiles()
	}
	fs := faultSet{}
	for _, f := range opts.Faults {
		fs[f] = true
	}
	st := newStore(opts.MaxVersions, opts.MaxStoreSize)
	st.alter = fs.storeAlteration()
	return &Server{
		opts:      opts,
		faults:    fs,
		profiles:  profiles,
		store:     st,
		started:   opts.Clock(),
		seenIDs:   map[string]bool{},
		pushSlots: make(chan struct{}, maxPendingPushes),
	}, nil
}

// DefaultProfiles returns the UK Core STU2 (2.0.2) profile for each resource
// type that has one.
func DefaultProfiles() map[string]string {
	out := map[string]string{}
	for _, t := range []string{
		"AllergyIntolerance", "Appointment", "Composition", "Condition", "DiagnosticReport", "Encounter",
		"FamilyMemberHistory", "HealthcareService", "Immunization", "List", "Location", "Medication",
		"MedicationAdministration", "MedicationDispense", "MedicationRequest", "MedicationStatement",
		"Observation", "Organization", "Patient", "Practitioner", "PractitionerRole", "Procedure",
		"RelatedPerson", "Schedule", "ServiceRequest", "Slot", "Specimen",
	} {
		out[t] = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-" + t
	}
	return out
}

// Wait blocks until every pushed message has been sent or has failed.
func (s *Server) Wait() { s.pushes.Wait() }

// Start serves the Server on addr (host:port; port 0 picks a free one) until
// ctx ends, and returns the FHIR base URL, e.g. http://127.0.0.1:8080/fhir.
// The returned channel yields the serving error (nil after a clean shutdown)
// once serving has stopped and pending pushes are done.
func (s *Server) Start(ctx context.Context, addr string) (string, <-chan error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	base := "http://" + ln.Addr().String() + BasePath
	s.base.CompareAndSwap(nil, &base)
	done := make(chan error, 1)
	go func() {
		err := hs.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.Wait()
		done <- err
	}()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(shutdown)
	}()
	return base, done, nil
}

// ServeHTTP answers one FHIR request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			writeOutcome(w, s, http.StatusInternalServerError, "exception", "internal error while handling the request", "")
		}
	}()
	s.echoHeaders(w, r)
	if s.base.Load() == nil {
		b := baseURL(r)
		s.base.CompareAndSwap(nil, &b)
	}
	if !acceptable(r) {
		writeOutcome(w, s, http.StatusNotAcceptable, "not-supported", "this server only produces application/fhir+json", "")
		return
	}
	path := r.URL.Path
	if path != BasePath && !strings.HasPrefix(path, BasePath+"/") {
		writeOutcome(w, s, http.StatusNotFound, "not-found", "no FHIR endpoint at "+truncate(path, 100)+"; the base is "+BasePath, "")
		return
	}
	rest := strings.Trim(strings.TrimPrefix(path, BasePath), "/")
	var seg []string
	if rest != "" {
		seg = strings.Split(rest, "/")
	}
	s.route(w, r, seg)
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, seg []string) {
	switch {
	case len(seg) == 0:
		switch r.Method {
		case http.MethodPost:
			s.handleBundle(w, r)
		case http.MethodGet, http.MethodHead:
			s.handleSearch(w, r, "")
		default:
			methodNotAllowed(w, s, r, "GET, POST")
		}
	case len(seg) == 1 && seg[0] == "metadata":
		if allowMethod(w, s, r, http.MethodGet) {
			s.handleMetadata(w, r)
		}
	case len(seg) == 1 && seg[0] == "_history":
		if allowMethod(w, s, r, http.MethodGet) {
			s.handleHistory(w, r, "", "")
		}
	case len(seg) == 1 && seg[0] == "$process-message":
		if allowMethod(w, s, r, http.MethodPost) {
			s.handleProcessMessage(w, r)
		}
	case !model.IsR4ResourceType(seg[0]) || seg[0] == "Parameters" || seg[0] == "OperationOutcome":
		writeOutcome(w, s, http.StatusNotFound, "not-supported", "unknown or unsupported resource type "+quote(seg[0]), "")
	case len(seg) == 1:
		s.routeType(w, r, seg[0])
	case len(seg) == 2 && seg[1] == "_search":
		if allowMethod(w, s, r, http.MethodPost) {
			s.handleSearch(w, r, seg[0])
		}
	case len(seg) == 2 && seg[1] == "$validate":
		if allowMethod(w, s, r, http.MethodPost) {
			s.handleValidate(w, r, seg[0])
		}
	case len(seg) == 2 && seg[1] == "_history":
		if allowMethod(w, s, r, http.MethodGet) {
			s.handleHistory(w, r, seg[0], "")
		}
	case !validID(seg[1]):
		writeOutcome(w, s, http.StatusBadRequest, "invalid", "invalid resource id "+quote(seg[1]), "")
	case len(seg) == 2:
		s.routeInstance(w, r, seg[0], seg[1])
	case len(seg) == 3 && seg[2] == "$validate":
		if allowMethod(w, s, r, http.MethodPost) {
			s.handleValidate(w, r, seg[0])
		}
	case len(seg) == 3 && seg[2] == "_history":
		if allowMethod(w, s, r, http.MethodGet) {
			s.handleHistory(w, r, seg[0], seg[1])
		}
	case len(seg) == 4 && seg[2] == "_history":
		if allowMethod(w, s, r, http.MethodGet) {
			s.handleVRead(w, r, seg[0], seg[1], seg[3])
		}
	default:
		writeOutcome(w, s, http.StatusNotFound, "not-supported", "no interaction at "+truncate(r.URL.Path, 100), "")
	}
}

func (s *Server) routeType(w http.ResponseWriter, r *http.Request, typ string) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.handleSearch(w, r, typ)
	case http.MethodPost:
		s.handleCreate(w, r, typ)
	case http.MethodPut:
		s.handleConditionalUpdate(w, r, typ)
	case http.MethodDelete:
		s.handleConditionalDelete(w, r, typ)
	default:
		methodNotAllowed(w, s, r, "GET, POST, PUT, DELETE")
	}
}

func (s *Server) routeInstance(w http.ResponseWriter, r *http.Request, typ, id string) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.handleRead(w, r, typ, id)
	case http.MethodPut:
		s.handleUpdate(w, r, typ, id)
	case http.MethodDelete:
		s.handleDelete(w, r, typ, id)
	default:
		methodNotAllowed(w, s, r, "GET, PUT, DELETE")
	}
}

// echoHeaders copies the request and correlation ids onto the response.
func (s *Server) echoHeaders(w http.ResponseWriter, r *http.Request) {
	if v := r.Header.Get("X-Request-Id"); v != "" && safeHeader(v) && !s.faults.on(FaultDropRequestID) {
		w.Header().Set("X-Request-Id", v)
	}
	if v := r.Header.Get("X-Correlation-Id"); v != "" && safeHeader(v) && !s.faults.on(FaultDropCorrelationID) {
		w.Header().Set("X-Correlation-Id", v)
	}
}

// publicBase is the FHIR base this server names itself by in pushed messages.
func (s *Server) publicBase() string {
	if s.opts.BaseURL != "" {
		return s.opts.BaseURL
	}
	if b := s.base.Load(); b != nil {
		return *b
	}
	return "http://localhost" + BasePath
}

func (s *Server) now() time.Time { return s.opts.Clock().UTC().Truncate(time.Millisecond) }

func (s *Server) logf(format string, args ...any) {
	if s.opts.Log == nil {
		return
	}
	s.logMu.Lock()
	defer s.logMu.Unlock()
	fmt.Fprintf(s.opts.Log, format+"\n", args...)
}

// baseURL is the FHIR base as the client addressed it.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if host == "" || !safeHost(host) {
		host = "localhost"
	}
	return scheme + "://" + host + BasePath
}

func safeHost(h string) bool {
	if len(h) > 255 {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return false
		}
	}
	return true
}

func safeHeader(v string) bool {
	if len(v) > 256 {
		return false
	}
	for _, c := range v {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// validID reports whether id matches the FHIR id type: [A-Za-z0-9\-\.]{1,64}.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// truncate shortens s to at most n bytes, not splitting a UTF-8 character,
// and marks the cut with "...".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

func quote(s string) string { return fmt.Sprintf("%q", truncate(s, 100)) }
