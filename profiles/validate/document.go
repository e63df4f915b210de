package validate

import (
	"strings"
)

// docEntry is one entry of a document Bundle with the entries its resource
// references.
type docEntry struct {
	fullURL string
	res     map[string]any
	targets []int
}

// documentChecks applies the rules of FHIR documents: the references of the
// Composition resolve to exactly one entry by the Bundle resolution rules, and
// every entry is reachable from the Composition.
func (r *run) documentChecks(bundle map[string]any) {
	var entries []docEntry
	byURL := map[string][]int{}
	for _, e := range slist(bundle, "entry") {
		em, _ := e.(map[string]any)
		full, _ := em["fullUrl"].(string)
		inner, _ := em["resource"].(map[string]any)
		if full != "" {
			byURL[full] = append(byURL[full], len(entries))
		}
		entries = append(entries, docEntry{fullURL: full, res: inner})
	}
	if len(entries) == 0 || entries[0].res == nil {
		return
	}
	if rt, _ := entries[0].res["resourceType"].(string); rt != "Composition" {
		return
	}
	for i := range entries {
		if entries[i].res == nil {
			continue
		}
		seen := map[int]bool{}
		eachReference(entries[i].res, 0, func(ref string) {
			for _, t := range resolveInDocument(entries, byURL, ref, entries[i].fullURL) {
				if !seen[t] {
					seen[t] = true
					entries[i].targets = append(entries[i].targets, t)
				}
			}
		})
	}
	r.compositionReferences(entries, byURL)
	r.orphanEntries(entries)
}

// compositionReferences checks the references a document's Composition makes
// to its subject, encounter, custodian, authors, attesters and section content.
func (r *run) compositionReferences(entries []docEntry, byURL map[string][]int) {
	comp := entries[0].res
	base := entries[0].fullURL
	r.push("entry", "entry", 0, "")
	r.push("resource", "resource", -1, "")
	defer func() { r.pop(); r.pop() }()
	one := func(key, what string) {
		if ref, ok := comp[key].(map[string]any); ok {
			r.push(key, key, -1, "")
			r.documentReference(entries, byURL, ref, base, what)
			r.pop()
		}
	}
	many := func(obj map[string]any, key, what string) {
		for i, v := range slist(obj, key) {
			if ref, ok := v.(map[string]any); ok {
				r.push(key, key, i, "")
				r.documentReference(entries, byURL, ref, base, what)
				r.pop()
			}
		}
	}
	one("subject", "Composition Subject")
	one("encounter", "Composition Encounter")
	one("custodian", "Composition Custodian")
	many(comp, "author", "Composition.author")
	for i, a := range slist(comp, "attester") {
		if am, ok := a.(map[string]any); ok {
			if party, ok := am["party"].(map[string]any); ok {
				r.push("attester", "attester", i, "")
				r.push("party", "party", -1, "")
				r.documentReference(entries, byURL, party, base, "Composition.attester.party")
				r.pop()
				r.pop()
			}
		}
	}
	var sections func(obj map[string]any, depth int)
	sections = func(obj map[string]any, depth int) {
		if depth > maxSectionDepth {
			return
		}
		for i, s := range slist(obj, "section") {
			sm, ok := s.(map[string]any)
			if !ok {
				continue
			}
			r.push("section", "section", i, "")
			many(sm, "author", "Section Author")
			if focus, ok := sm["focus"].(map[string]any); ok {
				r.push("focus", "focus", -1, "")
				r.documentReference(entries, byURL, focus, base, "Section Focus")
				r.pop()
			}
			many(sm, "entry", "Section Entry")
			sections(sm, depth+1)
			r.pop()
		}
	}
	sections(comp, 0)
}

// maxSectionDepth bounds the nesting of Composition sections that is followed.
const maxSectionDepth = 64

func (r *run) documentReference(entries []docEntry, byURL map[string][]int, ref map[string]any, base, what string) {
	s, _ := ref["reference"].(string)
	if s == "" || strings.HasPrefix(s, "#") {
		return
	}
	switch found := resolveInDocument(entries, byURL, s, base); {
	case len(found) == 0:
		r.errorf("not-found", "bundle-entry-not-found", "Can't find '%s' in the bundle (%s)", s, what)
	case len(found) > 1:
		r.errorf("invalid", "bundle-multiple-matches", "Found %d matches for '%s' in the bundle (%s)", len(found), s, what)
	}
}

// orphanEntries reports entries of a document that cannot be reached by
// following references forwards from the Composition or backwards to a
// reached entry.
func (r *run) orphanEntries(entries []docEntry) {
	visited := make([]bool, len(entries))
	stack := []int{0}
	visited[0] = true
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, t := range entries[i].targets {
			if !visited[t] {
				visited[t] = true
				stack = append(stack, t)
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for i := range entries {
			if visited[i] {
				continue
			}
			for _, t := range entries[i].targets {
				if visited[t] {
					visited[i] = true
					changed = true
					break
				}
			}
		}
	}
	for i, e := range entries {
		if visited[i] || e.res == nil {
			continue
		}
		r.push("entry", "entry", i, "")
		r.errorf("informational", "bundle-entry-orphan", "Entry '%s' isn't reachable by traversing links (forward or backward) from the Composition", e.fullURL)
		r.pop()
	}
}

// resolveInDocument returns the entries a reference made from the entry with
// fullUrl base resolves to by the Bundle resolution rules: absolute references
// match fullUrl, relative ones are made absolute against the base of the
// referring entry's fullUrl, and a versioned reference also matches
// meta.versionId.
func resolveInDocument(entries []docEntry, byURL map[string][]int, ref, base string) []int {
	version := ""
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref, version = ref[:i], ref[i+len("/_history/"):]
	}
	target := ref
	if !absoluteURL(ref) {
		parts := strings.Split(ref, "/")
		if len(parts) != 2 {
			return nil
		}
		switch {
		case base == "":
			var found []int
			for i, e := range entries {
				if e.res == nil {
					continue
				}
				rt, _ := e.res["resourceType"].(string)
				id, _ := e.res["id"].(string)
				if rt == parts[0] && id == parts[1] && versionMatches(e.res, version) {
					found = append(found, i)
				}
			}
			return found
		case strings.HasPrefix(base, "urn:"):
			target = base[:strings.LastIndexByte(base, ':')+1] + parts[1]
		default:
			b := base
			for k := 0; k < 2; k++ {
				if j := strings.LastIndexByte(b, '/'); j >= 0 {
					b = b[:j]
				}
			}
			target = b + "/" + ref
		}
	}
	var found []int
	for _, i := range byURL[target] {
		if entries[i].res != nil && versionMatches(entries[i].res, version) {
			found = append(found, i)
		}
	}
	return found
}

func versionMatches(res map[string]any, version string) bool {
	if version == "" {
		return true
	}
	meta, _ := res["meta"].(map[string]any)
	v, _ := meta["versionId"].(string)
	return v == version
}

// maxReferenceDepth bounds the nesting that eachReference descends into.
const maxReferenceDepth = 256

// eachReference calls fn with every Reference.reference string in v.
func eachReference(v any, depth int, fn func(string)) {
	if depth > maxReferenceDepth {
		return
	}
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			if k == "reference" {
				if s, ok := c.(string); ok {
					fn(s)
					continue
				}
			}
			eachReference(c, depth+1, fn)
		}
	case []any:
		for _, c := range t {
			eachReference(c, depth+1, fn)
		}
	}
}
