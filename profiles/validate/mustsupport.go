package validate

import (
	"fmt"
	"strings"

	"github.com/nhsconform/conform/conformance"
)

// maxMustSupportDepth bounds how deep Must Support coverage follows a
// profile's elements.
const maxMustSupportDepth = 32

// mustSupportCoverage reports, as information, how many of a constraint
// profile's Must Support elements the resource populates and which it does
// not. An element counts when its parent is present (the resource itself
// for top-level elements); Must Support slices are not counted.
func (r *run) mustSupportCoverage(res map[string]any, p *plan) {
	if p.derivation != "constraint" || p.root == nil {
		return
	}
	present, total := 0, 0
	var missing []string
	var walk func(parents []map[string]any, n *node, depth int)
	walk = func(parents []map[string]any, n *node, depth int) {
		if depth > maxMustSupportDepth {
			return
		}
		for _, c := range n.children {
			found := false
			var kids []map[string]any
			for _, obj := range parents {
				for _, v := range elementValues(obj, c) {
					found = true
					if m, ok := v.(map[string]any); ok {
						kids = append(kids, m)
					}
				}
			}
			if c.mustSupport {
				total++
				if found {
					present++
				} else {
					missing = append(missing, c.path)
				}
			}
			if len(kids) > 0 && len(c.children) > 0 {
				walk(kids, c, depth+1)
			}
		}
	}
	walk([]map[string]any{res}, p.root, 0)
	if total == 0 {
		return
	}
	msg := fmt.Sprintf("Must Support coverage of %s: %d of %d elements present", canonicalOf(p), present, total)
	if len(missing) > 0 {
		msg += "; not present: " + strings.Join(missing, ", ")
	}
	r.add(conformance.SeverityInformation, "informational", "must-support-coverage", msg)
}

// elementValues returns the values obj holds for the element c (each item
// of an array; for a choice element, of whichever type is present); a
// primitive holding only extensions counts as a value.
func elementValues(obj map[string]any, c *node) []any {
	names := []string{c.name}
	if c.choice {
		names = names[:0]
		for _, t := range c.types {
			names = append(names, c.name+upperFirst(t.code))
		}
	}
	var out []any
	for _, name := range names {
		v, ok := obj[name]
		if !ok {
			if ext, hasExt := obj["_"+name]; hasExt {
				v, ok = ext, true
			}
		}
		if !ok || v == nil {
			continue
		}
		if arr, isArr := v.([]any); isArr {
			for _, item := range arr {
				if item != nil {
					out = append(out, item)
				}
			}
			continue
		}
		out = append(out, v)
	}
	return out
}
