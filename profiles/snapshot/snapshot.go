// Package snapshot owns StructureDefinition snapshot generation: walking a
// profile's differential against its base definition's snapshot, as the HL7
// reference implementation does, to produce the full list of element
// definitions a validator needs (inherited elements, slices and re-slices,
// choice-type renames, data-type and type-profile expansion, contentReference,
// extension definitions pulled into extension slices), and comparing generated
// snapshots with published ones.
package snapshot

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// Warning is a finding about a generated snapshot that did not stop
// generation: an unresolvable type profile, a differential element that
// matched nothing in the base.
type Warning struct {
	// Profile is the canonical URL of the StructureDefinition being generated.
	Profile string `json:"profile"`
	// Path is the element id or path concerned, when there is one.
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

// String formats the warning for a terminal.
func (w Warning) String() string {
	if w.Path == "" {
		return w.Profile + ": " + w.Message
	}
	return w.Profile + " " + w.Path + ": " + w.Message
}

// UnresolvedError means a StructureDefinition needed for generation (the
// profile itself, its base definition or a data type) could not be found.
type UnresolvedError struct {
	URL string
	// From names the profile that needed it, if any.
	From string
}

// Error implements error.
func (e *UnresolvedError) Error() string {
	if e.From == "" {
		return fmt.Sprintf("structure definition %s not found", e.URL)
	}
	return fmt.Sprintf("structure definition %s (needed by %s) not found", e.URL, e.From)
}

// DefinitionError means a differential cannot be applied to its base: a
// malformed StructureDefinition, a slice without slicing, children under an
// element of several types.
type DefinitionError struct {
	Profile string
	Path    string
	Message string
}

// Error implements error.
func (e *DefinitionError) Error() string {
	return fmt.Sprintf("profile %s: %s: %s", e.Profile, e.Path, e.Message)
}

// LooseningError means a differential loosens its base: a lower min or a
// higher max than the base element allows. The profile is in error, yet the
// generation still returns the snapshot beside it, with the derived values
// applied as the reference implementation does, so that a validator may judge
// instances against it as the HL7 validator would.
type LooseningError struct {
	Profile string
	Path    string
	// Property is "min" or "max".
	Property string
	Base     string
	Derived  string
}

// Error implements error.
func (e *LooseningError) Error() string {
	return fmt.Sprintf("profile %s: %s: %s %s loosens the base %s %s", e.Profile, e.Path, e.Property, e.Derived, e.Property, e.Base)
}

// CycleError means generating a snapshot needs the snapshot being generated
// (a profile based, directly or not, on itself).
type CycleError struct {
	Chain []string
}

// Error implements error.
func (e *CycleError) Error() string {
	return "snapshot dependency cycle: " + strings.Join(e.Chain, " -> ")
}

// Generator produces snapshots. Resolve finds a StructureDefinition by
// canonical URL (url or url|version); it must be safe for concurrent use and
// the maps it returns are never modified. A Generator caches the snapshots it
// produces (by canonical as requested) and is safe for concurrent use: use
// one per package set. Published snapshots are returned without waiting;
// generation runs one definition at a time, so concurrent requests for the
// same definition share one result. The zero value with Resolve set is ready
// to use.
type Generator struct {
	Resolve func(url string) (map[string]any, bool)

	genMu sync.Mutex
	cache sync.Map // canonical as requested -> *result
}

type result struct {
	sd       map[string]any
	warnings []Warning
	err      error
}

// maxDepth bounds the chain of definitions generated for one request.
const maxDepth = 64

// SnapshotFor returns the StructureDefinition at url with a snapshot: the
// published one when it has one, otherwise one generated from its
// differential (and cached). The returned map is shared: callers must not
// modify it. Warnings are those of the generation, returned on every call.
func (g *Generator) SnapshotFor(url string) (map[string]any, []Warning, error) {
	if r, ok := g.cache.Load(url); ok {
		res := r.(*result)
		return res.sd, res.warnings, res.err
	}
	if g.Resolve != nil {
		if sd, ok := g.Resolve(url); ok && len(elementsOf(sd, "snapshot")) > 0 {
			r, _ := g.cache.LoadOrStore(url, &result{sd: sd})
			res := r.(*result)
			return res.sd, res.warnings, res.err
		}
	}
	g.genMu.Lock()
	defer g.genMu.Unlock()
	res := g.snapshotLocked(url, nil)
	return res.sd, res.warnings, res.err
}

// Generate builds a snapshot for sd from its differential, ignoring any
// snapshot sd already has. Base definitions and type profiles come from
// SnapshotFor. sd is not modified; the result is a new top-level map that
// shares sd's other properties. With a *LooseningError the snapshot is
// returned too; with any other error it is nil.
func (g *Generator) Generate(sd map[string]any) (map[string]any, []Warning, error) {
	g.genMu.Lock()
	defer g.genMu.Unlock()
	return g.generate(sd, nil)
}

// snapshotLocked is SnapshotFor with genMu held; chain lists the definitions
// being generated by the caller.
func (g *Generator) snapshotLocked(url string, chain []string) *result {
	if r, ok := g.cache.Load(url); ok {
		return r.(*result)
	}
	key := stripVersion(url)
	for _, c := range chain {
		if c == key {
			return &result{err: &CycleError{Chain: append(append([]string{}, chain...), key)}}
		}
	}
	if len(chain) >= maxDepth {
		return &result{err: fmt.Errorf("generate snapshot of %s: definitions nested deeper than %d", key, maxDepth)}
	}
	if g.Resolve == nil {
		return &result{err: errors.New("generate snapshot: no resolver")}
	}
	sd, ok := g.Resolve(url)
	if !ok {
		from := ""
		if len(chain) > 0 {
			from = chain[len(chain)-1]
		}
		res := &result{err: &UnresolvedError{URL: url, From: from}}
		return res
	}
	res := &result{sd: sd}
	if len(elementsOf(sd, "snapshot")) == 0 {
		res.sd, res.warnings, res.err = g.generate(sd, chain)
	}
	g.cache.Store(url, res)
	return res
}

// generate builds sd's snapshot with genMu held.
func (g *Generator) generate(sd map[string]any, chain []string) (map[string]any, []Warning, error) {
	url := str(sd, "url")
	if rt := str(sd, "resourceType"); rt != "StructureDefinition" {
		return nil, nil, &DefinitionError{Profile: url, Path: "resourceType", Message: fmt.Sprintf("is %q, not StructureDefinition", rt)}
	}
	if d := str(sd, "derivation"); d != "" && d != "constraint" {
		return nil, nil, &DefinitionError{Profile: url, Path: "derivation", Message: fmt.Sprintf("is %q: only constraints on a base definition are generated from differentials", d)}
	}
	diff := elementsOf(sd, "differential")
	if len(diff) == 0 {
		return nil, nil, &DefinitionError{Profile: url, Path: "differential", Message: "no differential elements"}
	}
	for i, e := range diff {
		if path(e) == "" {
			return nil, nil, &DefinitionError{Profile: url, Path: fmt.Sprintf("differential.element[%d]", i), Message: "element has no path"}
		}
	}
	baseURL := str(sd, "baseDefinition")
	if baseURL == "" {
		return nil, nil, &DefinitionError{Profile: url, Path: "baseDefinition", Message: "a differential without a base definition cannot be expanded"}
	}
	chain = append(append([]string{}, chain...), stripVersion(url))
	base := g.snapshotLocked(baseURL, chain)
	if base.err != nil {
		var ue *UnresolvedError
		if errors.As(base.err, &ue) {
			return nil, nil, fmt.Errorf("generate snapshot of %s: %w", url, base.err)
		}
		return nil, nil, fmt.Errorf("generate snapshot of %s: base %s: %w", url, baseURL, base.err)
	}
	baseElems := elementsOf(base.sd, "snapshot")
	if len(baseElems) == 0 {
		return nil, nil, &DefinitionError{Profile: url, Path: "baseDefinition", Message: "base " + baseURL + " has no snapshot"}
	}
	w := &walker{g: g, url: url, diff: diff, used: make([]bool, len(diff)), chain: chain}
	if err := w.run(baseElems, str(base.sd, "url")); err != nil {
		return nil, w.warnings, fmt.Errorf("generate snapshot of %s: %w", url, err)
	}
	for i, used := range w.used {
		if !used {
			id := str(diff[i], "id")
			if id == "" {
				id = path(diff[i])
			}
			w.warn(id, "differential element matches no element of the base")
		}
	}
	assignIDs(w.result)
	out := make(map[string]any, len(sd)+1)
	for k, v := range sd {
		out[k] = v
	}
	list := make([]any, len(w.result))
	for i, e := range w.result {
		list[i] = e
	}
	out["snapshot"] = map[string]any{"element": list}
	if w.loosened != nil {
		return out, w.warnings, fmt.Errorf("generate snapshot of %s: %w", url, w.loosened)
	}
	return out, w.warnings, nil
}

// All returns the StructureDefinition with its snapshot for each url, as
// SnapshotFor does. A definition that cannot be generated because something
// it needs cannot be resolved (a missing dependency) is left out and reported
// as a warning; any other failure stops All with an error.
func (g *Generator) All(urls []string) (map[string]map[string]any, []Warning, error) {
	out := make(map[string]map[string]any, len(urls))
	var warnings []Warning
	for _, u := range urls {
		sd, ws, err := g.SnapshotFor(u)
		warnings = append(warnings, ws...)
		var ue *UnresolvedError
		switch {
		case errors.As(err, &ue):
			warnings = append(warnings, Warning{Profile: u, Message: "no snapshot: " + err.Error()})
		case err != nil:
			return out, warnings, err
		default:
			out[u] = sd
		}
	}
	return out, warnings, nil
}

// Snapshot returns sd with a snapshot: sd itself when it has one, the cached
// SnapshotFor result when sd is the definition Resolve gives for its URL,
// else one generated by Generate. Warnings are dropped; it has the shape of
// the validator's snapshot hook.
func (g *Generator) Snapshot(sd map[string]any) (map[string]any, error) {
	if len(elementsOf(sd, "snapshot")) > 0 {
		return sd, nil
	}
	if url := str(sd, "url"); url != "" && g.Resolve != nil {
		if r, ok := g.Resolve(url); ok && sameMap(r, sd) {
			out, _, err := g.SnapshotFor(url)
			return out, err
		}
	}
	out, _, err := g.Generate(sd)
	return out, err
}

func sameMap(a, b map[string]any) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}
