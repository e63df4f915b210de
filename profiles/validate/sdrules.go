package validate

import (
	"strings"
)

// discriminatorPaths checks that the first step of each slicing
// discriminator path of a StructureDefinition's differential names an
// element of the sliced element: a child of a backbone element, or an
// element of the sliced element's data type.
func (r *run) discriminatorPaths(sd map[string]any, typ string) {
	base, err := r.typePlan(typ)
	if err != nil {
		return
	}
	diff, _ := sd["differential"].(map[string]any)
	for i, e := range slist(diff, "element") {
		em, _ := e.(map[string]any)
		slicing, _ := em["slicing"].(map[string]any)
		path := sstr(em, "path")
		if slicing == nil || path == "" {
			continue
		}
		for di, d := range slist(slicing, "discriminator") {
			dm, _ := d.(map[string]any)
			step := firstDiscriminatorStep(sstr(dm, "path"))
			if step == "" || r.elementHasChild(base, em, path, step) {
				continue
			}
			r.push("differential", "differential", -1, "")
			r.push("element", "element", i, "")
			r.push("slicing", "slicing", -1, "")
			r.push("discriminator", "discriminator", di, "")
			r.errorf("invalid", "discriminator-path-invalid", "The discriminator path '%s' does not appear to be valid for the element that is being sliced '%s'", sstr(dm, "path"), path)
			r.pop()
			r.pop()
			r.pop()
			r.pop()
		}
	}
}

// firstDiscriminatorStep returns the element name a discriminator path
// starts with, or "" when it starts with something other than a name
// ($this, a function).
func firstDiscriminatorStep(path string) string {
	step, _, _ := strings.Cut(path, ".")
	if step == "" || strings.ContainsAny(step, "$(%[") {
		return ""
	}
	return step
}

// elementHasChild reports whether the element at path (differential element
// em over the base plan) has a child named step; it also reports true when
// the element's types are unknown.
func (r *run) elementHasChild(base *plan, em map[string]any, path, step string) bool {
	n, known := base.byPath[path]
	codes := []string{}
	for _, t := range slist(em, "type") {
		if tm, ok := t.(map[string]any); ok {
			codes = append(codes, normaliseTypeCode(tm))
		}
	}
	if len(codes) == 0 {
		if !known {
			return true
		}
		for _, t := range n.types {
			codes = append(codes, t.code)
		}
	}
	if len(codes) == 0 {
		return true
	}
	for _, code := range codes {
		if code == "BackboneElement" || code == "Element" && known && len(n.children) > 0 {
			if _, ok := base.byPath[path+"."+step]; ok {
				return true
			}
			if _, ok := base.byPath[path+"."+step+"[x]"]; ok {
				return true
			}
			continue
		}
		tp, err := r.typePlan(code)
		if err != nil || tp.kind == "resource" {
			return true
		}
		if _, ok := tp.byPath[code+"."+step]; ok {
			return true
		}
		if _, ok := tp.byPath[code+"."+step+"[x]"]; ok {
			return true
		}
	}
	return false
}

// inheritedFixedValues checks that a differential does not change a fixed
// value its base definition already sets: a derived profile can only
// constrain further.
func (r *run) inheritedFixedValues(sd map[string]any) {
	baseURL := sstr(sd, "baseDefinition")
	if baseURL == "" || sstr(sd, "derivation") != "constraint" {
		return
	}
	base, err := r.v.planFor(baseURL)
	if err != nil {
		return
	}
	diff, _ := sd["differential"].(map[string]any)
	for i, e := range slist(diff, "element") {
		em, _ := e.(map[string]any)
		if strings.Contains(sstr(em, "id"), ":") || sstr(em, "sliceName") != "" {
			continue
		}
		n, ok := base.byPath[sstr(em, "path")]
		if !ok || n.fixed == nil {
			continue
		}
		for k, v := range em {
			if !strings.HasPrefix(k, "fixed") || jsonEqual(v, n.fixed) {
				continue
			}
			r.push("differential", "differential", -1, "")
			r.push("element", "element", i, "")
			r.errorf("invalid", "fixed-value-changed", "Value is '%s' but is fixed to '%s' in the profile %s, because the value must match the fixed value defined in the base definition", short(v), short(n.fixed), baseURL)
			r.pop()
			r.pop()
		}
	}
}

// typeProfiles checks that each profile an element type of a
// StructureDefinition's differential names is a profile of that type.
func (r *run) typeProfiles(sd map[string]any) {
	diff, _ := sd["differential"].(map[string]any)
	for i, e := range slist(diff, "element") {
		em, _ := e.(map[string]any)
		for ti, t := range slist(em, "type") {
			tm, _ := t.(map[string]any)
			code := normaliseTypeCode(tm)
			if code == "" || strings.Contains(code, ":") {
				continue
			}
			for pi, p := range slist(tm, "profile") {
				url, _ := p.(string)
				prof, ok := r.v.opts.Resolve(url)
				if !ok {
					continue
				}
				if pt := sstr(prof, "type"); pt != "" && !r.instanceOf(prof, code) {
					r.push("differential", "differential", -1, "")
					r.push("element", "element", i, "")
					r.push("type", "type", ti, "")
					r.push("profile", "profile", pi, "")
					r.errorf("invalid", "type-profile-wrong-type", "Profile %s is for type %s, but the %s element has type %s", url, pt, sstr(em, "path"), code)
					r.pop()
					r.pop()
					r.pop()
					r.pop()
				}
			}
		}
	}
}

// maxBaseDepth bounds the chain of base definitions that is followed.
const maxBaseDepth = 32

// instanceOf reports whether the definition sd is of type code: its own type,
// or the type of an abstract base (Resource, DomainResource, Element ...) it
// specialises, as the HL7 validator decides.
func (r *run) instanceOf(sd map[string]any, code string) bool {
	for depth := 0; sd != nil && depth < maxBaseDepth; depth++ {
		if sstr(sd, "type") == code || sstr(sd, "url") == code {
			return true
		}
		base, ok := r.v.opts.Resolve(sstr(sd, "baseDefinition"))
		if !ok {
			return false
		}
		if abstract, _ := base["abstract"].(bool); !abstract && sstr(base, "kind") != "logical" {
			return false
		}
		sd = base
	}
	return false
}
