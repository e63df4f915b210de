package invariants

import (
	"context"
	"strings"

	"github.com/nhsconform/conform/profiles/fhirpath"
)

// Plan lists, for each resource type, the constraints of the type's own
// definition by element path, to evaluate by navigating from the resource root.
type Plan struct {
	byType map[string][]*PathConstraints
}

// PathConstraints are the constraints stated on one element path.
type PathConstraints struct {
	// Path is the element path, such as "Patient.contact" or "Observation.value[x]".
	Path        string        `json:"path"`
	Constraints []*Constraint `json:"constraints"`
	segments    []string
	compiled    []*fhirpath.Expression
}

// NewPlan builds a plan from the snapshots of resource StructureDefinitions;
// keep filters constraints (nil keeps all).
func NewPlan(sds []map[string]any, keep func(key string) bool) *Plan {
	p := &Plan{byType: map[string][]*PathConstraints{}}
	for _, sd := range sds {
		if sd["kind"] != "resource" || sd["derivation"] != "specialization" {
			continue
		}
		typ, _ := sd["type"].(string)
		url, _ := sd["url"].(string)
		snap, _ := sd["snapshot"].(map[string]any)
		elems, _ := snap["element"].([]any)
		byPath := map[string]*PathConstraints{}
		var order []*PathConstraints
		for _, e := range elems {
			el, _ := e.(map[string]any)
			path, _ := el["path"].(string)
			cons, _ := el["constraint"].([]any)
			for _, c := range cons {
				cm, _ := c.(map[string]any)
				expr, _ := cm["expression"].(string)
				key, _ := cm["key"].(string)
				if expr == "" || (keep != nil && !keep(key)) {
					continue
				}
				pc := byPath[path]
				if pc == nil {
					pc = &PathConstraints{Path: path, segments: strings.Split(strings.ReplaceAll(path, "[x]", ""), ".")[1:]}
					byPath[path] = pc
					order = append(order, pc)
				}
				sev, _ := cm["severity"].(string)
				pc.Constraints = append(pc.Constraints, &Constraint{Key: key, Severity: sev, Expression: expr, Path: path, Source: url})
			}
		}
		p.byType[typ] = order
	}
	return p
}

// Types returns the plan by resource type, for export.
func (p *Plan) Types() map[string][]*PathConstraints { return p.byType }

// Compile compiles every expression of the plan with the engine.
func (p *Plan) Compile(eng *fhirpath.Engine) error {
	for _, list := range p.byType {
		for _, pc := range list {
			pc.compiled = make([]*fhirpath.Expression, len(pc.Constraints))
			for i, c := range pc.Constraints {
				x, err := eng.Compile(c.Expression)
				if err != nil {
					return err
				}
				pc.compiled[i] = x
			}
		}
	}
	return nil
}

// Check evaluates the plan's constraints for the resource's type at every
// element on their paths; Compile must have been called with eng.
func (p *Plan) Check(ctx context.Context, eng *fhirpath.Engine, resource map[string]any, fn func(Result)) {
	root := eng.Resource(resource)
	nodes := make([]*fhirpath.Node, 0, 16)
	next := make([]*fhirpath.Node, 0, 16)
	for _, pc := range p.byType[root.TypeName()] {
		nodes = append(nodes[:0], root)
		for _, seg := range pc.segments {
			next = next[:0]
			for _, n := range nodes {
				next = append(next, eng.Children(n, seg)...)
			}
			nodes, next = next, nodes
		}
		for _, n := range nodes {
			for i, x := range pc.compiled {
				res, err := x.Evaluate(ctx, n, nil)
				fn(Result{Constraint: pc.Constraints[i], Node: n, Path: pc.Path, Result: res, Err: err})
			}
		}
	}
}
