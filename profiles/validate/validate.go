// Package validate owns conform's FHIR R4 resource validator: it compiles
// StructureDefinition snapshots into cached validation plans and checks
// resources against them in layers (structure and primitive formats,
// cardinality, fixed and pattern values, slicing, extensions, bindings,
// references, FHIRPath constraints and the UK NHS Number check), reporting
// issues as the HL7 validator locates them.
package validate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/profiles/fhirjson"
	"github.com/nhsconform/conform/profiles/fhirpath"
	fhirmodel "github.com/nhsconform/conform/profiles/model"
	"github.com/nhsconform/conform/profiles/terminology"
)

// ResolveFunc finds a conformance resource by canonical URL (url or
// url|version) in the loaded packages.
type ResolveFunc func(canonical string) (map[string]any, bool)

// SnapshotFunc generates the snapshot of a differential-only StructureDefinition.
// A snapshot returned together with an error (a profile that loosens its base,
// see snapshot.LooseningError) is used: the error is the profile's own defect,
// which the HL7 validator reports when validating the profile, not its instances.
type SnapshotFunc func(sd map[string]any) (map[string]any, error)

// XMLDecodeFunc converts a FHIR XML resource into the shared JSON representation.
type XMLDecodeFunc func(data []byte) (map[string]any, error)

// XMLPositionsFunc converts a FHIR XML resource as XMLDecodeFunc does and
// also returns where its elements are, to give issues a line and column.
type XMLPositionsFunc func(data []byte) (map[string]any, SourceLocator, error)

// SourceLocator finds the line and column, in the document a resource was
// read from, of the element at a path of the resource's JSON representation.
type SourceLocator interface {
	Locate(path []fhirjson.Step) (line, column int, ok bool)
}

// Options configure a Validator.
type Options struct {
	// Resolve finds StructureDefinitions, ValueSets and CodeSystems. Required.
	Resolve ResolveFunc
	// Terminology checks bindings; nil builds one over Resolve without a server.
	Terminology *terminology.Service
	// FHIRPath evaluates constraints; nil builds an engine over Model.
	FHIRPath *fhirpath.Engine
	// Model is the R4 type model; nil builds one over Resolve.
	Model *fhirmodel.Model
	// Snapshot generates snapshots for differential-only profiles; nil makes
	// such profiles unusable (reported as an error issue).
	Snapshot SnapshotFunc
	// DecodeXML converts XML input; nil rejects XML input with an error issue.
	DecodeXML XMLDecodeFunc
	// DecodeXMLPositions, when set, is used instead of DecodeXML and gives
	// issues on XML input their line and column.
	DecodeXMLPositions XMLPositionsFunc
	// NHSNumberSeverity is the severity of an NHS Number failing its
	// Modulus 11 check; empty means error.
	NHSNumberSeverity conformance.Severity
}

// Validator validates FHIR R4 resources; it is safe for concurrent use and
// compiles each profile once.
type Validator struct {
	opts Options
	tx   *terminology.Service
	fp   *fhirpath.Engine

	plans boundedCache // canonical -> *planEntry
	exprs boundedCache // expression -> *compiled
	// systemKinds caches what a Coding.system URL resolves to.
	systemKinds boundedCache // url -> string (resource type or "")
	// typePlans caches the plans of base types by type name.
	typePlans boundedCache // type name -> *planEntry
	// runs keeps released runs so their slices and caches are reused.
	runs sync.Pool
	// spans keeps the *fhirjson.Spans of decoded documents for reuse.
	spans sync.Pool
}

type compiled struct {
	e   *fhirpath.Expression
	err error
}

type planEntry struct {
	p   *plan
	err error
}

// New returns a Validator.
func New(opts Options) (*Validator, error) {
	if opts.Resolve == nil {
		return nil, errors.New("new validator: no resolver for conformance resources")
	}
	if opts.NHSNumberSeverity == "" {
		opts.NHSNumberSeverity = conformance.SeverityError
	}
	switch opts.NHSNumberSeverity {
	case conformance.SeverityError, conformance.SeverityWarning, conformance.SeverityInformation, conformance.SeverityFatal:
	default:
		return nil, fmt.Errorf("new validator: unknown NHS Number severity %q", opts.NHSNumberSeverity)
	}
	tx := opts.Terminology
	if tx == nil {
		tx = terminology.New(terminology.ResolveFunc(opts.Resolve), nil)
	}
	if _, ok := opts.Resolve(model("Resource")); !ok {
		return nil, errors.New("new validator: the FHIR R4 core package is not loaded (no definition of Resource)")
	}
	fp := opts.FHIRPath
	if fp == nil {
		m := opts.Model
		if m == nil {
			m = fhirmodel.New(opts.Resolve)
		}
		fp = fhirpath.NewEngine(fhirpath.Options{
			Model:        fhirpath.FromModel(m),
			Terminology:  txAdapter{tx},
			CollectionAs: true,
			NoPathChecks: true,
		})
	}
	return &Validator{opts: opts, tx: tx, fp: fp}, nil
}

func model(typeName string) string { return "http://hl7.org/fhir/StructureDefinition/" + typeName }

// ProfileError reports a profile that cannot be used for validation.
type ProfileError struct {
	URL    string
	Reason string
}

// Error implements error.
func (e *ProfileError) Error() string {
	return fmt.Sprintf("profile %s: %s", e.URL, e.Reason)
}

// planFor returns the compiled plan of the StructureDefinition with the
// canonical URL.
func (v *Validator) planFor(canonical string) (*plan, error) {
	if e, ok := v.plans.load(canonical); ok {
		pe := e.(*planEntry)
		return pe.p, pe.err
	}
	p, err := v.compile(canonical)
	pe := v.plans.loadOrStore(canonical, &planEntry{p, err}).(*planEntry)
	return pe.p, pe.err
}

func (v *Validator) compile(canonical string) (*plan, error) {
	sd, ok := v.opts.Resolve(canonical)
	if !ok {
		return nil, &ProfileError{URL: canonical, Reason: "not found in the loaded packages"}
	}
	if sstr(sd, "resourceType") != "StructureDefinition" {
		return nil, &ProfileError{URL: canonical, Reason: "is a " + sstr(sd, "resourceType") + ", not a StructureDefinition"}
	}
	if sobj(sd, "snapshot") == nil {
		if v.opts.Snapshot == nil {
			return nil, &ProfileError{URL: canonical, Reason: "has no snapshot and no snapshot generator is configured"}
		}
		full, err := v.opts.Snapshot(sd)
		if err != nil && full == nil {
			return nil, &ProfileError{URL: canonical, Reason: "generate snapshot: " + err.Error()}
		}
		sd = full
	}
	p, err := compilePlan(sd)
	if err != nil {
		return nil, &ProfileError{URL: canonical, Reason: err.Error()}
	}
	return p, nil
}

func (v *Validator) expression(expr string) (*fhirpath.Expression, error) {
	if c, ok := v.exprs.load(expr); ok {
		ce := c.(*compiled)
		return ce.e, ce.err
	}
	e, err := v.fp.Compile(expr)
	v.exprs.loadOrStore(expr, &compiled{e, err})
	return e, err
}

// Validate implements conformance.Validator: it reads resource (JSON, or XML
// when a decoder is configured) and validates it against its base
// definition, its meta.profile entries and profiles.
func (v *Validator) Validate(ctx context.Context, resource []byte, profiles ...string) (conformance.Outcome, error) {
	trimmed := bytes.TrimLeft(resource, " \t\r\n\xef\xbb\xbf")
	if len(trimmed) > 0 && trimmed[0] == '<' {
		var res map[string]any
		var loc SourceLocator
		var err error
		switch {
		case v.opts.DecodeXMLPositions != nil:
			res, loc, err = v.opts.DecodeXMLPositions(resource)
		case v.opts.DecodeXML != nil:
			res, err = v.opts.DecodeXML(resource)
		default:
			return conformance.Outcome{Issues: []conformance.Issue{{Severity: conformance.SeverityFatal, Code: "structure", Message: "XML input is not supported: no XML decoder is configured", MessageID: "xml-unsupported"}}}, nil
		}
		if err != nil {
			return conformance.Outcome{Issues: []conformance.Issue{{Severity: conformance.SeverityFatal, Code: "structure", Message: "Error parsing XML: " + err.Error(), MessageID: "xml-syntax"}}}, nil
		}
		return v.validateResource(ctx, res, nil, nil, loc, profiles)
	}
	spans, _ := v.spans.Get().(*fhirjson.Spans)
	if spans == nil {
		spans = new(fhirjson.Spans)
	}
	defer v.spans.Put(spans)
	res, err := fhirjson.DecodeSpans(resource, spans)
	if err != nil {
		is := conformance.Issue{Severity: conformance.SeverityFatal, Code: "structure", Message: "Error parsing JSON: " + err.Error(), MessageID: "json-syntax"}
		var se *fhirjson.SyntaxError
		if errors.As(err, &se) {
			is.Line, is.Column = se.Line, se.Column
			switch se.Kind {
			case fhirjson.KindDuplicateKey:
				is.MessageID = "json-duplicate-key"
			case fhirjson.KindInvalidUTF8:
				is.MessageID = "json-invalid-utf8"
			case fhirjson.KindTooDeep:
				is.MessageID = "json-too-deep"
			}
		}
		return conformance.Outcome{Issues: []conformance.Issue{is}}, nil
	}
	obj, ok := res.(map[string]any)
	if !ok {
		return conformance.Outcome{Issues: []conformance.Issue{{Severity: conformance.SeverityFatal, Code: "structure", Message: "The JSON document is not an object, so it is not a FHIR resource", MessageID: "json-not-object"}}}, nil
	}
	return v.validateResource(ctx, obj, resource, spans, nil, profiles)
}

// ValidateResource validates an already decoded resource. source, when not
// nil, is the JSON it was decoded from and gives issues their line and column.
func (v *Validator) ValidateResource(ctx context.Context, res map[string]any, source []byte, profiles ...string) (conformance.Outcome, error) {
	return v.validateResource(ctx, res, source, nil, nil, profiles)
}

// validateResource is ValidateResource with the spans recorded while
// decoding source, when there are any, to locate issues faster, or with the
// locator of a resource read from XML.
func (v *Validator) validateResource(ctx context.Context, res map[string]any, source []byte, spans *fhirjson.Spans, loc SourceLocator, profiles []string) (conformance.Outcome, error) {
	r := v.newRun(ctx, source, res)
	r.spans = spans
	r.loc = loc
	defer v.releaseRun(r)
	out := conformance.Outcome{}
	rt, _ := res["resourceType"].(string)
	if rt == "" {
		r.add(conformance.SeverityFatal, "structure", "resource-type-missing", "Unable to find resourceType property")
		return r.outcome(out), nil
	}
	base, err := v.planFor(model(rt))
	if err != nil || base.kind != "resource" {
		r.path = []seg{{expr: rt, index: -1}}
		r.nodes = []*fhirpath.Node{nil}
		r.add(conformance.SeverityFatal, "structure", "resource-type-unknown", fmt.Sprintf("Unknown resource type '%s'", rt))
		return r.outcome(out), nil
	}
	out.Profiles = append(out.Profiles, canonicalOf(base))
	var extra []*plan
	seen := map[string]bool{}
	addProfile := func(url string, fromMeta bool) {
		if seen[url] || url == model(rt) {
			return
		}
		seen[url] = true
		p, err := v.planFor(url)
		if err != nil {
			sev := conformance.SeverityError
			msg := fmt.Sprintf("Profile reference '%s' has not been checked because it could not be found", url)
			id := "profile-unknown"
			var pe *ProfileError
			if errors.As(err, &pe) && !strings.Contains(pe.Reason, "not found") {
				msg = fmt.Sprintf("Profile '%s' could not be used: %s", url, pe.Reason)
				id = "profile-unusable"
			}
			if fromMeta {
				sev = conformance.SeverityWarning
			}
			r.path = []seg{{expr: rt, index: -1}}
			r.add(sev, "not-found", id, msg)
			r.path = nil
			return
		}
		if p.typeName != rt {
			r.path = []seg{{expr: rt, index: -1}}
			r.add(conformance.SeverityError, "structure", "profile-wrong-type", fmt.Sprintf("Profile '%s' is for %s, not %s", url, p.typeName, rt))
			r.path = nil
			return
		}
		extra = append(extra, p)
		out.Profiles = append(out.Profiles, canonicalOf(p))
	}
	if meta, ok := res["meta"].(map[string]any); ok {
		for _, pr := range slist(meta, "profile") {
			if s, ok := pr.(string); ok {
				addProfile(s, true)
			}
		}
	}
	for _, pr := range profiles {
		addProfile(pr, false)
	}

	r.validateRoot(res, base, extra)
	if err := ctx.Err(); err != nil {
		return conformance.Outcome{}, fmt.Errorf("validate %s: %w", rt, err)
	}
	return r.outcome(out), nil
}

// maxReusedKids bounds the node cache kept for the next run, so one large
// Bundle does not make clearing it costly for every later resource.
const maxReusedKids = 256

func (v *Validator) newRun(ctx context.Context, source []byte, root map[string]any) *run {
	r, _ := v.runs.Get().(*run)
	if r == nil {
		r = &run{v: v}
	}
	r.ctx, r.source, r.root = ctx, source, root
	return r
}

// releaseRun returns r to the pool keeping its type plan cache (a cache of
// the Validator's own) and the capacity of its stacks, holding nothing of
// the resource just validated.
func (v *Validator) releaseRun(r *run) {
	path, nodes := r.path[:cap(r.path)], r.nodes[:cap(r.nodes)]
	resources, bundles := r.resources[:cap(r.resources)], r.bundles[:cap(r.bundles)]
	clear(path)
	clear(nodes)
	clear(resources)
	clear(bundles)
	kids := r.kids
	if len(kids) > maxReusedKids {
		kids = nil
	}
	clear(kids)
	failed := r.failed
	if len(failed) > maxReusedKids {
		failed = nil
	}
	clear(failed)
	located := r.located
	located.Reset(nil, nil)
	*r = run{v: v, types: r.types, path: path[:0], nodes: nodes[:0], resources: resources[:0], bundles: bundles[:0], kids: kids, failed: failed, located: located, steps: r.steps[:0]}
	v.runs.Put(r)
}

func canonicalOf(p *plan) string {
	if p.version != "" {
		return p.url + "|" + p.version
	}
	return p.url
}

func (r *run) outcome(out conformance.Outcome) conformance.Outcome {
	seen := make(map[string]bool, len(r.issues))
	issues := r.issues[:0]
	for _, is := range r.issues {
		k := string(is.Severity) + "\x00" + is.Expression + "\x00" + is.Message
		if seen[k] {
			continue
		}
		seen[k] = true
		issues = append(issues, is)
	}
	sort.SliceStable(issues, func(i, j int) bool {
		a, b := issues[i], issues[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		if a.Expression != b.Expression {
			return a.Expression < b.Expression
		}
		if ra, rb := a.Severity.Rank(), b.Severity.Rank(); ra != rb {
			return ra < rb
		}
		return a.Message < b.Message
	})
	out.Issues = issues
	if out.Issues == nil {
		out.Issues = []conformance.Issue{}
	}
	return out
}

// txAdapter answers FHIRPath memberOf() from the terminology service.
type txAdapter struct{ s *terminology.Service }

func (a txAdapter) MemberOf(ctx context.Context, valueSet, system, code string) (bool, bool, error) {
	chk, err := a.s.CheckCode(ctx, valueSet, system, code)
	if err != nil {
		return false, false, nil
	}
	switch chk.Verdict {
	case terminology.Member:
		return true, true, nil
	case terminology.NotMember:
		return false, true, nil
	}
	return false, false, nil
}

func (a txAdapter) Subsumes(ctx context.Context, system, x, y string) (bool, bool, error) {
	cs, ok := a.s.CodeSystem(system)
	if !ok || !cs.Complete() {
		return false, false, nil
	}
	for _, d := range cs.Descendants(x, true) {
		if d == y {
			return true, true, nil
		}
	}
	return false, true, nil
}

// systemKind returns the resource type a code system URL resolves to ("" when
// none), cached.
func (v *Validator) systemKind(url string) string {
	if k, ok := v.systemKinds.load(url); ok {
		return k.(string)
	}
	kind := ""
	if res, ok := v.opts.Resolve(url); ok {
		kind = sstr(res, "resourceType")
	}
	v.systemKinds.loadOrStore(url, kind)
	return kind
}

// typePlanEntry returns the plan of the base definition of a FHIR type.
func (v *Validator) typePlanEntry(name string) *planEntry {
	if e, ok := v.typePlans.load(name); ok {
		return e.(*planEntry)
	}
	p, err := v.planFor(model(name))
	return v.typePlans.loadOrStore(name, &planEntry{p, err}).(*planEntry)
}

// maxCacheEntries bounds each of a Validator's caches: their keys (profile
// URLs, code systems, type names) can come from the instances validated, so
// a stream of distinct ones must not grow them without end.
const maxCacheEntries = 50000

// boundedCache is a concurrent map from strings that stops taking entries
// at maxCacheEntries and clones each key it keeps, so an entry never holds
// on to the document its key was read from.
type boundedCache struct {
	m sync.Map
	n atomic.Int64
}

func (c *boundedCache) load(key string) (any, bool) { return c.m.Load(key) }

// loadOrStore returns the value kept for key, keeping val when there is
// none and room for it.
func (c *boundedCache) loadOrStore(key string, val any) any {
	if v, ok := c.m.Load(key); ok {
		return v
	}
	if c.n.Load() >= maxCacheEntries {
		return val
	}
	v, loaded := c.m.LoadOrStore(strings.Clone(key), val)
	if !loaded {
		c.n.Add(1)
	}
	return v
}
