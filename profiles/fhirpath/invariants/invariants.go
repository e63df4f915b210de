// Package invariants collects the FHIRPath constraints of StructureDefinitions
// and evaluates every constraint that applies to each element of a resource.
// It serves the invariant sweep over the R4 examples and the FHIRPath benchmarks.
package invariants

import (
	"context"
	"strings"

	"github.com/nhsconform/conform/profiles/fhirpath"
)

// Constraint is one ElementDefinition.constraint with a FHIRPath expression.
type Constraint struct {
	Key        string `json:"key"`
	Severity   string `json:"severity"`
	Expression string `json:"expression"`
	// Path is the element path without [x]: a resource or type name, or a
	// path such as "Observation.component".
	Path string `json:"path"`
	// Source is the canonical URL of the StructureDefinition that states it.
	Source string `json:"source"`
}

// Set indexes constraints by the element path they apply to.
type Set struct {
	byPath map[string][]*Constraint
	all    []*Constraint
}

// Filter decides which constraints of which StructureDefinitions to keep.
type Filter func(sd map[string]any, key string) bool

// Collect gathers the constraints of the snapshots of the given
// StructureDefinitions, once per path, key and expression.
func Collect(sds []map[string]any, keep Filter) *Set {
	s := &Set{byPath: map[string][]*Constraint{}}
	seen := map[string]bool{}
	for _, sd := range sds {
		url, _ := sd["url"].(string)
		snap, _ := sd["snapshot"].(map[string]any)
		elems, _ := snap["element"].([]any)
		if len(elems) == 0 {
			diff, _ := sd["differential"].(map[string]any)
			elems, _ = diff["element"].([]any)
		}
		for _, e := range elems {
			el, _ := e.(map[string]any)
			path, _ := el["path"].(string)
			path = strings.ReplaceAll(path, "[x]", "")
			cons, _ := el["constraint"].([]any)
			for _, c := range cons {
				cm, _ := c.(map[string]any)
				expr, _ := cm["expression"].(string)
				key, _ := cm["key"].(string)
				if expr == "" || (keep != nil && !keep(sd, key)) {
					continue
				}
				id := path + "\x00" + key + "\x00" + expr
				if seen[id] {
					continue
				}
				seen[id] = true
				sev, _ := cm["severity"].(string)
				con := &Constraint{Key: key, Severity: sev, Expression: expr, Path: path, Source: url}
				s.byPath[path] = append(s.byPath[path], con)
				s.all = append(s.all, con)
			}
		}
	}
	return s
}

// All returns every constraint of the set.
func (s *Set) All() []*Constraint { return s.all }

// Result is the outcome of one constraint on one element.
type Result struct {
	Constraint *Constraint
	// Node is the element the constraint was evaluated on.
	Node *fhirpath.Node
	// Path is the element's path from the resource root, such as Patient.contact.name.
	Path   string
	Result fhirpath.Collection
	Err    error
}

// Check evaluates every constraint that applies to each element of the
// resource, calling fn with each outcome.
func (s *Set) Check(ctx context.Context, eng *fhirpath.Engine, resource map[string]any, fn func(Result)) {
	root := eng.Resource(resource)
	s.walk(ctx, eng, root, root.TypeName(), root.TypeName(), fn)
}

func (s *Set) walk(ctx context.Context, eng *fhirpath.Engine, n *fhirpath.Node, rpath, tpath string, fn func(Result)) {
	s.apply(ctx, eng, n, rpath, rpath, fn)
	if tpath != rpath {
		s.apply(ctx, eng, n, tpath, rpath, fn)
	}
	if n.TypeName() != tpath && n.TypeName() != rpath && n.TypeName() != "" {
		s.apply(ctx, eng, n, n.TypeName(), rpath, fn)
	}
	if _, ok := n.Data().(map[string]any); !ok {
		return
	}
	for _, child := range eng.ChildNodes(n) {
		cr := rpath + "." + child.Name()
		ct := tpath + "." + child.Name()
		if m, ok := child.Data().(map[string]any); ok {
			if rt, ok := m["resourceType"].(string); ok {
				cr, ct = rt, rt
			} else if d := child.DefinitionPath(); d != "" && !strings.Contains(d, ".") {
				ct = d
			}
		}
		s.walk(ctx, eng, child, cr, ct, fn)
	}
}

func (s *Set) apply(ctx context.Context, eng *fhirpath.Engine, n *fhirpath.Node, path, rpath string, fn func(Result)) {
	for _, c := range s.byPath[path] {
		x, err := eng.Compile(c.Expression)
		if err != nil {
			fn(Result{Constraint: c, Node: n, Path: rpath, Err: err})
			continue
		}
		res, err := x.Evaluate(ctx, n, nil)
		fn(Result{Constraint: c, Node: n, Path: rpath, Result: res, Err: err})
	}
}

// BaseDefinitions keeps the constraints of base resource and data type
// definitions (derivation specialization), as FHIR R4 states them for every
// instance, and drops those of profiles and extensions.
func BaseDefinitions(sd map[string]any, key string) bool {
	d, _ := sd["derivation"].(string)
	return d == "specialization"
}
