// Package terminology owns conform's code checking: CodeSystems and ValueSets
// read from loaded FHIR packages, ValueSet expansion offline (include and
// exclude, concept lists, whole local code systems, is-a filters, nested value
// sets, published expansions) and, for value sets that cannot be expanded
// offline, $validate-code calls to a terminology server.
package terminology

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// ResolveFunc finds a conformance resource by canonical URL (url or
// url|version) in the loaded packages.
// maxRemembered bounds how many unknown canonicals a Service remembers, so
// URLs taken from instances cannot grow it without end.
const maxRemembered = 10000

type ResolveFunc func(canonical string) (map[string]any, bool)

// Code is a code in a code system.
type Code struct {
	System string
	Code   string
}

// Concept is one code of a CodeSystem with its display and hierarchy.
type Concept struct {
	Code     string
	Display  string
	Parents  []string
	Abstract bool
	// Designations lists further displays (other languages, synonyms).
	Designations []string
}

// CodeSystem is a code system read from a package.
type CodeSystem struct {
	URL, Version, Name string
	// Content is CodeSystem.content: complete, fragment, example, not-present, supplement.
	Content       string
	CaseSensitive bool
	Concepts      map[string]*Concept
	children      map[string][]string
}

// Complete reports whether the code system lists all its codes.
func (cs *CodeSystem) Complete() bool { return cs.Content == "complete" || cs.Content == "" }

// Lookup finds a code, ignoring case when the code system is not case sensitive.
func (cs *CodeSystem) Lookup(code string) (*Concept, bool) {
	if c, ok := cs.Concepts[code]; ok {
		return c, true
	}
	if !cs.CaseSensitive {
		for k, c := range cs.Concepts {
			if strings.EqualFold(k, code) {
				return c, true
			}
		}
	}
	return nil, false
}

// Descendants returns code and every code below it in the hierarchy.
func (cs *CodeSystem) Descendants(code string, self bool) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(c string, include bool)
	walk = func(c string, include bool) {
		if seen[c] {
			return
		}
		seen[c] = true
		if include {
			out = append(out, c)
		}
		for _, ch := range cs.children[c] {
			walk(ch, true)
		}
	}
	walk(code, self)
	return out
}

// Expansion is the set of codes of a ValueSet.
type Expansion struct {
	URL, Version, Name, Title string
	// Codes maps each code to its display.
	Codes map[Code]string
	// Incomplete names why the expansion is not the full value set (a
	// SNOMED CT filter, an unknown code system ...); when set, a code absent
	// from Codes has not been checked.
	Incomplete string
	// partial holds the systems whose codes are not all listed; "*" stands
	// for parts whose system is unknown (a nested value set not loaded).
	partial map[string]bool
}

// Decides reports whether a code of system absent from Codes is known to be
// outside the value set.
func (e *Expansion) Decides(system string) bool {
	if e.Incomplete == "" {
		return true
	}
	return system != "" && !e.partial[system] && !e.partial["*"]
}

func (e *Expansion) markPartial(system, why string) {
	if e.Incomplete == "" {
		e.Incomplete = why
	}
	if e.partial == nil {
		e.partial = map[string]bool{}
	}
	e.partial[system] = true
}

// Contains reports whether the expansion holds system|code. An empty system
// matches a code in any system of the expansion.
func (e *Expansion) Contains(system, code string) bool {
	if system != "" {
		_, ok := e.Codes[Code{system, code}]
		return ok
	}
	for c := range e.Codes {
		if c.Code == code {
			return true
		}
	}
	return false
}

// Label names the value set for messages: 'Title' (url|version).
func (e *Expansion) Label() string {
	name := e.Title
	if name == "" {
		name = e.Name
	}
	canon := e.URL
	if e.Version != "" {
		canon += "|" + e.Version
	}
	if name == "" {
		return canon
	}
	return fmt.Sprintf("'%s' (%s)", name, canon)
}

// NotFoundError reports a value set or code system that no loaded package holds.
type NotFoundError struct {
	Kind, URL string
}

// Error implements error.
func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s %s not found in the loaded packages", e.Kind, e.URL)
}

// Service expands value sets and looks up code systems from loaded packages,
// caching results; it is safe for concurrent use.
type Service struct {
	resolve ResolveFunc
	server  *Server

	mu         sync.RWMutex
	expansions map[string]*Expansion
	systems    map[string]*CodeSystem
	missing    map[string]bool
}

// New returns a Service reading CodeSystems and ValueSets through resolve.
// server may be nil: codes from value sets that cannot be expanded offline
// are then reported as not checked.
func New(resolve ResolveFunc, server *Server) *Service {
	return &Service{resolve: resolve, server: server, expansions: map[string]*Expansion{}, systems: map[string]*CodeSystem{}, missing: map[string]bool{}}
}

// Server returns the terminology server the service consults, or nil.
func (s *Service) Server() *Server { return s.server }

// CodeSystem returns the code system with the canonical URL, if loaded.
func (s *Service) CodeSystem(url string) (*CodeSystem, bool) {
	s.mu.RLock()
	cs, ok := s.systems[url]
	miss := s.missing["cs:"+url]
	s.mu.RUnlock()
	if ok || miss {
		return cs, ok
	}
	res, found := s.resolve(url)
	if found {
		if rt, _ := res["resourceType"].(string); rt != "CodeSystem" {
			found = false
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !found {
		if len(s.missing) < maxRemembered {
			s.missing["cs:"+url] = true
		}
		return nil, false
	}
	cs = parseCodeSystem(res)
	s.systems[strings.Clone(url)] = cs
	return cs, true
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func list(m map[string]any, k string) []any {
	a, _ := m[k].([]any)
	return a
}

func parseCodeSystem(res map[string]any) *CodeSystem {
	cs := &CodeSystem{
		URL: str(res, "url"), Version: str(res, "version"), Name: str(res, "name"),
		Content: str(res, "content"), Concepts: map[string]*Concept{}, children: map[string][]string{},
	}
	cs.CaseSensitive, _ = res["caseSensitive"].(bool)
	var walk func(items []any, parent string)
	walk = func(items []any, parent string) {
		for _, it := range items {
			m, ok := it.(map[string]any)
			if !ok {
				continue
			}
			c := &Concept{Code: str(m, "code"), Display: str(m, "display")}
			if c.Code == "" {
				continue
			}
			if parent != "" {
				c.Parents = append(c.Parents, parent)
			}
			for _, p := range list(m, "property") {
				pm, _ := p.(map[string]any)
				switch str(pm, "code") {
				case "parent", "subsumedBy":
					if v := str(pm, "valueCode"); v != "" {
						c.Parents = append(c.Parents, v)
					}
				case "notSelectable", "abstract":
					if b, _ := pm["valueBoolean"].(bool); b {
						c.Abstract = true
					}
				}
			}
			for _, d := range list(m, "designation") {
				if dm, ok := d.(map[string]any); ok {
					if v := str(dm, "value"); v != "" {
						c.Designations = append(c.Designations, v)
					}
				}
			}
			cs.Concepts[c.Code] = c
			walk(list(m, "concept"), c.Code)
		}
	}
	walk(list(res, "concept"), "")
	for code, c := range cs.Concepts {
		for _, p := range c.Parents {
			cs.children[p] = append(cs.children[p], code)
		}
	}
	return cs
}

// Expand returns the expansion of the value set with the canonical URL. A
// value set that no package holds is a *NotFoundError. Parts that cannot be
// expanded offline leave Expansion.Incomplete set.
func (s *Service) Expand(ctx context.Context, canonical string) (*Expansion, error) {
	return s.expand(ctx, canonical, 0)
}

const maxNesting = 16

func (s *Service) expand(ctx context.Context, canonical string, depth int) (*Expansion, error) {
	s.mu.RLock()
	e, ok := s.expansions[canonical]
	s.mu.RUnlock()
	if ok {
		return e, nil
	}
	if depth > maxNesting {
		return nil, fmt.Errorf("expand %s: value sets nested deeper than %d (circular include?)", canonical, maxNesting)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, found := s.resolve(canonical)
	if !found {
		if base, _, cut := strings.Cut(canonical, "|"); cut {
			res, found = s.resolve(base)
		}
	}
	if !found || str(res, "resourceType") != "ValueSet" {
		return nil, &NotFoundError{Kind: "ValueSet", URL: canonical}
	}
	e = &Expansion{URL: str(res, "url"), Version: str(res, "version"), Name: str(res, "name"), Title: str(res, "title"), Codes: map[Code]string{}}
	if err := s.fill(ctx, e, res, depth); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.expansions[strings.Clone(canonical)] = e
	s.mu.Unlock()
	return e, nil
}

func (s *Service) fill(ctx context.Context, e *Expansion, res map[string]any, depth int) error {
	compose, _ := res["compose"].(map[string]any)
	if compose == nil {
		if exp, _ := res["expansion"].(map[string]any); exp != nil {
			var walk func(items []any)
			walk = func(items []any) {
				for _, it := range items {
					m, _ := it.(map[string]any)
					if m == nil {
						continue
					}
					if c := str(m, "code"); c != "" {
						e.Codes[Code{str(m, "system"), c}] = str(m, "display")
					}
					walk(list(m, "contains"))
				}
			}
			walk(list(exp, "contains"))
			return nil
		}
		e.markPartial("*", "the value set has neither a compose nor an expansion")
		return nil
	}
	for _, inc := range list(compose, "include") {
		m, _ := inc.(map[string]any)
		codes, incomplete, err := s.component(ctx, m, depth)
		if err != nil {
			return err
		}
		for sys, why := range incomplete {
			e.markPartial(sys, why)
		}
		for c, d := range codes {
			e.Codes[c] = d
		}
	}
	for _, exc := range list(compose, "exclude") {
		m, _ := exc.(map[string]any)
		codes, _, err := s.component(ctx, m, depth)
		if err != nil {
			return err
		}
		for c := range codes {
			delete(e.Codes, c)
		}
	}
	return nil
}

// component expands one include or exclude.
func (s *Service) component(ctx context.Context, m map[string]any, depth int) (map[Code]string, map[string]string, error) {
	if m == nil {
		return nil, nil, nil
	}
	var result map[Code]string
	incomplete := map[string]string{}
	system := str(m, "system")
	if system != "" {
		version := str(m, "version")
		codes, why := s.systemCodes(system, version, m)
		result = codes
		if why != "" {
			incomplete[system] = why
		}
	}
	for _, v := range list(m, "valueSet") {
		u, _ := v.(string)
		nested, err := s.expand(ctx, u, depth+1)
		if err != nil {
			var nf *NotFoundError
			if asNotFound(err, &nf) {
				incomplete["*"] = fmt.Sprintf("the value set %s is not loaded", u)
				return result, incomplete, nil
			}
			return nil, nil, err
		}
		for sys := range nested.partial {
			incomplete[sys] = nested.Incomplete
		}
		if result == nil {
			result = make(map[Code]string, len(nested.Codes))
			for c, d := range nested.Codes {
				result[c] = d
			}
			continue
		}
		for c := range result {
			if _, ok := nested.Codes[c]; !ok {
				delete(result, c)
			}
		}
	}
	return result, incomplete, nil
}

func asNotFound(err error, target **NotFoundError) bool {
	nf, ok := err.(*NotFoundError)
	if ok {
		*target = nf
	}
	return ok
}

func (s *Service) systemCodes(system, version string, m map[string]any) (map[Code]string, string) {
	concepts := list(m, "concept")
	filters := list(m, "filter")
	cs, known := s.CodeSystem(system)
	if !known && version != "" {
		cs, known = s.CodeSystem(system + "|" + version)
	}
	out := map[Code]string{}
	if len(concepts) > 0 {
		for _, c := range concepts {
			cm, _ := c.(map[string]any)
			code := str(cm, "code")
			if code == "" {
				continue
			}
			display := str(cm, "display")
			if display == "" && known {
				if cc, ok := cs.Lookup(code); ok {
					display = cc.Display
				}
			}
			out[Code{system, code}] = display
		}
		if len(filters) == 0 {
			return out, ""
		}
	}
	if !known {
		return out, fmt.Sprintf("the code system %s is not available offline", system)
	}
	if !cs.Complete() {
		why := fmt.Sprintf("the code system %s is only partly defined (content %s)", system, cs.Content)
		for code, c := range cs.Concepts {
			out[Code{system, code}] = c.Display
		}
		return out, why
	}
	if len(filters) == 0 {
		for code, c := range cs.Concepts {
			out[Code{system, code}] = c.Display
		}
		return out, ""
	}
	var selected map[string]bool
	for _, f := range filters {
		fm, _ := f.(map[string]any)
		codes, ok := applyFilter(cs, str(fm, "property"), str(fm, "op"), str(fm, "value"))
		if !ok {
			return out, fmt.Sprintf("the filter %s %s %s on %s cannot be evaluated offline", str(fm, "property"), str(fm, "op"), str(fm, "value"), system)
		}
		if selected == nil {
			selected = codes
			continue
		}
		for c := range selected {
			if !codes[c] {
				delete(selected, c)
			}
		}
	}
	for c := range selected {
		if cc, ok := cs.Concepts[c]; ok {
			out[Code{system, c}] = cc.Display
		}
	}
	return out, ""
}

func applyFilter(cs *CodeSystem, property, op, value string) (map[string]bool, bool) {
	set := map[string]bool{}
	switch {
	case op == "is-a" && (property == "concept" || property == "code"):
		for _, c := range cs.Descendants(value, true) {
			set[c] = true
		}
	case op == "descendent-of" && (property == "concept" || property == "code"):
		for _, c := range cs.Descendants(value, false) {
			set[c] = true
		}
	case op == "is-not-a" && (property == "concept" || property == "code"):
		below := map[string]bool{}
		for _, c := range cs.Descendants(value, true) {
			below[c] = true
		}
		for c := range cs.Concepts {
			if !below[c] {
				set[c] = true
			}
		}
	case op == "=" && (property == "concept" || property == "code"):
		if _, ok := cs.Concepts[value]; ok {
			set[value] = true
		}
	case op == "in" && (property == "concept" || property == "code"):
		for _, v := range strings.Split(value, ",") {
			if _, ok := cs.Concepts[strings.TrimSpace(v)]; ok {
				set[strings.TrimSpace(v)] = true
			}
		}
	default:
		return nil, false
	}
	return set, true
}
