package snapshot

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Compared properties of an element, as named in a Difference.
const (
	PropertyPath    = "path"
	PropertyMin     = "min"
	PropertyMax     = "max"
	PropertyType    = "type"
	PropertyValue   = "fixed/pattern"
	PropertyBinding = "binding"
	PropertySlicing = "slicing"
	// PropertyMissing marks a published element the generated snapshot lacks.
	PropertyMissing = "missing"
)

// Difference is one property of one element on which a generated snapshot
// disagrees with the published one.
type Difference struct {
	// ID is the element id.
	ID       string `json:"id"`
	Property string `json:"property"`
	Want     string `json:"want"`
	Got      string `json:"got"`
}

// Comparison is the element-by-element agreement of a generated snapshot
// with a published one. Elements are matched by id; an element is identical
// when its path, min, max, types (codes, profiles, target profiles),
// fixed[x]/pattern[x] values, binding (strength and value set) and slicing
// (discriminators and rules) all agree.
type Comparison struct {
	// Elements counts the published snapshot's elements.
	Elements int `json:"elements"`
	// Identical counts the published elements generated identically.
	Identical int `json:"identical"`
	// Extra lists the ids of generated elements the published snapshot lacks.
	Extra       []string     `json:"extra,omitempty"`
	Differences []Difference `json:"differences,omitempty"`
}

// Compare compares the snapshot of generated with the snapshot of published.
func Compare(published, generated map[string]any) Comparison {
	pub := elementsOf(published, "snapshot")
	gen := elementsOf(generated, "snapshot")
	byID := make(map[string]element, len(gen))
	for _, e := range gen {
		byID[str(e, "id")] = e
	}
	c := Comparison{Elements: len(pub)}
	seen := make(map[string]bool, len(pub))
	for _, p := range pub {
		id := str(p, "id")
		seen[id] = true
		g, ok := byID[id]
		if !ok {
			c.Differences = append(c.Differences, Difference{ID: id, Property: PropertyMissing, Want: id})
			continue
		}
		same := true
		for _, prop := range []string{PropertyPath, PropertyMin, PropertyMax, PropertyType, PropertyValue, PropertyBinding, PropertySlicing} {
			want, got := Summary(p, prop), Summary(g, prop)
			if want != got {
				same = false
				c.Differences = append(c.Differences, Difference{ID: id, Property: prop, Want: want, Got: got})
			}
		}
		if same {
			c.Identical++
		}
	}
	for _, e := range gen {
		if id := str(e, "id"); !seen[id] {
			c.Extra = append(c.Extra, id)
		}
	}
	return c
}

// Summary renders one compared property (PropertyPath, PropertyType ...) of
// an element definition as a string, as Compare compares it.
func Summary(e map[string]any, prop string) string {
	switch prop {
	case PropertyPath:
		return path(e)
	case PropertyMin:
		if m, ok := minOf(e); ok {
			return fmt.Sprint(m)
		}
		return ""
	case PropertyMax:
		m, _ := maxOf(e)
		return m
	case PropertyType:
		var parts []string
		for _, t := range types(e) {
			s := str(t, "code")
			if ps := typeProfiles(t); len(ps) > 0 {
				s += "(" + strings.Join(ps, ",") + ")"
			}
			if tp := stringList(t["targetProfile"]); len(tp) > 0 {
				s += "->(" + strings.Join(tp, ",") + ")"
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, "|")
	case PropertyValue:
		var keys []string
		for k := range e {
			if p := valuePrefix(k); p == "fixed" || p == "pattern" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			b, err := json.Marshal(e[k])
			if err != nil {
				b = []byte(fmt.Sprint(e[k]))
			}
			parts = append(parts, k+"="+string(b))
		}
		return strings.Join(parts, " ")
	case PropertyBinding:
		b, _ := e["binding"].(map[string]any)
		if b == nil {
			return ""
		}
		return str(b, "strength") + " " + str(b, "valueSet")
	case PropertySlicing:
		s, _ := e["slicing"].(map[string]any)
		if s == nil {
			return ""
		}
		var parts []string
		for _, d := range anyList(s["discriminator"]) {
			if dm, ok := d.(map[string]any); ok {
				parts = append(parts, str(dm, "type")+":"+str(dm, "path"))
			}
		}
		return strings.Join(parts, ",") + " " + str(s, "rules")
	}
	return ""
}
