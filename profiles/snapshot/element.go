package snapshot

import (
	"encoding/json"
	"strconv"
	"strings"
)

// element is one ElementDefinition in the shared in-memory shape.
type element = map[string]any

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func path(e element) string      { return str(e, "path") }
func sliceName(e element) string { return str(e, "sliceName") }

func hasSlicing(e element) bool {
	_, ok := e["slicing"].(map[string]any)
	return ok
}

func types(e element) []map[string]any {
	arr, _ := e["type"].([]any)
	out := make([]map[string]any, 0, len(arr))
	for _, t := range arr {
		if m, ok := t.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func typeCodes(e element) []string {
	ts := types(e)
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = str(t, "code")
	}
	return out
}

func stringList(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func typeProfiles(t map[string]any) []string { return stringList(t["profile"]) }

// minOf returns the element's min; ok is false when absent or not a number.
func minOf(e element) (int, bool) {
	switch v := e["min"].(type) {
	case json.Number:
		n, err := strconv.Atoi(v.String())
		return n, err == nil
	case float64:
		return int(v), true
	case int:
		return v, true
	}
	return 0, false
}

func maxOf(e element) (string, bool) {
	s, ok := e["max"].(string)
	return s, ok
}

// largerMax reports whether max a allows more repetitions than max b.
func largerMax(a, b string) bool {
	if b == "*" || a == b {
		return false
	}
	if a == "*" {
		return true
	}
	ai, err1 := strconv.Atoi(a)
	bi, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return ai > bi
}

// deepCopy copies a value of the shared in-memory shape.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, vv := range x {
			m[k] = deepCopy(vv)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, vv := range x {
			a[i] = deepCopy(vv)
		}
		return a
	default:
		return v
	}
}

func copyElement(e element) element { return deepCopy(e).(map[string]any) }

func isExtensionPath(p string) bool {
	return strings.HasSuffix(p, ".extension") || strings.HasSuffix(p, ".modifierExtension")
}

// isChoice reports whether p names a choice element (value[x]).
func isChoice(p string) bool { return strings.HasSuffix(p, "[x]") }

// pathMatches reports whether a differential path names the base path p,
// directly or as a type-named choice (valueQuantity for value[x]).
func pathMatches(diffPath, p string) bool {
	if diffPath == p {
		return true
	}
	if !isChoice(p) {
		return false
	}
	stem := p[:len(p)-3]
	return len(diffPath) > len(stem) && strings.HasPrefix(diffPath, stem) && !strings.Contains(diffPath[len(stem):], ".")
}

// renamedType returns the type a type-named choice path selects
// (Quantity for valueQuantity against value[x]), or "" when diffPath is not a
// rename of p.
func renamedType(diffPath, p string) string {
	if !isChoice(p) || isChoice(diffPath) || !pathMatches(diffPath, p) {
		return ""
	}
	return diffPath[len(p)-3:]
}

// typeForRename maps the capitalised tail of a renamed choice path to a type
// code among the element's types (String -> string, Quantity -> Quantity).
func typeForRename(tail string, e element) string {
	for _, c := range typeCodes(e) {
		if strings.EqualFold(c, tail) {
			return c
		}
	}
	if tail == "" {
		return ""
	}
	if isPrimitiveName(strings.ToLower(tail[:1]) + tail[1:]) {
		return strings.ToLower(tail[:1]) + tail[1:]
	}
	return tail
}

var primitiveTypes = map[string]bool{
	"base64Binary": true, "boolean": true, "canonical": true, "code": true, "date": true, "dateTime": true,
	"decimal": true, "id": true, "instant": true, "integer": true, "markdown": true, "oid": true,
	"positiveInt": true, "string": true, "time": true, "unsignedInt": true, "uri": true, "url": true,
	"uuid": true, "xhtml": true,
}

func isPrimitiveName(s string) bool { return primitiveTypes[s] }

func tail(p string) string {
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[i+1:]
	}
	return p
}

func stripVersion(url string) string {
	if i := strings.IndexByte(url, '|'); i >= 0 {
		return url[:i]
	}
	return url
}

// valueKeyPrefixes are the ElementDefinition choice properties: a value in the
// differential replaces any variant of the same property in the base.
var valueKeyPrefixes = []string{"fixed", "pattern", "defaultValue", "minValue", "maxValue"}

func valuePrefix(key string) string {
	for _, p := range valueKeyPrefixes {
		if strings.HasPrefix(key, p) && len(key) > len(p) && key[len(p)] >= 'A' && key[len(p)] <= 'Z' {
			return p
		}
	}
	return ""
}

func removeWithPrefix(e element, prefix string) {
	for k := range e {
		if valuePrefix(k) == prefix {
			delete(e, k)
		}
	}
}

// elementsOf returns the element list of a snapshot or differential.
func elementsOf(sd map[string]any, part string) []element {
	m, _ := sd[part].(map[string]any)
	if m == nil {
		return nil
	}
	arr, _ := m["element"].([]any)
	out := make([]element, 0, len(arr))
	for _, e := range arr {
		if em, ok := e.(map[string]any); ok {
			out = append(out, em)
		}
	}
	return out
}
