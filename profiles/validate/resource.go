package validate

import (
	"strings"

	"github.com/nhsconform/conform/profiles/terminology"
)

// canonicalResource checks the rules the HL7 validator applies to
// conformance resources: an absolute url, absolute code systems in
// ValueSet.compose, and supplements declared as such.
func (r *run) canonicalResource(res map[string]any, rt string) {
	if u, ok := res["url"].(string); ok && u != "" && isCanonicalResourceType(rt) && !absoluteURL(u) {
		r.push("url", "url", -1, "")
		if len(r.resources) > 1 {
			r.errorf("invalid", "canonical-url-relative", "Canonical URLs in contained resources must be absolute URLs if present (%s)", u)
		} else {
			r.errorf("invalid", "canonical-url-relative", "Canonical URLs must be absolute URLs if they are not fragment references (%s)", u)
		}
		r.pop()
	}
	switch rt {
	case "ValueSet":
		r.valueSetParameters(res)
		r.valueSetFilterValues(res)
		compose, _ := res["compose"].(map[string]any)
		for _, part := range []string{"include", "exclude"} {
			for i, inc := range slist(compose, part) {
				im, _ := inc.(map[string]any)
				sys, _ := im["system"].(string)
				if sys == "" || absoluteURL(sys) {
					continue
				}
				r.push("compose", "compose", -1, "")
				r.push(part, part, i, "")
				r.errorf("invalid", "valueset-system-relative", "URI values in ValueSet.compose.%s.system must be absolute. To reference a contained code system, use the full CodeSystem URL and reference it using the http://hl7.org/fhir/StructureDefinition/valueset-system extension (%s)", part, sys)
				r.pop()
				r.pop()
			}
		}
	case "ConceptMap":
		r.conceptMapSources(res)
	case "SearchParameter":
		if t, _ := res["type"].(string); t == "composite" && len(slist(res, "component")) < 2 {
			r.errorf("invalid", "searchparameter-composite", "When the SearchParameter has a type of 'composite', then the SearchParameter must define two or more components")
		}
	case "StructureDefinition":
		t, _ := res["type"].(string)
		if t != "" && !strings.Contains(t, ":") {
			if _, err := r.typePlan(t); err != nil {
				r.push("type", "type", -1, "")
				r.errorf("invalid", "structuredefinition-type-unknown", "The type %s is not legal because it is not defined in the FHIR specification. Other types must have a namespace on them", t)
				r.pop()
			}
		}
		r.elementPaths(res, t)
		r.discriminatorPaths(res, t)
		r.inheritedFixedValues(res)
		r.typeProfiles(res)
	case "CodeSystem":
		codes, uris := map[string]bool{}, map[string]bool{}
		for i, p := range slist(res, "property") {
			pm, _ := p.(map[string]any)
			code, _ := pm["code"].(string)
			uri, _ := pm["uri"].(string)
			r.push("property", "property", i, "")
			if code != "" && codes[code] {
				r.errorf("invalid", "codesystem-property-duplicate", "A property is already defined with the code '%s'", code)
			}
			if uri != "" && uris[uri] {
				r.errorf("invalid", "codesystem-property-duplicate", "A property is already defined with the URI '%s'", uri)
			}
			r.pop()
			codes[code], uris[uri] = true, true
		}
		if sup, _ := res["supplements"].(string); sup != "" {
			if content, _ := res["content"].(string); content != "supplement" {
				r.push("content", "content", -1, "")
				r.errorf("invalid", "codesystem-supplement-content", "CodeSystem Supplements SHALL have a content value of 'supplement'")
				r.pop()
			}
		}
	}
}

var canonicalTypes = setOf("ActivityDefinition", "CapabilityStatement", "ChargeItemDefinition", "CodeSystem", "CompartmentDefinition",
	"ConceptMap", "EffectEvidenceSynthesis", "EventDefinition", "Evidence", "EvidenceVariable", "ExampleScenario", "GraphDefinition",
	"ImplementationGuide", "Library", "Measure", "MessageDefinition", "NamingSystem", "OperationDefinition", "PlanDefinition",
	"Questionnaire", "ResearchDefinition", "ResearchElementDefinition", "RiskEvidenceSynthesis", "SearchParameter",
	"StructureDefinition", "StructureMap", "TerminologyCapabilities", "TestScript", "ValueSet")

func isCanonicalResourceType(rt string) bool { return canonicalTypes[rt] }

// narrativeLinks checks that internal hyperlinks (href="#x") of the
// narrative point at an anchor of the resource's narratives or a contained
// resource.
func (r *run) narrativeLinks(res map[string]any) {
	text, _ := res["text"].(map[string]any)
	div, _ := text["div"].(string)
	if !strings.Contains(div, `href="#`) {
		return
	}
	anchors := map[string]bool{}
	root := res
	if len(r.resources) > 0 {
		root = r.resources[0]
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if id, ok := x["id"].(string); ok {
				anchors[id] = true
			}
			if d, ok := x["div"].(string); ok {
				collectAnchors(d, anchors)
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(root)
	rest := div
	for {
		i := strings.Index(rest, `href="#`)
		if i < 0 {
			return
		}
		rest = rest[i+len(`href="#`):]
		end := strings.IndexByte(rest, '"')
		if end < 0 {
			return
		}
		target := rest[:end]
		if target != "" && !anchors[target] {
			r.push("text", "text", -1, "")
			r.push("div", "div", -1, "")
			r.errorf("invalid", "xhtml-link-unresolved", "Hyperlink '#%s' in the narrative does not resolve", target)
			r.pop()
			r.pop()
		}
	}
}

func collectAnchors(div string, anchors map[string]bool) {
	for _, attr := range []string{` id="`, ` name="`} {
		rest := div
		for {
			i := strings.Index(rest, attr)
			if i < 0 {
				break
			}
			rest = rest[i+len(attr):]
			end := strings.IndexByte(rest, '"')
			if end < 0 {
				break
			}
			anchors[rest[:end]] = true
		}
	}
}

// duplicateElementIDs reports element ids (Element.id) used twice inside one
// resource; contained resources have their own id space, and a
// StructureDefinition's snapshot and differential repeat each other's ids.
func (r *run) duplicateElementIDs(res map[string]any) {
	if r.spans != nil {
		// Two element ids besides the resource's own need that many "id"
		// properties in the document it was read from.
		need := 2
		if _, ok := res["id"]; ok {
			need++
		}
		if r.spans.IDs() < need {
			return
		}
	}
	seen := map[string]bool{}
	var walk func(v any, top bool)
	walk = func(v any, top bool) {
		switch x := v.(type) {
		case map[string]any:
			if _, isResource := x["resourceType"]; isResource && !top {
				return
			}
			if id, ok := x["id"].(string); ok && !top {
				if seen[id] {
					r.errorf("invalid", "element-id-duplicate", "Duplicate id value '%s'", id)
				}
				seen[id] = true
			}
			for k, c := range x {
				if k == "contained" || k == "snapshot" || k == "differential" {
					continue
				}
				walk(c, false)
			}
		case []any:
			for _, c := range x {
				walk(c, false)
			}
		}
	}
	walk(res, true)
}

// elementPaths checks that every element path of a StructureDefinition
// starts with the name of its type.
func (r *run) elementPaths(sd map[string]any, typ string) {
	root := typ
	if i := strings.LastIndexByte(typ, '/'); strings.Contains(typ, ":") && i >= 0 {
		root = typ[i+1:]
	}
	if root == "" {
		return
	}
	for _, part := range []string{"snapshot", "differential"} {
		holder, _ := sd[part].(map[string]any)
		for i, e := range slist(holder, "element") {
			em, _ := e.(map[string]any)
			path, _ := em["path"].(string)
			if path == "" || path == root || strings.HasPrefix(path, root+".") {
				continue
			}
			r.push(part, part, -1, "")
			r.push("element", "element", i, "")
			r.errorf("invalid", "structuredefinition-path", "The path %s must start with the type of the structure %s", path, root)
			r.pop()
			r.pop()
		}
	}
}

// conceptMapSources checks that mapped source codes are in the source value
// set when it can be expanded.
func (r *run) conceptMapSources(cm map[string]any) {
	vs, _ := cm["sourceCanonical"].(string)
	if vs == "" {
		vs, _ = cm["sourceUri"].(string)
	}
	if vs == "" {
		return
	}
	for gi, g := range slist(cm, "group") {
		gm, _ := g.(map[string]any)
		system, _ := gm["source"].(string)
		if system == "" {
			continue
		}
		for ei, e := range slist(gm, "element") {
			em, _ := e.(map[string]any)
			code, _ := em["code"].(string)
			if code == "" {
				continue
			}
			chk, err := r.v.tx.CheckCode(r.ctx, vs, system, code)
			if err != nil || chk.Verdict != terminology.NotMember {
				continue
			}
			label := vs
			if chk.Expansion != nil {
				label = chk.Expansion.URL
				if chk.Expansion.Version != "" {
					label += "|" + chk.Expansion.Version
				}
			}
			r.push("group", "group", gi, "")
			r.push("element", "element", ei, "")
			r.push("code", "code", -1, "")
			r.errorf("required", "conceptmap-source-code", "The source code '%s' is not valid in the value set %s", code, label)
			r.pop()
			r.pop()
			r.pop()
		}
	}
}

const (
	extValueSetParameter = "http://hl7.org/fhir/tools/StructureDefinition/valueset-parameter"
	extCQFExpression     = "http://hl7.org/fhir/StructureDefinition/cqf-expression"
)

// valueSetParameters checks filter values given as expressions: FHIRPath
// only, naming only the value set's declared parameters.
func (r *run) valueSetParameters(vs map[string]any) {
	declared := map[string]bool{}
	for _, e := range slist(vs, "extension") {
		em, _ := e.(map[string]any)
		if sstr(em, "url") != extValueSetParameter {
			continue
		}
		for _, sub := range slist(em, "extension") {
			sm, _ := sub.(map[string]any)
			if sstr(sm, "url") == "name" {
				declared[sstr(sm, "valueCode")] = true
			}
		}
	}
	compose, _ := vs["compose"].(map[string]any)
	for _, part := range []string{"include", "exclude"} {
		for ii, inc := range slist(compose, part) {
			im, _ := inc.(map[string]any)
			for fi, f := range slist(im, "filter") {
				fm, _ := f.(map[string]any)
				val, _ := fm["_value"].(map[string]any)
				for _, e := range slist(val, "extension") {
					em, _ := e.(map[string]any)
					if sstr(em, "url") != extCQFExpression {
						continue
					}
					expr, _ := em["valueExpression"].(map[string]any)
					r.push("compose", "compose", -1, "")
					r.push(part, part, ii, "")
					r.push("filter", "filter", fi, "")
					if lang := sstr(expr, "language"); lang != "text/fhirpath" {
						r.errorf("invalid", "valueset-expression-language", "A ValueSet expression language must be 'text/fhirpath' not '%s'", lang)
					} else if text := sstr(expr, "expression"); strings.HasPrefix(text, "%") && !declared[strings.TrimPrefix(text, "%")] {
						r.errorf("invalid", "valueset-parameter-unknown", "The filter parameter expression '%s' refers to the unknown parameter '%s'", text, strings.TrimPrefix(text, "%"))
					}
					r.pop()
					r.pop()
					r.pop()
				}
			}
		}
	}
}
