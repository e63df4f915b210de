package packages

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// Well-known package names.
const (
	CoreName        = "hl7.fhir.r4.core"
	CoreVersion     = "4.0.1"
	TerminologyName = "hl7.terminology.r4"
)

// LoadOptions says which packages Load reads.
type LoadOptions struct {
	// Cache is the FHIR package cache dependencies are read from.
	Cache Cache
	// IGs are extra package sources: paths accepted by Open, or name#version
	// from the cache.
	IGs []string
	// NoTerminology skips loading hl7.terminology.r4 from the cache.
	NoTerminology bool
	// XMLDecoder converts XML resources; nil uses profiles/fhirxml with a type
	// model read from the loaded hl7.fhir.r4.core.
	XMLDecoder XMLDecoder
}

// Load builds a Set: hl7.fhir.r4.core#4.0.1 from the cache (unless an IG
// source is that package), the latest hl7.terminology.r4 in the cache if any,
// each IG source, and their dependencies from the cache. A missing dependency
// is a warning; a dependency for another FHIR version is skipped with a
// warning. A missing core package or an unreadable IG source is an error.
func Load(ctx context.Context, opts LoadOptions) (*Set, error) {
	s := NewSet()
	if opts.XMLDecoder != nil {
		s.SetXMLDecoder(opts.XMLDecoder)
	}
	var igs []*Package
	for _, src := range opts.IGs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("load packages: %w", err)
		}
		p, err := OpenSource(opts.Cache, src)
		if err != nil {
			return nil, fmt.Errorf("load packages: %w", err)
		}
		igs = append(igs, p)
	}
	if !hasName(igs, CoreName) {
		core, err := opts.Cache.Open(CoreName, CoreVersion)
		if err != nil {
			return nil, fmt.Errorf("load packages: %w", err)
		}
		s.Add(core)
	}
	if !opts.NoTerminology && !hasName(igs, TerminologyName) {
		if vs, err := opts.Cache.Versions(TerminologyName); err == nil && len(vs) > 0 {
			if p, err := opts.Cache.Open(TerminologyName, vs[len(vs)-1]); err == nil {
				s.Add(p)
			} else {
				s.AddWarning(Warning{Kind: WarnUnresolvedDependency, Subject: TerminologyName + "#" + vs[len(vs)-1], Message: err.Error()})
			}
		}
	}
	for _, p := range igs {
		s.Add(p)
	}
	if err := AddDependencies(ctx, s, opts.Cache); err != nil {
		return nil, fmt.Errorf("load packages: %w", err)
	}
	return s, nil
}

// OpenSource opens src as a path when it exists (a folder of loose
// resources as OpenFolder reads it), else as name#version from the cache.
func OpenSource(c Cache, src string) (*Package, error) {
	if _, err := os.Stat(src); err == nil {
		return OpenFolder(src)
	}
	if strings.Contains(src, "#") {
		name, version, err := ParseRef(src)
		if err != nil {
			return nil, err
		}
		return c.Open(name, version)
	}
	return nil, fmt.Errorf("package source %s: no such file or folder, and not name#version", src)
}

func hasName(ps []*Package, name string) bool {
	for _, p := range ps {
		if p.Name == name {
			return true
		}
	}
	return false
}

// AddDependencies adds to s, from the cache, the dependencies of every
// package in s, transitively. A dependency whose name is already in s is not
// loaded again. Missing dependencies become warnings.
func AddDependencies(ctx context.Context, s *Set, c Cache) error {
	seen := map[string]bool{}
	for i := 0; ; i++ {
		pkgs := s.Packages()
		if i >= len(pkgs) {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		p := pkgs[i]
		for _, name := range slices.Sorted(maps.Keys(p.Dependencies)) {
			version := p.Dependencies[name]
			ref := name + "#" + version
			if seen[ref] {
				continue
			}
			seen[ref] = true
			if _, ok := s.Package(name); ok {
				continue
			}
			dep, err := openDependency(c, name, version)
			if err != nil {
				s.AddWarning(Warning{Kind: WarnUnresolvedDependency, Package: p.ID(), Subject: ref, Message: dependencyMessage(err)})
				continue
			}
			if !fhirR4(dep.FHIRVersions) {
				s.AddWarning(Warning{Kind: WarnSkippedDependency, Package: p.ID(), Subject: dep.ID(), Message: "for FHIR " + strings.Join(dep.FHIRVersions, ", ") + ", not R4; not loaded"})
				continue
			}
			s.Add(dep)
		}
	}
}

func dependencyMessage(err error) string {
	var ni *NotInstalledError
	if errors.As(err, &ni) {
		return "not in the package cache " + ni.Dir
	}
	return err.Error()
}

// openDependency opens name#version from the cache; a version ending in .x,
// "latest" or "current" picks the latest installed match.
func openDependency(c Cache, name, version string) (*Package, error) {
	if ValidVersion(version) && c.Has(name, version) {
		return c.Open(name, version)
	}
	prefix := ""
	switch {
	case strings.HasSuffix(version, ".x"):
		prefix = strings.TrimSuffix(version, "x")
	case version == "latest" || version == "current" || version == "*":
	default:
		return nil, &NotInstalledError{Name: name, Version: version, Dir: c.Dir}
	}
	vs, err := c.Versions(name)
	if err != nil {
		return nil, err
	}
	for i := len(vs) - 1; i >= 0; i-- {
		if strings.HasPrefix(vs[i], prefix) {
			return c.Open(name, vs[i])
		}
	}
	return nil, &NotInstalledError{Name: name, Version: version, Dir: c.Dir}
}

func fhirR4(versions []string) bool {
	if len(versions) == 0 {
		return true
	}
	for _, v := range versions {
		if strings.HasPrefix(v, "4.0") {
			return true
		}
	}
	return false
}
