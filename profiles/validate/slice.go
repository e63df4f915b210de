package validate

import (
	"strings"
)

// slices assigns the values of a sliced element to its slices, validates
// each against its slice and checks slice cardinality, closed and ordered
// slicing.
func (r *run) slices(c *node, items []sliceItem) {
	counts := make([]int, len(c.slices))
	lastSlice := -1
	sawUnmatched := false
	rules := "open"
	ordered := false
	if c.slicing != nil {
		rules = c.slicing.rules
		ordered = c.slicing.ordered
	}
	for _, it := range items {
		r.pushDef(it.key, c.name, it.index, choiceSuffix(c, it.typ), it.typ, c)
		match := -1
		for si, s := range c.slices {
			if r.matchesSlice(c, s, it) {
				match = si
				break
			}
		}
		if match < 0 {
			if m, ok := it.value.(map[string]any); ok && (c.name == "extension" || c.name == "modifierExtension") {
				if u, _ := m["url"].(string); u != "" && !strings.Contains(u, ":") && len(r.path) >= 2 && r.path[len(r.path)-2].typ == "Extension" {
					r.errorf("structure", "extension-sub-unknown", "Sub-extension url '%s' is not defined by the Extension %s", u, canonicalOf(c.owner))
				}
			}
			if rules == "closed" {
				r.errorf("structure", "slice-closed", "This element does not match any known slice defined in the profile %s (slicing on %s is closed)", canonicalOf(c.owner), c.path)
			}
			if rules == "openAtEnd" {
				sawUnmatched = true
			}
			r.pop()
			continue
		}
		if rules == "openAtEnd" && sawUnmatched {
			r.errorf("structure", "slice-open-at-end", "Slicing on %s is openAtEnd, but a value matching slice '%s' follows one that matches no slice", c.path, c.slices[match].sliceName)
		}
		if ordered && match < lastSlice {
			r.errorf("structure", "slice-order", "As specified by profile %s, Element '%s' is out of order in the slicing", canonicalOf(c.owner), c.slices[match].sliceName)
		}
		if match > lastSlice {
			lastSlice = match
		}
		counts[match]++
		r.itemInSlice(c.slices[match], it)
		r.pop()
	}
	for si, s := range c.slices {
		if counts[si] < s.min {
			r.errorf("structure", "slice-min", "Slice '%s': a matching slice is required, but not found (from %s). Note that other slices are allowed in addition to this required slice", s.displayPath(), canonicalOf(c.owner))
		}
		if s.max >= 0 && counts[si] > s.max {
			r.errorf("structure", "slice-max", "%s: max allowed = %d, but found %d (from %s)", s.displayPath(), s.max, counts[si], canonicalOf(c.owner))
		}
	}
}

func choiceSuffix(c *node, typ string) string {
	if c.choice {
		return ".ofType(" + typ + ")"
	}
	return ""
}

// itemInSlice validates a value against the definition of its slice.
func (r *run) itemInSlice(s *node, it sliceItem) {
	typ := it.typ
	if s.choice && len(s.types) == 1 {
		typ = s.types[0].code
	}
	if m, ok := it.value.(map[string]any); ok && typ == "Extension" && s.content() == nil {
		prof := ""
		for _, t := range s.types {
			if len(t.profiles) > 0 {
				prof = t.profiles[0]
			}
		}
		if prof != "" {
			if p, err := r.v.planFor(prof); err == nil {
				r.object(m, p.root, false)
				r.constraints(p.root, m, "Extension")
			} else {
				r.warnf("not-found", "extension-profile-unknown", "The extension definition %s of slice %s could not be found", prof, s.sliceName)
			}
			if s.fixed != nil || s.pattern != nil || s.binding != nil || len(s.constraints) > 0 {
				r.checkValueRules(s, typ, it.value)
			}
			return
		}
	}
	r.item(s, typ, it.value, nil)
	if m, ok := it.value.(map[string]any); ok {
		if pe := r.profileElementNode(s); pe != nil && pe != s {
			r.object(m, pe, false)
			r.constraints(pe, m, typ)
		}
	}
}

// checkValueRules runs the fixed, pattern, binding and constraint checks of n.
func (r *run) checkValueRules(n *node, typ string, val any) {
	if n.fixed != nil && !jsonEqual(n.fixed, val) {
		r.errorf("value", "fixed-mismatch", "Value is '%s' but is fixed to '%s' in the profile %s", short(val), short(n.fixed), canonicalOf(n.owner))
	} else if n.pattern != nil && !patternMatches(n.pattern, val) {
		r.errorf("value", "pattern-mismatch", "The value does not match the pattern %s '%s' in the profile %s", n.fixedName, short(n.pattern), canonicalOf(n.owner))
	}
	if n.binding != nil {
		r.checkBinding(n, typ, val)
	}
	r.constraints(n, val, typ)
}

// matchesSlice reports whether a value belongs to slice s of c by its discriminators.
func (r *run) matchesSlice(c, s *node, it sliceItem) bool {
	if c.slicing == nil || len(c.slicing.discriminators) == 0 {
		if s.choice || len(s.types) == 1 && c.choice {
			return len(s.types) == 1 && s.types[0].code == it.typ
		}
		return r.conformsQuietly(s, it)
	}
	for _, d := range c.slicing.discriminators {
		if !r.discriminatorMatches(s, d, it) {
			return false
		}
	}
	return true
}

func (r *run) conformsQuietly(s *node, it sliceItem) bool {
	r.quiet++
	before := r.quietErrors
	r.itemInSlice(s, it)
	r.quiet--
	ok := r.quietErrors == before
	r.quietErrors = before
	return ok
}

func splitPath(p string) []string {
	p = strings.TrimSpace(p)
	if p == "" || p == "$this" {
		return nil
	}
	p = strings.TrimPrefix(p, "$this.")
	return strings.Split(p, ".")
}

func (r *run) discriminatorMatches(s *node, d discriminator, it sliceItem) bool {
	path := d.path
	resolveFn := false
	if strings.HasPrefix(path, "resolve()") {
		resolveFn = true
	}
	steps := splitPath(path)
	switch d.kind {
	case "value", "pattern":
		want, ok := r.sliceValueAt(s, steps)
		if !ok {
			return r.conformsQuietly(s, it)
		}
		vals := valuesAt(it.value, steps)
		for _, v := range vals {
			if d.kind == "value" && s.fixed == nil && wantIsPattern(s, steps) {
				if patternMatches(want, v) {
					return true
				}
				continue
			}
			if d.kind == "pattern" || wantIsPattern(s, steps) {
				if patternMatches(want, v) {
					return true
				}
			} else if jsonEqual(want, v) {
				return true
			}
		}
		return false
	case "exists":
		target := r.sliceNodeAt(s, steps)
		if target == nil {
			return r.conformsQuietly(s, it)
		}
		has := len(valuesAt(it.value, steps)) > 0
		if target.min > 0 {
			return has
		}
		if target.max == 0 {
			return !has
		}
		return true
	case "type":
		if resolveFn {
			return r.conformsQuietly(s, it)
		}
		if len(steps) == 0 {
			if m, ok := it.value.(map[string]any); ok {
				if rt, _ := m["resourceType"].(string); rt != "" {
					return nodeAllowsType(s, rt)
				}
			}
			return nodeAllowsType(s, it.typ)
		}
		target := r.sliceNodeAt(s, steps)
		if target == nil {
			return r.conformsQuietly(s, it)
		}
		vals := valuesAt(it.value, steps)
		for _, v := range vals {
			if m, ok := v.(map[string]any); ok {
				if rt, _ := m["resourceType"].(string); rt != "" && nodeAllowsType(target, rt) {
					return true
				}
			}
		}
		return false
	default:
		return r.conformsQuietly(s, it)
	}
}

func nodeAllowsType(n *node, typ string) bool {
	if len(n.types) == 0 {
		return true
	}
	for _, t := range n.types {
		if t.code == typ {
			return true
		}
		for _, p := range t.profiles {
			if strings.HasSuffix(p, "/"+typ) {
				return true
			}
		}
	}
	return false
}

func wantIsPattern(s *node, steps []string) bool {
	n := s
	for _, st := range steps {
		if n.pattern != nil {
			return true
		}
		next := childNamed(n, st)
		if next == nil {
			return n.pattern != nil
		}
		n = next
	}
	return n.pattern != nil
}

func childNamed(n *node, name string) *node {
	name = strings.TrimSuffix(name, "[x]")
	cn := n.content()
	if cn == nil {
		return nil
	}
	for _, c := range cn.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// sliceNodeAt walks from a slice along a discriminator path through inline
// children, or the profile of an extension slice.
func (r *run) sliceNodeAt(s *node, steps []string) *node {
	n := s
	for _, st := range steps {
		if strings.HasPrefix(st, "extension(") {
			return nil
		}
		next := childNamed(n, st)
		if next == nil {
			if pe := r.profileElementNode(n); pe != nil {
				next = childNamed(pe, st)
			} else if p := r.typeProfilePlan(n); p != nil {
				next = childNamed(p.root, st)
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

func (r *run) typeProfilePlan(n *node) *plan {
	for _, t := range n.types {
		if len(t.profiles) > 0 {
			if p, err := r.v.planFor(t.profiles[0]); err == nil {
				return p
			}
		}
	}
	return nil
}

// sliceValueAt finds the fixed or pattern value a slice requires at a path.
func (r *run) sliceValueAt(s *node, steps []string) (any, bool) {
	if v, ok := r.sliceValueWithin(s, steps); ok {
		return v, true
	}
	if pe := r.profileElementNode(s); pe != nil && pe != s {
		return r.sliceValueWithin(pe, steps)
	}
	return nil, false
}

// sliceValueWithin finds the fixed or pattern value at a path below s,
// through its inline children or its type profile.
func (r *run) sliceValueWithin(s *node, steps []string) (any, bool) {
	if len(steps) == 1 && steps[0] == "url" {
		for _, t := range s.types {
			if t.code == "Extension" && len(t.profiles) > 0 && s.content() == nil {
				return t.profiles[0], true
			}
		}
	}
	n := s
	for i, st := range steps {
		if v := fixedOrPattern(n); v != nil {
			vals := valuesAt(v, steps[i:])
			if len(vals) == 1 {
				return vals[0], true
			}
			return nil, false
		}
		next := childNamed(n, st)
		if next == nil {
			if pe := r.profileElementNode(n); pe != nil {
				next = childNamed(pe, st)
			} else if p := r.typeProfilePlan(n); p != nil {
				next = childNamed(p.root, st)
			}
		}
		if next == nil {
			return nil, false
		}
		n = next
	}
	if v := fixedOrPattern(n); v != nil {
		return v, true
	}
	return nil, false
}

func fixedOrPattern(n *node) any {
	if n.fixed != nil {
		return n.fixed
	}
	return n.pattern
}

// valuesAt follows simple property steps through a value, flattening arrays.
func valuesAt(v any, steps []string) []any {
	cur := []any{v}
	for _, st := range steps {
		var next []any
		for _, c := range cur {
			m, ok := c.(map[string]any)
			if !ok {
				continue
			}
			name := st
			var vals []any
			if strings.HasSuffix(name, "[x]") {
				prefix := strings.TrimSuffix(name, "[x]")
				for k, val := range m {
					if strings.HasPrefix(k, prefix) && len(k) > len(prefix) && k[len(prefix)] >= 'A' && k[len(prefix)] <= 'Z' {
						vals = append(vals, val)
					}
				}
			} else if val, ok := m[name]; ok {
				vals = append(vals, val)
			}
			for _, val := range vals {
				if arr, ok := val.([]any); ok {
					next = append(next, arr...)
				} else {
					next = append(next, val)
				}
			}
		}
		cur = next
	}
	return cur
}

// profileElementNode returns the element of another profile that a type of n
// names with elementdefinition-profile-element (an element id such as
// Composition.section:codeB), or nil.
func (r *run) profileElementNode(n *node) *node {
	for _, t := range n.types {
		if t.profileElement == "" || len(t.profiles) == 0 {
			continue
		}
		p, err := r.v.planFor(t.profiles[0])
		if err != nil {
			return nil
		}
		return nodeByID(p, t.profileElement)
	}
	return nil
}

// nodeByID finds the node of a plan with an element id: a path, with
// :sliceName after the sliced step.
func nodeByID(p *plan, id string) *node {
	path, slice, _ := strings.Cut(id, ":")
	if n, ok := p.byPath[path]; ok && slice == "" {
		return n
	} else if ok && !strings.Contains(slice, ".") {
		for _, s := range n.slices {
			if s.sliceName == slice {
				return s
			}
		}
	}
	return nil
}
