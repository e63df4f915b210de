package validate

import (
	"slices"
	"strings"

	fhirmodel "github.com/nhsconform/conform/profiles/model"
)

// bundleIndex resolves references between the entries of a Bundle.
type bundleIndex struct {
	byURL map[string]map[string]any
	// byTypeID indexes entries by Type/id for relative references.
	byTypeID map[string]map[string]any
}

// absoluteURL reports whether s starts with a URI scheme.
func absoluteURL(s string) bool {
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return false
	}
	for j := 0; j < i; j++ {
		c := s[j]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 0 && (c >= '0' && c <= '9' || c == '+' || c == '.' || c == '-')) {
			return false
		}
	}
	return true
}

func (r *run) bundleChecks(res map[string]any) {
	bt, _ := res["type"].(string)
	idx := &bundleIndex{byURL: map[string]map[string]any{}, byTypeID: map[string]map[string]any{}}
	for i, e := range slist(res, "entry") {
		em, ok := e.(map[string]any)
		if !ok {
			continue
		}
		full, _ := em["fullUrl"].(string)
		inner, _ := em["resource"].(map[string]any)
		r.push("entry", "entry", i, "")
		if full != "" && !absoluteURL(full) {
			r.errorf("invalid", "bundle-fullurl-relative", "The fullUrl must be an absolute URL (not '%s')", full)
		}
		if full == "" && inner != nil && bt != "transaction" && bt != "batch" && bt != "transaction-response" && bt != "batch-response" {
			r.errorf("invalid", "bundle-fullurl-missing", "Except for transactions and batches, each entry in a Bundle must have a fullUrl which is the identity of the resource in the entry")
		}
		if want := restfulTypeID(full); want != "" && inner != nil {
			rt, _ := inner["resourceType"].(string)
			if id, _ := inner["id"].(string); id != "" && rt+"/"+id != want {
				r.errorf("invalid", "bundle-fullurl-mismatch", "The fullUrl '%s' looks like a RESTful server URL, so it must end with the correct type and id (/%s/%s)", full, rt, id)
			}
		}
		r.pop()
		if inner == nil {
			continue
		}
		if full != "" {
			idx.byURL[full] = inner
			if tail := typeIDTail(full); tail != "" {
				if _, dup := idx.byTypeID[tail]; !dup {
					idx.byTypeID[tail] = inner
				}
			}
		}
		rt, _ := inner["resourceType"].(string)
		if id, _ := inner["id"].(string); rt != "" && id != "" {
			if _, dup := idx.byTypeID[rt+"/"+id]; !dup {
				idx.byTypeID[rt+"/"+id] = inner
			}
		}
	}
	r.bundles = append(r.bundles, idx)
	switch bt {
	case "document":
		r.documentChecks(res)
	case "searchset":
		r.searchsetEntries(res)
	}
}

// bundleResolve finds the entry a reference points to in the innermost Bundle.
func (r *run) bundleResolve(ref string) map[string]any {
	if len(r.bundles) == 0 {
		return nil
	}
	b := r.bundles[len(r.bundles)-1]
	if res, ok := b.byURL[ref]; ok {
		return res
	}
	ref = strings.SplitN(ref, "/_history/", 2)[0]
	if res, ok := b.byURL[ref]; ok {
		return res
	}
	if !strings.Contains(ref, ":") {
		if res, ok := b.byTypeID[ref]; ok {
			return res
		}
	}
	return nil
}

// typeIDTail returns the Type/id at the end of a RESTful URL, or "".
// restfulTypeID returns the Type/id a fullUrl ends with when it looks like a
// RESTful server URL (http or https, an R4 resource type and an id, perhaps a
// version), which the resource's type and id must then match; else "".
func restfulTypeID(url string) string {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return ""
	}
	tail := typeIDTail(url)
	typ, _, _ := strings.Cut(tail, "/")
	if tail == "" || !fhirmodel.IsR4ResourceType(typ) {
		return ""
	}
	return strings.SplitN(tail, "/_history/", 2)[0]
}

func typeIDTail(url string) string {
	url = strings.SplitN(url, "/_history/", 2)[0]
	i := strings.LastIndexByte(url, '/')
	if i <= 0 {
		return ""
	}
	j := strings.LastIndexByte(url[:i], '/')
	tail := url[j+1:]
	if !relativeRef(tail) {
		return ""
	}
	return tail
}

// searchsetEntries checks the matches of a searchset Bundle: each has an id
// and a resource type the search (the self link's type or _type) asks for.
func (r *run) searchsetEntries(bundle map[string]any) {
	types := searchTypes(bundle)
	for i, e := range slist(bundle, "entry") {
		em, _ := e.(map[string]any)
		search, _ := em["search"].(map[string]any)
		res, _ := em["resource"].(map[string]any)
		if res == nil || sstr(search, "mode") != "match" {
			continue
		}
		r.push("entry", "entry", i, "")
		r.push("resource", "resource", -1, "")
		if sstr(res, "id") == "" {
			r.errorf("invalid", "searchset-match-no-id", "Search results must have ids")
		}
		if rt := sstr(res, "resourceType"); len(types) > 0 && !slices.Contains(types, rt) {
			r.errorf("invalid", "searchset-match-type", "This is not a matching resource type for the specified search (%s expecting [%s])", rt, strings.Join(types, ", "))
		}
		r.pop()
		r.pop()
	}
}

// searchTypes returns the resource types the self link of a searchset asks
// for, or nil when it does not say.
func searchTypes(bundle map[string]any) []string {
	for _, l := range slist(bundle, "link") {
		lm, _ := l.(map[string]any)
		if sstr(lm, "relation") != "self" {
			continue
		}
		path, query, _ := strings.Cut(sstr(lm, "url"), "?")
		for _, p := range strings.Split(query, "&") {
			if v, ok := strings.CutPrefix(p, "_type="); ok && v != "" {
				return strings.Split(v, ",")
			}
		}
		last := path[strings.LastIndexByte(path, '/')+1:]
		if last != "" && last[0] >= 'A' && last[0] <= 'Z' && !strings.HasPrefix(last, "$") {
			return []string{last}
		}
		return nil
	}
	return nil
}
