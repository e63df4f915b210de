package validate

import (
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/profiles/fhirpath"
)

// nativeConstraints are invariants checked by the structure layer itself.
var nativeConstraints = map[string]bool{
	"ele-1": true, // every element has a value or children: empty objects and values are errors already
	"ext-1": true, // value or nested extensions, checked by the extension definition's cardinality
	"dom-3": true, // contained resources referenced: checked natively, narrative links included
	"txt-1": true, // narrative XHTML limited to the allowed elements and attributes: the xhtml check
	"txt-2": true, // narrative has non-whitespace content: the xhtml check
	"ref-1": true, // contained references resolve: the reference check
}

// correctedInvariants replaces R4 core invariants whose published
// expression is known to be wrong, as the HL7 validator does.
var correctedInvariants = map[string]string{
	"que-12": "enableWhen.count() > 1 implies enableBehavior.exists()",
}

type kidKey struct {
	parent *fhirpath.Node
	name   string
}

// nodeAt returns the FHIRPath node of path step i, navigating from the root
// resource so %resource and %rootResource are those of the element.
func (r *run) nodeAt(i int) *fhirpath.Node {
	if n := r.nodes[i]; n != nil {
		return n
	}
	var n *fhirpath.Node
	if i == 0 {
		n = r.v.fp.Resource(r.root)
	} else {
		parent := r.nodeAt(i - 1)
		if parent == nil {
			return nil
		}
		s := r.path[i]
		key := kidKey{parent, s.expr}
		kids, ok := r.kids[key]
		if !ok {
			kids = r.v.fp.Children(parent, s.expr)
			if r.kids == nil {
				r.kids = map[kidKey][]*fhirpath.Node{}
			}
			r.kids[key] = kids
		}
		idx := s.index
		if idx < 0 {
			idx = 0
		}
		if idx >= len(kids) {
			return nil
		}
		n = kids[idx]
	}
	r.nodes[i] = n
	return n
}

// evalGuarded runs a FHIRPath step, turning a panic inside the engine into an
// error so hostile input cannot crash validation.
func evalGuarded[T any](f func() (T, error)) (res T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("fhirpath engine failure: %v", p)
		}
	}()
	return f()
}

// constraints evaluates the FHIRPath invariants of n on the value at the
// current path.
func (r *run) constraints(n *node, focus any, typ string) {
	if len(n.constraints) == 0 {
		return
	}
	var input *fhirpath.Node
	var env fhirpath.Env
	for _, c := range n.constraints {
		if c.key == "dom-6" && r.inContained() || plainlyHolds(c.expression, focus) {
			continue
		}
		e, usesResource, err := r.constraintExpression(c)
		if err != nil {
			r.warnf("processing", "constraint-unparsable", "Constraint %s could not be compiled: %v", c.key, err)
			continue
		}
		withVars := usesResource && !coreDefinition(n.owner.url)
		if input == nil {
			input, err = evalGuarded(func() (*fhirpath.Node, error) {
				if in := r.nodeAt(len(r.path) - 1); in != nil {
					return in, nil
				}
				return r.v.fp.NewNode(focus, typ), nil
			})
			if err != nil {
				r.warnf("processing", "constraint-error", "Constraint %s could not be evaluated: %v", c.key, err)
				return
			}
		}
		var vars fhirpath.Env
		if withVars {
			if env == nil {
				env, _ = evalGuarded(func() (fhirpath.Env, error) { return r.constraintEnv(), nil })
			}
			vars = env
		}
		res, err := evalGuarded(func() (fhirpath.Collection, error) { return e.Evaluate(r.ctx, input, vars) })
		if err != nil {
			r.warnf("processing", "constraint-error", "Constraint %s could not be evaluated: %v", c.key, err)
			continue
		}
		ok, empty := fhirpath.Truth(res)
		if ok || empty {
			continue
		}
		if r.quiet == 0 {
			// The base definition and each profile repeat the same
			// invariants: a failure on a value is reported once.
			if identity := focusIdentity(focus); identity != nil {
				k := failedKey{identity, c.key, c.expression, withVars}
				if _, done := r.failed[k]; done {
					continue
				}
				if r.failed == nil {
					r.failed = make(map[failedKey]struct{}, 8)
				}
				r.failed[k] = struct{}{}
			}
		}
		sev := conformance.SeverityError
		if c.severity == "warning" {
			sev = conformance.SeverityWarning
		}
		origin := c.source
		if origin == "" {
			origin = canonicalOf(n.owner)
		}
		r.add(sev, "invariant", "constraint-"+c.key, fmt.Sprintf("Constraint failed: %s: '%s' (defined in %s)", c.key, c.human, origin))
	}
}

// failedKey names one invariant that failed on one value during a run.
type failedKey struct {
	focus               unsafe.Pointer
	key, expression     string
	withResourceContext bool
}

// focusIdentity returns what identifies an object or array value for the
// duration of a run, or nil for other values.
func focusIdentity(focus any) unsafe.Pointer {
	switch v := focus.(type) {
	case map[string]any:
		return reflect.ValueOf(v).UnsafePointer()
	case []any:
		if len(v) > 0 {
			return unsafe.Pointer(&v[0])
		}
	}
	return nil
}

// plainlyHolds reports whether an invariant of DomainResource holds for
// focus without evaluating it: dom-2, dom-4 and dom-5 when there are no
// contained resources, dom-6 when the narrative has a div. Everything else
// is left to the FHIRPath engine.
func plainlyHolds(expression string, focus any) bool {
	m, ok := focus.(map[string]any)
	if !ok {
		return false
	}
	switch expression {
	case "contained.contained.empty()",
		"contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()",
		"contained.meta.security.empty()":
		_, has := m["contained"]
		return !has
	case "text.`div`.exists()":
		text, _ := m["text"].(map[string]any)
		div, _ := text["div"].(string)
		return div != ""
	}
	return false
}

// containedReferenced checks dom-3: each contained resource is referenced
// from elsewhere in the resource (references, canonicals, narrative links)
// or refers to its container with "#".
func (r *run) containedReferenced(res map[string]any) {
	contained := slist(res, "contained")
	if len(contained) == 0 {
		return
	}
	refs := map[string]bool{}
	var walk func(v any, inContained bool)
	walk = func(v any, inContained bool) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				walk(c, inContained)
				if k == "div" {
					if s, ok := c.(string); ok {
						collectNarrativeLinks(s, refs)
					}
				}
			}
		case []any:
			for _, c := range x {
				walk(c, inContained)
			}
		case string:
			if strings.HasPrefix(x, "#") {
				refs[x[1:]] = true
			}
		}
	}
	walk(res, false)
	for i, c := range contained {
		cm, _ := c.(map[string]any)
		id, _ := cm["id"].(string)
		if id == "" || refs[id] || refs[""] {
			continue
		}
		r.push("contained", "contained", i, "")
		r.errorf("invariant", "constraint-dom-3", "Constraint failed: dom-3: 'If the resource is contained in another resource, it SHALL be referred to from elsewhere in the resource or SHALL refer to the containing resource' (the contained resource '%s' is not referenced)", id)
		r.pop()
	}
}

func collectNarrativeLinks(div string, refs map[string]bool) {
	for _, attr := range []string{`href="#`, `src="#`, `href='#`, `src='#`} {
		rest := div
		for {
			i := strings.Index(rest, attr)
			if i < 0 {
				break
			}
			rest = rest[i+len(attr):]
			end := strings.IndexAny(rest, `"'`)
			if end < 0 {
				break
			}
			refs[rest[:end]] = true
		}
	}
}

// inContained reports whether the current resource is a contained one, which
// carries no narrative of its own (dom-6 does not apply).
func (r *run) inContained() bool {
	for i := len(r.path) - 1; i >= 0; i-- {
		if strings.HasPrefix(r.path[i].suffix, "/*") {
			return r.path[i].expr == "contained"
		}
	}
	return false
}

// constraintEnv sets %resource and %rootResource as the HL7 validator does:
// %resource is the resource holding the focus (for the own invariants of a
// contained resource or a Bundle entry, the resource that holds it) and
// %rootResource the outermost resource.
func (r *run) constraintEnv() fhirpath.Env {
	focus := len(r.path) - 1
	boundary := func(i int) bool { return i == 0 || strings.HasPrefix(r.path[i].suffix, "/*") }
	res := focus
	if boundary(focus) && focus > 0 && (r.path[focus].expr == "contained" || r.path[focus].expr == "resource" && focus > 0 && r.path[focus-1].expr == "entry") {
		res = focus - 1
	}
	for res > 0 && !boundary(res) {
		res--
	}
	env := fhirpath.Env{}
	if n := r.nodeAt(res); n != nil {
		env["resource"] = fhirpath.Collection{n}
	}
	if n := r.nodeAt(0); n != nil {
		env["rootResource"] = fhirpath.Collection{n}
	}
	return env
}

// coreDefinition reports whether a definition is part of the FHIR
// specification, whose invariants read %resource as the FHIRPath
// specification defines it (the resource itself at its root).
func coreDefinition(url string) bool {
	return strings.HasPrefix(url, "http://hl7.org/fhir/StructureDefinition/")
}

// constraintExpression compiles a constraint's expression (or its corrected
// form) once per constraint, and says whether it uses %resource or
// %rootResource.
func (r *run) constraintExpression(c *constraint) (*fhirpath.Expression, bool, error) {
	if ce := c.compiled.Load(); ce != nil {
		return ce.e, ce.usesResource, ce.err
	}
	expr := c.expression
	if fixed, ok := correctedInvariants[c.key]; ok && c.source == "" || ok && strings.HasPrefix(c.source, "http://hl7.org/fhir/StructureDefinition/") {
		expr = fixed
	}
	e, err := r.v.expression(expr)
	usesResource := strings.Contains(expr, "%resource") || strings.Contains(expr, "%rootResource")
	c.compiled.Store(&compiledConstraint{e: e, err: err, usesResource: usesResource})
	return e, usesResource, err
}

type compiledConstraint struct {
	e            *fhirpath.Expression
	err          error
	usesResource bool
}
