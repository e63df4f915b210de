package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/profiles/fhirjson"
	"github.com/nhsconform/conform/profiles/fhirpath"
)

// seg is one step of the location being validated: the JSON property, the
// FHIRPath name, the index when the element repeats and a suffix
// (.ofType(X) for choices, /*Type/id*/ for embedded resources).
type seg struct {
	key, expr string
	index     int
	suffix    string
	typ       string
	def       *node
}

type run struct {
	v      *Validator
	ctx    context.Context
	source []byte
	issues []conformance.Issue
	path   []seg
	// resources is the stack of resources being validated (innermost last).
	resources []map[string]any
	bundles   []*bundleIndex
	// quiet suppresses issues while testing whether an item matches a slice.
	quiet       int
	quietErrors int
	root        map[string]any
	// nodes caches the FHIRPath node of each path step (nil until needed).
	nodes []*fhirpath.Node
	kids  map[kidKey][]*fhirpath.Node
	// failed holds the invariants already reported failing on each value.
	failed map[failedKey]struct{}
	// spans are where source's objects and arrays start and end, when known.
	spans *fhirjson.Spans
	// loc locates issues: the XML input's locator, or for JSON input nil
	// until the first issue, then located.
	loc     SourceLocator
	located fhirjson.Locator
	steps   []fhirjson.Step
	// types caches the Validator's type plans for this run.
	types map[string]*planEntry
}

// typePlan is Validator.typePlan through the run's own cache.
func (r *run) typePlan(name string) (*plan, error) {
	if pe, ok := r.types[name]; ok {
		return pe.p, pe.err
	}
	pe := r.v.typePlanEntry(name)
	if r.types == nil {
		r.types = make(map[string]*planEntry, 16)
	}
	r.types[name] = pe
	return pe.p, pe.err
}

func (r *run) push(key, expr string, index int, suffix string) {
	r.path = append(r.path, seg{key: key, expr: expr, index: index, suffix: suffix})
	r.nodes = append(r.nodes, nil)
}

func (r *run) pushDef(key, expr string, index int, suffix, typ string, def *node) {
	r.path = append(r.path, seg{key: key, expr: expr, index: index, suffix: suffix, typ: typ, def: def})
	r.nodes = append(r.nodes, nil)
}

func (r *run) pop() {
	r.path = r.path[:len(r.path)-1]
	r.nodes = r.nodes[:len(r.nodes)-1]
}

func (r *run) expression() string {
	var b strings.Builder
	for i, s := range r.path {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.expr)
		if s.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		}
		b.WriteString(s.suffix)
	}
	return b.String()
}

func (r *run) add(sev conformance.Severity, code, id, msg string) {
	if r.quiet > 0 {
		if sev == conformance.SeverityError || sev == conformance.SeverityFatal {
			r.quietErrors++
		}
		return
	}
	is := conformance.Issue{Severity: sev, Code: code, MessageID: id, Message: msg, Expression: r.expression()}
	if r.source != nil || r.loc != nil {
		steps := r.steps[:0]
		for i, s := range r.path {
			if i == 0 {
				continue
			}
			steps = append(steps, fhirjson.Key(s.key))
			if s.index >= 0 {
				steps = append(steps, fhirjson.Index(s.index))
			}
		}
		if r.loc == nil {
			r.located.Reset(r.source, r.spans)
			r.loc = &r.located
		}
		r.steps = steps
		// An element the resource does not have (a missing required one)
		// is placed at its nearest enclosing element.
		for n := len(steps); n >= 0; n-- {
			if line, col, ok := r.loc.Locate(steps[:n]); ok {
				is.Line, is.Column = line, col
				break
			}
		}
	}
	r.issues = append(r.issues, is)
}

func (r *run) errorf(code, id, format string, args ...any) {
	r.add(conformance.SeverityError, code, id, fmt.Sprintf(format, args...))
}

func (r *run) warnf(code, id, format string, args ...any) {
	r.add(conformance.SeverityWarning, code, id, fmt.Sprintf(format, args...))
}

func (r *run) infof(code, id, format string, args ...any) {
	r.add(conformance.SeverityInformation, code, id, fmt.Sprintf(format, args...))
}

func (r *run) validateRoot(res map[string]any, base *plan, extra []*plan) {
	rt := base.typeName
	r.path = append(r.path[:0], seg{expr: rt, index: -1, typ: rt})
	r.nodes = append(r.nodes[:0], nil)
	r.resourceWith(res, base, true)
	for _, p := range append(slices.Clip(extra), r.impliedPlans(res, rt, extra)...) {
		r.resourceWith(res, p, false)
	}
}

// resourceWith validates a resource against one plan; base is true for the
// resource type's own definition, which also runs the resource-wide checks.
func (r *run) resourceWith(res map[string]any, p *plan, base bool) {
	if r.ctx.Err() != nil {
		return
	}
	r.resources = append(r.resources, res)
	nb := len(r.bundles)
	defer func() {
		r.resources = r.resources[:len(r.resources)-1]
		r.bundles = r.bundles[:nb]
	}()
	if base {
		r.resourceChecks(res, p.typeName)
	}
	r.object(res, p.root, true)
	r.constraints(p.root, res, p.typeName)
	if !base && r.quiet == 0 {
		r.mustSupportCoverage(res, p)
	}
}

func (r *run) resourceChecks(res map[string]any, rt string) {
	if id, ok := res["id"].(string); ok {
		r.push("id", "id", -1, "")
		switch {
		case len(id) > 64:
			r.errorf("invalid", "resource-id-too-long", "Invalid Resource id: Too long (%d chars)", len(id))
		case !validID(id):
			r.errorf("invalid", "resource-id-invalid", "Invalid Resource id: Invalid Characters ('%s')", id)
		}
		r.pop()
	}
	switch rt {
	case "Bundle":
		r.bundleChecks(res)
	case "QuestionnaireResponse":
		r.questionnaireResponse(res)
	case "MeasureReport":
		r.measureReportStratifiers(res)
	}
	r.containedReferenced(res)
	r.canonicalResource(res, rt)
	r.duplicateElementIDs(res)
	r.narrativeLinks(res)
}

// object validates the properties of obj against the children of cn.
func (r *run) object(obj map[string]any, cn *node, resourceRoot bool) {
	if len(obj) == 0 {
		r.errorf("structure", "empty-object", "Object must have some content")
		return
	}
	var countBuf, presentBuf [48]int
	var counts, present []int
	if len(cn.children) <= len(countBuf) {
		counts, present = countBuf[:len(cn.children)], presentBuf[:len(cn.children)]
	} else {
		counts, present = make([]int, len(cn.children)), make([]int, len(cn.children))
	}
	for k, val := range obj {
		cr, ok := cn.byJSON[k]
		if !ok {
			if resourceRoot && k == "resourceType" {
				continue
			}
			if len(k) > 1 && k[0] == '_' {
				if base, ok := cn.byJSON[k[1:]]; ok && isPrimitive(base.typ) {
					if _, hasBase := obj[base.name]; !hasBase {
						counts[base.idx] += r.property(obj, base, nil, false)
						present[base.idx]++
					}
					continue
				}
			}
			r.push(k, k, -1, "")
			r.errorf("structure", "unknown-element", "Unrecognized property '%s'", k)
			r.pop()
			continue
		}
		counts[cr.idx] += r.property(obj, cr, val, true)
		present[cr.idx]++
	}
	for i, c := range cn.children {
		count := counts[i]
		if count < c.min {
			r.errorf("required", "cardinality-min", "%s: minimum required = %d, but only found %d (from %s)", c.displayPath(), c.min, count, canonicalOf(c.owner))
		}
		if count == 0 && len(c.slices) == 0 {
			continue
		}
		if c.max >= 0 && count > c.max {
			r.errorf("structure", "cardinality-max", "%s: max allowed = %d, but found %d (from %s)", c.displayPath(), c.max, count, canonicalOf(c.owner))
		}
		if c.choice && present[i] > 1 {
			r.errorf("structure", "choice-multiple", "Only one of the choice types of %s may be present", c.path)
		}
		if len(c.slices) > 0 {
			r.slices(c, sliceItems(obj, cn, c))
		}
	}
}

type sliceItem struct {
	value any
	typ   string
	key   string
	index int
}

// sliceItems lists the values of a sliced child in document order.
func sliceItems(obj map[string]any, cn, c *node) []sliceItem {
	var items []sliceItem
	add := func(cr childRef) {
		val, ok := obj[cr.name]
		if !ok {
			return
		}
		if arr, isArr := val.([]any); isArr {
			for i, v := range arr {
				if v != nil {
					items = append(items, sliceItem{value: v, typ: cr.typ, key: cr.name, index: i})
				}
			}
			return
		}
		if val != nil {
			idx := -1
			if c.array {
				idx = 0
			}
			items = append(items, sliceItem{value: val, typ: cr.typ, key: cr.name, index: idx})
		}
	}
	if c.choice {
		for _, t := range c.types {
			if cr, ok := cn.byJSON[c.name+upperFirst(t.code)]; ok {
				add(cr)
			}
		}
	} else if cr, ok := cn.byJSON[c.name]; ok {
		add(cr)
	}
	return items
}

func (n *node) displayPath() string {
	if n.sliceName != "" {
		return n.path + ":" + n.sliceName
	}
	return n.path
}

// property validates the values of one JSON property (val, present when
// has is true) with its _property companion, and returns how many values
// it holds.
func (r *run) property(obj map[string]any, cr childRef, val any, has bool) int {
	c, name, typ, suffix := cr.n, cr.name, cr.typ, cr.suffix
	var ext any
	hasExt := false
	if isPrimitive(typ) {
		ext, hasExt = obj[cr.extName]
	}
	if !has && !hasExt {
		return 0
	}
	arr, isArr := val.([]any)
	extArr, extIsArr := ext.([]any)
	if c.array {
		if has && !isArr {
			r.push(name, c.name, -1, suffix)
			r.errorf("structure", "json-not-array", "This property must be an Array, not %s", jsonKind(val))
			r.pop()
			return 1
		}
		if hasExt && !extIsArr {
			r.push(cr.extName, c.name, -1, suffix)
			r.errorf("structure", "json-not-array", "This property must be an Array, not %s", jsonKind(ext))
			r.pop()
		}
		n := len(arr)
		if len(extArr) > n {
			n = len(extArr)
		}
		if has && len(arr) == 0 {
			r.push(name, c.name, -1, suffix)
			r.errorf("structure", "empty-array", "Array cannot be empty - the property should not be present if it has no values")
			r.pop()
		}
		for i := 0; i < n; i++ {
			var v, e any
			if i < len(arr) {
				v = arr[i]
			}
			if i < len(extArr) {
				e = extArr[i]
			}
			r.pushDef(name, c.name, i, suffix, typ, c)
			r.item(c, typ, v, e)
			r.pop()
		}
		return n
	}
	if isArr {
		r.push(name, c.name, -1, suffix)
		r.errorf("structure", "json-array-not-allowed", "This property must be a single value, not an array")
		r.pop()
		return len(arr)
	}
	r.pushDef(name, c.name, -1, suffix, typ, c)
	r.item(c, typ, val, ext)
	r.pop()
	return 1
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an Object"
	case []any:
		return "an Array"
	case string:
		return "a String"
	case json.Number:
		return "a Number"
	case bool:
		return "a Boolean"
	case nil:
		return "null"
	}
	return "an unknown value"
}

func isPrimitive(typ string) bool {
	return typ != "" && typ[0] >= 'a' && typ[0] <= 'z'
}

// item validates one value of element n holding type typ; ext is the
// matching _property object of a primitive.
func (r *run) item(n *node, typ string, val, ext any) {
	if ext != nil {
		if em, ok := ext.(map[string]any); ok {
			if ep, err := r.typePlan("Element"); err == nil {
				r.object(em, ep.root, false)
			}
		} else {
			r.errorf("structure", "json-wrong-type", "The primitive extension must be an Object, not %s", jsonKind(ext))
		}
	}
	if val == nil {
		if ext == nil {
			r.errorf("structure", "json-null", "Null values are not allowed here")
			return
		}
		if em, ok := ext.(map[string]any); ok && len(slist(em, "extension")) == 0 {
			r.errorf("invariant", "constraint-ele-1", "Constraint failed: ele-1: 'All FHIR elements must have a @value or children' (defined in http://hl7.org/fhir/StructureDefinition/Element)")
		} else if ok && len(n.valueAlternatives) > 0 && !hasExtension(em, n.valueAlternatives) {
			r.errorf("invalid", "value-alternative-missing", "The element definition %s in the profile %s requires that if a value is not present, one of the extensions %s must be present", n.path, canonicalOf(n.owner), strings.Join(n.valueAlternatives, ", "))
		} else if typ == "code" && n.binding != nil && n.binding.strength == "required" {
			r.errorf("code-invalid", "binding-no-code", "No code provided, and a code is required from the value set '%s'", n.binding.valueSet)
		}
		return
	}
	if isPrimitive(typ) {
		r.primitive(n, typ, val)
	} else {
		obj, ok := val.(map[string]any)
		if !ok {
			r.errorf("structure", "json-wrong-type", "This property must be an Object, not %s", jsonKind(val))
			return
		}
		r.complex(n, typ, obj)
	}
	if n.fixed != nil && !jsonEqual(n.fixed, val) {
		r.errorf("value", "fixed-mismatch", "Value is '%s' but is fixed to '%s' in the profile %s", short(val), short(n.fixed), canonicalOf(n.owner))
	} else if n.pattern != nil && !patternMatches(n.pattern, val) {
		r.errorf("value", "pattern-mismatch", "The value does not match the pattern %s '%s' in the profile %s", n.fixedName, short(n.pattern), canonicalOf(n.owner))
	}
	if n.binding != nil {
		r.checkBinding(n, typ, val)
	}
	if n.minValue != nil || n.maxValue != nil {
		r.checkRange(n, val)
	}
	if len(n.langControl) > 0 {
		r.narrativeLanguages(n, val)
	}
	r.constraints(n, val, typ)
}

func short(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

func (r *run) isResourceType(typ string) bool {
	if typ == "Resource" || typ == "DomainResource" {
		return true
	}
	if typ == "" || typ[0] < 'A' || typ[0] > 'Z' {
		return false
	}
	p, err := r.typePlan(typ)
	return err == nil && p.kind == "resource"
}

func (r *run) complex(n *node, typ string, obj map[string]any) {
	if r.isResourceType(typ) {
		r.embedded(obj, n)
		return
	}
	cn := n.content()
	var tplan *plan
	if cn != nil && typ != "Extension" {
		for _, t := range n.types {
			if t.code != typ {
				continue
			}
			for _, prof := range t.profiles {
				if _, err := r.v.planFor(prof); err != nil {
					r.errorf("structure", "type-profile-unknown", "Unknown profile %s", prof)
				}
			}
		}
	}
	if cn == nil {
		prof := ""
		for _, t := range n.types {
			if t.code == typ && len(t.profiles) > 0 {
				prof = t.profiles[0]
			}
		}
		if typ == "Extension" && prof == "" {
			r.extension(obj)
			return
		}
		var p *plan
		var err error
		if prof == "" {
			p, err = r.typePlan(typ)
		} else if p, err = r.v.planFor(prof); err != nil {
			r.errorf("not-found", "type-profile-unknown", "Unknown profile %s", prof)
			p, err = r.typePlan(typ)
		}
		if err != nil {
			r.errorf("structure", "type-unknown", "Unknown type '%s'", typ)
			return
		}
		tplan = p
		cn = p.root
	}
	if typ == "Extension" {
		if _, ok := obj["url"].(string); !ok {
			r.errorf("structure", "extension-no-url", "Extension.url is required in order to identify, use and validate the extension")
		}
	}
	r.object(obj, cn, false)
	if tplan != nil {
		r.constraints(tplan.root, obj, typ)
	}
	r.typeChecks(n, typ, obj)
}

// extension validates an extension whose definition comes from its url.
func (r *run) extension(obj map[string]any) {
	url, ok := obj["url"].(string)
	if !ok || url == "" {
		r.errorf("structure", "extension-no-url", "Extension.url is required in order to identify, use and validate the extension")
		if ep, err := r.typePlan("Extension"); err == nil {
			r.object(obj, ep.root, false)
		}
		return
	}
	p, err := r.v.planFor(url)
	if err != nil || p.typeName != "Extension" {
		if allowedUnknownExtension(url) {
			r.warnf("structure", "extension-unknown-allowed", "Unknown extension %s", url)
			if ep, perr := r.typePlan("Extension"); perr == nil {
				r.object(obj, ep.root, false)
			}
			return
		}
		if !strings.Contains(url, ":") {
			if len(r.path) < 2 || r.path[len(r.path)-2].typ != "Extension" {
				r.errorf("structure", "extension-url-relative", "Extension.url must be an absolute URL")
			}
			if ep, perr := r.typePlan("Extension"); perr == nil {
				r.object(obj, ep.root, false)
			}
			return
		}
		r.errorf("structure", "extension-unknown", "The extension %s could not be found so is not allowed here", url)
		if ep, perr := r.typePlan("Extension"); perr == nil {
			r.object(obj, ep.root, false)
		}
		return
	}
	r.object(obj, p.root, false)
	r.constraints(p.root, obj, "Extension")
	r.extensionContext(p, url)
}

// embedded validates a resource inside another (contained, Bundle entries,
// Parameters).
func (r *run) embedded(obj map[string]any, n *node) {
	rt, _ := obj["resourceType"].(string)
	if rt == "" {
		r.errorf("structure", "resource-type-missing", "Unable to find resourceType property")
		return
	}
	p, err := r.typePlan(rt)
	if err != nil || p.kind != "resource" {
		r.errorf("structure", "resource-type-unknown", "Unknown resource type '%s'", rt)
		return
	}
	if len(n.types) > 0 {
		allowed := false
		var names []string
		for _, t := range n.types {
			names = append(names, t.code)
			if t.code == rt || t.code == "Resource" || t.code == "DomainResource" && rt != "Bundle" && rt != "Binary" && rt != "Parameters" {
				allowed = true
			}
		}
		if !allowed {
			r.errorf("structure", "resource-type-not-allowed", "The type '%s' is not valid - must be %s", rt, strings.Join(names, " or "))
			return
		}
	}
	id, _ := obj["id"].(string)
	if id == "" {
		id = "null"
	}
	top := &r.path[len(r.path)-1]
	saved, savedTyp := top.suffix, top.typ
	top.suffix = "/*" + rt + "/" + id + "*/"
	top.typ = rt
	r.resourceWith(obj, p, true)
	var choices []*plan
	var profileTypes []string
	anyType := false
	for _, t := range n.types {
		for _, prof := range t.profiles {
			pp, err := r.v.planFor(prof)
			if err != nil {
				r.warnf("not-found", "profile-unknown", "Profile reference '%s' has not been checked because it could not be found", prof)
				continue
			}
			switch {
			case pp.typeName == rt:
				choices = append(choices, pp)
			case pp.typeName == "Resource" || pp.typeName == "DomainResource":
				anyType = true
			case !slices.Contains(profileTypes, pp.typeName):
				profileTypes = append(profileTypes, pp.typeName)
			}
		}
	}
	if len(choices) == 0 && !anyType && len(profileTypes) > 0 {
		r.errorf("structure", "resource-type-not-profiled", "The type '%s' is not valid - must be %s", rt, strings.Join(profileTypes, " or "))
	}
	switch {
	case len(choices) == 1:
		r.resourceWith(obj, choices[0], false)
	case len(choices) > 1:
		r.oneOfProfiles(obj, choices)
	}
	var declared []*plan
	if meta, ok := obj["meta"].(map[string]any); ok {
		for _, pr := range slist(meta, "profile") {
			url, _ := pr.(string)
			if url == "" || url == model(rt) {
				continue
			}
			pp, err := r.v.planFor(url)
			if err != nil {
				r.warnf("not-found", "profile-unknown", "Profile reference '%s' has not been checked because it could not be found", url)
				continue
			}
			if pp.typeName == rt {
				r.resourceWith(obj, pp, false)
				declared = append(declared, pp)
			}
		}
	}
	for _, pp := range r.impliedPlans(obj, rt, append(slices.Clip(declared), choices...)) {
		r.resourceWith(obj, pp, false)
	}
	top.suffix, top.typ = saved, savedTyp
}

// allowedUnknownExtension reports whether an extension URL may be used
// without a definition: example domains and cross-version extensions, as the
// HL7 validator allows.
func allowedUnknownExtension(url string) bool {
	if strings.HasPrefix(url, "http://hl7.org/fhir/") && strings.Contains(url, "/StructureDefinition/extension-") {
		rest := strings.TrimPrefix(url, "http://hl7.org/fhir/")
		if len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9' {
			return true
		}
	}
	return strings.Contains(url, "example.org") || strings.Contains(url, "acme.com") || strings.Contains(url, "nema.org") ||
		strings.HasPrefix(url, "http://hl7.org/fhir/tools/StructureDefinition/")
}

// oneOfProfiles validates an embedded resource whose element allows several
// profiles: it must conform to one of them.
func (r *run) oneOfProfiles(obj map[string]any, choices []*plan) {
	for _, p := range choices {
		r.quiet++
		before := r.quietErrors
		r.resourceWith(obj, p, false)
		r.quiet--
		ok := r.quietErrors == before
		r.quietErrors = before
		if ok {
			r.resourceWith(obj, p, false)
			return
		}
	}
	names := make([]string, len(choices))
	for i, p := range choices {
		names[i] = canonicalOf(p)
	}
	r.errorf("structure", "profile-no-match", "Unable to find a match for the specified profile among choices: %s", strings.Join(names, ", "))
}

// hasExtension reports whether obj has an extension with one of the URLs.
func hasExtension(obj map[string]any, urls []string) bool {
	for _, e := range slist(obj, "extension") {
		if em, ok := e.(map[string]any); ok && slices.Contains(urls, sstr(em, "url")) {
			return true
		}
	}
	return false
}
