package validate

import (
	"reflect"
	"strings"

	"github.com/nhsconform/conform/profiles/fhirpath"
)

// extensionContext checks that an extension is used where its definition
// allows: StructureDefinition.context of type element, extension or fhirpath.
func (r *run) extensionContext(p *plan, url string) {
	if len(r.path) < 2 {
		return
	}
	if !r.extensionContextElement(p, url) {
		return
	}
	pi := len(r.path) - 2
	for _, inv := range p.contextInvariants {
		x, err := r.v.expression(inv)
		if err != nil {
			r.warnf("processing", "extension-context-invariant-unparsable", "The context invariant '%s' of extension %s could not be compiled: %v", inv, url, err)
			continue
		}
		res, err := evalGuarded(func() (fhirpath.Collection, error) { return x.Evaluate(r.ctx, r.nodeAt(pi), nil) })
		if err != nil {
			r.warnf("processing", "extension-context-invariant-error", "The context invariant '%s' of extension %s could not be evaluated: %v", inv, url, err)
			continue
		}
		if ok, empty := fhirpath.Truth(res); !ok && !empty {
			r.errorf("structure", "extension-context-invariant", "The extension %s is not allowed to be used at this point (based on context invariant '%s')", url, inv)
		}
	}
}

// extensionContextElement checks the context list of an extension and
// reports whether it passed.
func (r *run) extensionContextElement(p *plan, url string) bool {
	if len(p.context) == 0 {
		return true
	}
	pi := len(r.path) - 2
	parent := r.path[pi]
	isResource := pi == 0 || strings.HasPrefix(parent.suffix, "/*")
	names := map[string]bool{}
	if parent.typ != "" {
		names[parent.typ] = true
	}
	if d := parent.def; d != nil && !isResource {
		names[d.path] = true
		if d.basePath != "" {
			names[d.basePath] = true
		}
		if d.ref != nil {
			names[d.ref.path] = true
		}
		for _, t := range d.types {
			if t.code == "BackboneElement" || t.code == "Element" {
				names["BackboneElement"] = true
			}
		}
		if len(d.children) > 0 {
			names["BackboneElement"] = true
		}
	}
	if isResource {
		names["Resource"] = true
		switch parent.typ {
		case "Bundle", "Binary", "Parameters":
		default:
			names["DomainResource"] = true
		}
	}
	names["Element"] = true
	names["Base"] = true
	var exprs []string
	for _, c := range p.context {
		exprs = append(exprs, c.expression)
		switch c.kind {
		case "element":
			e := strings.TrimSuffix(c.expression, "[x]")
			if names[e] || names[c.expression] {
				return true
			}
			if d := parent.def; d != nil && !isResource && (childPathOf(e, d.path) || childPathOf(e, d.basePath)) {
				return true
			}
			if d := parent.def; d != nil && strings.HasSuffix(d.path, "[x]") && (names[e+"[x]"]) {
				return true
			}
		case "extension":
			ext := pi
			if parent.expr == "value" && pi > 0 {
				ext = pi - 1
			}
			if e := r.path[ext].expr; e == "extension" || e == "modifierExtension" {
				if pm, ok := r.dataAt(ext).(map[string]any); ok && pm["url"] == c.expression {
					return true
				}
			}
		case "fhirpath":
			if r.fhirpathContextMatches(c.expression, pi) {
				return true
			}
		}
	}
	where := parent.typ
	if parent.def != nil {
		where = parent.def.path + ", " + parent.typ
	}
	r.errorf("structure", "extension-context", "The extension %s is not allowed to be used at this point (this element is [%s]; allowed = %s)", url, where, strings.Join(exprs, ", "))
	return false
}

func (r *run) dataAt(i int) any {
	n, err := evalGuarded(func() (*fhirpath.Node, error) { return r.nodeAt(i), nil })
	if err == nil && n != nil {
		return n.Data()
	}
	return nil
}

// fhirpathContextMatches evaluates a fhirpath extension context on the root
// resource and reports whether it selects the element at path step i.
func (r *run) fhirpathContextMatches(expr string, i int) bool {
	target := r.dataAt(i)
	if target == nil {
		return false
	}
	x, err := r.v.expression(expr)
	if err != nil {
		return false
	}
	res, err := evalGuarded(func() (fhirpath.Collection, error) { return x.Evaluate(r.ctx, r.nodeAt(0), nil) })
	if err != nil {
		return false
	}
	for _, v := range res {
		n, ok := v.(*fhirpath.Node)
		if ok && sameData(n.Data(), target) {
			return true
		}
	}
	return false
}

func sameData(a, b any) bool {
	ma, ok1 := a.(map[string]any)
	mb, ok2 := b.(map[string]any)
	if ok1 && ok2 {
		return reflect.ValueOf(ma).UnsafePointer() == reflect.ValueOf(mb).UnsafePointer()
	}
	return false
}

// childPathOf reports whether path names a direct child of parent.
func childPathOf(path, parent string) bool {
	if parent == "" || !strings.HasPrefix(path, parent+".") {
		return false
	}
	return !strings.Contains(path[len(parent)+1:], ".")
}
