package packages

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/nhsconform/conform/profiles/fhirxml"
	"github.com/nhsconform/conform/profiles/model"
)

// XMLDecoder converts a FHIR XML resource into the shared JSON shape.
type XMLDecoder interface {
	Decode(data []byte) (map[string]any, error)
}

// Set is several packages with a canonical index over their resources. It is
// safe for concurrent use.
type Set struct {
	mu       sync.RWMutex
	packages []*Package
	byURL    map[string][]*Resource
	byType   map[string][]*Resource
	warnings []Warning
	xml      XMLDecoder
	model    *model.Model
	shared   sync.Map
}

// NewSet returns a Set holding pkgs, added in order.
func NewSet(pkgs ...*Package) *Set {
	s := &Set{byURL: map[string][]*Resource{}, byType: map[string][]*Resource{}}
	for _, p := range pkgs {
		s.Add(p)
	}
	return s
}

// Add adds a package and indexes its resources. A package whose name#version
// is already in the set is ignored with a warning; a canonical URL already
// defined by another resource is reported as a warning.
func (s *Set) Add(p *Package) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.packages {
		if q == p || q.ID() == p.ID() {
			s.warnings = append(s.warnings, Warning{Kind: WarnDuplicatePackage, Package: p.ID(), Subject: p.Source, Message: "already loaded from " + q.Source + "; ignored"})
			return
		}
	}
	p.setOwner(s)
	s.packages = append(s.packages, p)
	s.warnings = append(s.warnings, p.Warnings...)
	for _, r := range p.Resources {
		s.byType[r.ResourceType] = append(s.byType[r.ResourceType], r)
		if r.URL == "" {
			continue
		}
		if prev := s.byURL[r.URL]; len(prev) > 0 {
			s.warnings = append(s.warnings, duplicateWarning(r, prev))
		}
		s.byURL[r.URL] = append(s.byURL[r.URL], r)
	}
}

func duplicateWarning(r *Resource, prev []*Resource) Warning {
	others := make([]string, len(prev))
	for i, o := range prev {
		others[i] = definedBy(o)
	}
	return Warning{
		Kind:    WarnDuplicateCanonical,
		Package: r.Package.ID(),
		Subject: r.URL,
		Message: definedBy(r) + " is also defined by " + strings.Join(others, ", "),
	}
}

// definedBy names a resource with its type and version for warnings.
func definedBy(r *Resource) string {
	v := r.Version
	if v == "" {
		v = "no version"
	}
	return fmt.Sprintf("%s (%s, %s)", r.String(), r.ResourceType, v)
}

// Resolve finds a resource by canonical: "url" gives the latest version,
// "url|version" that version (or, when none matches exactly, the latest whose
// version starts with version followed by a dot, as FHIR allows for partial
// versions). Among equal versions the first package added wins. A canonical
// that hl7.fhir.r4.core and another package both define resolves, without a
// version, to the other package's resource.
func (s *Set) Resolve(canonical string) (*Resource, bool) {
	url, version, hasVersion := strings.Cut(canonical, "|")
	s.mu.RLock()
	cands := s.byURL[url]
	s.mu.RUnlock()
	if len(cands) == 0 {
		return nil, false
	}
	if !hasVersion {
		return latest(cands), true
	}
	for _, r := range cands {
		if r.Version == version {
			return r, true
		}
	}
	var partial []*Resource
	for _, r := range cands {
		if strings.HasPrefix(r.Version, version+".") {
			partial = append(partial, r)
		}
	}
	if len(partial) > 0 {
		return latest(partial), true
	}
	return nil, false
}

// ResolveJSON resolves a canonical and decodes the resource; it returns false
// when the canonical is unknown or the resource cannot be read.
func (s *Set) ResolveJSON(canonical string) (map[string]any, bool) {
	r, ok := s.Resolve(canonical)
	if !ok {
		return nil, false
	}
	m, err := r.JSON()
	if err != nil {
		return nil, false
	}
	return m, true
}

// latest picks the resource a version-less canonical means: one from a
// package other than hl7.fhir.r4.core if any (core stamps its own version,
// 4.0.1, on everything it carries, so packages that republish its canonicals,
// such as hl7.terminology.r4, hold the newer content under lower versions),
// then the highest version, then the first added.
func latest(rs []*Resource) *Resource {
	best := rs[0]
	for _, r := range rs[1:] {
		rc, bc := fromCore(r), fromCore(best)
		if rc != bc {
			if bc {
				best = r
			}
			continue
		}
		if CompareVersions(r.Version, best.Version) > 0 {
			best = r
		}
	}
	return best
}

func fromCore(r *Resource) bool { return r.Package != nil && r.Package.Name == CoreName }

// ByType returns the resources of a resource type, in the order their
// packages were added.
func (s *Set) ByType(resourceType string) []*Resource {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]*Resource(nil), s.byType[resourceType]...)
}

// Packages returns the packages in the order they were added.
func (s *Set) Packages() []*Package {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]*Package(nil), s.packages...)
}

// Package returns the package with the given name (the first added).
func (s *Set) Package(name string) (*Package, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, p := range s.packages {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

// Warnings returns what was found while building the set: duplicate
// canonicals, unresolved dependencies, skipped files.
func (s *Set) Warnings() []Warning {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]Warning(nil), s.warnings...)
}

// AddWarning records a warning about the set.
func (s *Set) AddWarning(w Warning) {
	s.mu.Lock()
	s.warnings = append(s.warnings, w)
	s.mu.Unlock()
}

// SetXMLDecoder replaces the decoder used to convert XML resources of the
// set's packages on first JSON() use. By default a set that holds the FHIR
// base definitions (hl7.fhir.r4.core) converts with profiles/fhirxml.
func (s *Set) SetXMLDecoder(d XMLDecoder) {
	s.mu.Lock()
	s.xml = d
	s.mu.Unlock()
}

func (s *Set) decodeXML(data []byte) (map[string]any, error) {
	d := s.xmlDecoder()
	if d == nil {
		return nil, ErrNoXMLDecoder
	}
	return d.Decode(xml10(data))
}

// xmlDecoder returns the decoder set with SetXMLDecoder, else a fhirxml
// decoder whose type model reads the base definitions of hl7.fhir.r4.core
// from this set; nil when the set cannot define the base types.
func (s *Set) xmlDecoder() XMLDecoder {
	s.mu.RLock()
	d := s.xml
	s.mu.RUnlock()
	if d != nil {
		return d
	}
	if _, ok := s.Resolve(model.CanonicalBase + "Resource"); !ok {
		return nil
	}
	m := s.Model()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.xml == nil {
		s.xml = fhirxml.NewDecoder(m)
	}
	return s.xml
}

// Model returns the R4 type model read from the set's base definitions
// (hl7.fhir.r4.core), built once and shared by every user of the set; nil
// when the set does not define the base types.
func (s *Set) Model() *model.Model {
	if _, ok := s.Resolve(model.CanonicalBase + "Resource"); !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.model == nil {
		s.model = model.New(s.resolveJSONDefinition)
	}
	return s.model
}

// Shared returns the value kept in the set under key, building it with build
// on first use. Engines built over a set (snapshot generators, validators)
// keep themselves here so that every user of the set shares one, with its
// caches. Keys should be unexported types of the calling package.
func (s *Set) Shared(key any, build func() any) any {
	if v, ok := s.shared.Load(key); ok {
		return v
	}
	v, _ := s.shared.LoadOrStore(key, build())
	return v
}

// resolveJSONDefinition resolves definitions held as JSON only, so that
// building the type model never needs to convert XML itself.
func (s *Set) resolveJSONDefinition(url string) (map[string]any, bool) {
	r, ok := s.Resolve(url)
	if !ok || r.Format != FormatJSON {
		return nil, false
	}
	m, err := r.JSON()
	if err != nil {
		return nil, false
	}
	return m, true
}

// CompareVersions orders package and resource versions: dot-separated parts
// compare numerically when both are numbers, a release sorts after its
// pre-releases (1.0.0-alpha < 1.0.0), and the empty version sorts first.
func CompareVersions(a, b string) int {
	if a == b {
		return 0
	}
	if a == "" {
		return -1
	}
	if b == "" {
		return 1
	}
	a, _, _ = strings.Cut(a, "+")
	b, _, _ = strings.Cut(b, "+")
	aMain, aPre, aHasPre := strings.Cut(a, "-")
	bMain, bPre, bHasPre := strings.Cut(b, "-")
	if c := compareDotted(aMain, bMain); c != 0 {
		return c
	}
	switch {
	case aHasPre && !bHasPre:
		return -1
	case !aHasPre && bHasPre:
		return 1
	}
	return compareDotted(aPre, bPre)
}

func compareDotted(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		if i >= len(as) {
			return -1
		}
		if i >= len(bs) {
			return 1
		}
		if c := comparePart(as[i], bs[i]); c != 0 {
			return c
		}
	}
	return 0
}

func comparePart(a, b string) int {
	an, aerr := strconv.ParseUint(a, 10, 64)
	bn, berr := strconv.ParseUint(b, 10, 64)
	switch {
	case aerr == nil && berr == nil:
		switch {
		case an < bn:
			return -1
		case an > bn:
			return 1
		}
		return 0
	case aerr == nil:
		return -1
	case berr == nil:
		return 1
	}
	return strings.Compare(a, b)
}

func (s *Set) hasXMLDecoder() bool { return s.xmlDecoder() != nil }

func sortVersions(vs []string) {
	sort.Slice(vs, func(i, j int) bool { return CompareVersions(vs[i], vs[j]) < 0 })
}
