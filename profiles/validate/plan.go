package validate

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
)

// plan is a StructureDefinition compiled for validation: its snapshot as a
// tree of nodes with the checks of each element precomputed.
type plan struct {
	url, version, name string
	// typeName is StructureDefinition.type.
	typeName string
	kind     string
	root     *node
	byPath   map[string]*node
	// context lists where an extension may be used (StructureDefinition.context).
	context []extContext
	// contextInvariants are StructureDefinition.contextInvariant expressions.
	contextInvariants []string
	// derivation is StructureDefinition.derivation: specialization or constraint.
	derivation string
	// vitalSigns marks the FHIR vital signs profiles, whose units binding
	// is read as extensible (see relaxedBinding).
	vitalSigns bool
}

type extContext struct {
	kind, expression string
}

type typeRef struct {
	code     string
	profiles []string
	targets  []string
	// profileElement is the element of the first profile the type stands
	// for (elementdefinition-profile-element), by element id.
	profileElement string
}

const extProfileElement = "http://hl7.org/fhir/StructureDefinition/elementdefinition-profile-element"

// childRef is one JSON property name of a child element, with the type of
// its value and precomputed names.
type childRef struct {
	n       *node
	typ     string
	idx     int
	name    string
	extName string
	suffix  string
}

type node struct {
	path, id  string
	basePath  string
	name      string
	sliceName string
	min       int
	// max is -1 when unbounded.
	max int
	// array is true when the base element repeats (a JSON array).
	array       bool
	types       []typeRef
	choice      bool
	children    []*node
	byJSON      map[string]childRef
	fixed       any
	pattern     any
	fixedName   string
	binding     *binding
	constraints []*constraint
	slicing     *slicing
	slices      []*node
	contentRef  string
	ref         *node
	mustSupport bool
	maxLength   int
	minValue    any
	maxValue    any
	// langControl holds narrative-language-control codes (_yes, _no,
	// _resource or language codes) of a Narrative element.
	langControl []string
	// valueAlternatives lists the extensions that may stand in for an
	// absent primitive value (ElementDefinition.valueAlternatives).
	valueAlternatives []string
	owner             *plan
	// allowedTypes is the set of type codes the element permits.
	allowedTypes map[string]bool
	// targetTypes caches the resource types a Reference element allows.
	targetTypes atomic.Pointer[targetTypes]
}

const (
	extValueAlternatives   = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.valueAlternatives"
	extValueAlternativesR5 = "http://hl7.org/fhir/StructureDefinition/elementdefinition-valueAlternatives"
)

type binding struct {
	strength string
	valueSet string
}

type constraint struct {
	key, severity, human, expression string
	source                           string
	// compiled caches the compiled expression.
	compiled atomic.Pointer[compiledConstraint]
}

type discriminator struct {
	kind, path string
}

type slicing struct {
	discriminators []discriminator
	rules          string
	ordered        bool
}

func sstr(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func slist(m map[string]any, k string) []any {
	a, _ := m[k].([]any)
	return a
}

func sobj(m map[string]any, k string) map[string]any {
	o, _ := m[k].(map[string]any)
	return o
}

func parseMax(s string) int {
	if s == "*" || s == "" {
		return -1
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

func numToInt(v any) (int, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := strconv.Atoi(string(n))
		return i, err == nil
	case float64:
		return int(n), true
	}
	return 0, false
}

// compilePlan builds the plan of a StructureDefinition with a snapshot.
func compilePlan(sd map[string]any) (*plan, error) {
	snap := sobj(sd, "snapshot")
	elems := slist(snap, "element")
	if len(elems) == 0 {
		return nil, fmt.Errorf("structure definition %s has no snapshot", sstr(sd, "url"))
	}
	p := &plan{
		url: sstr(sd, "url"), version: sstr(sd, "version"), name: sstr(sd, "name"),
		typeName: sstr(sd, "type"), kind: sstr(sd, "kind"), derivation: sstr(sd, "derivation"),
		byPath: map[string]*node{},
	}
	p.vitalSigns = p.typeName == "Observation" && coreDefinition(p.url) &&
		(p.url == vitalSignsProfile || sstr(sd, "baseDefinition") == vitalSignsProfile)
	for _, c := range slist(sd, "contextInvariant") {
		if e, ok := c.(string); ok && e != "" {
			p.contextInvariants = append(p.contextInvariants, e)
		}
	}
	for _, c := range slist(sd, "context") {
		if cm, ok := c.(map[string]any); ok {
			p.context = append(p.context, extContext{kind: sstr(cm, "type"), expression: sstr(cm, "expression")})
		}
	}
	var stack []*node
	for i, raw := range elems {
		em, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("structure definition %s: snapshot element %d is not an object", p.url, i)
		}
		n := compileNode(p, em)
		if i == 0 {
			p.root = n
			stack = append(stack, n)
			p.byPath[n.path] = n
			continue
		}
		dot := strings.LastIndexByte(n.path, '.')
		if dot < 0 {
			return nil, fmt.Errorf("structure definition %s: element %s is outside the root", p.url, n.path)
		}
		parentPath := n.path[:dot]
		for len(stack) > 0 && stack[len(stack)-1].path != parentPath {
			if n.sliceName != "" && stack[len(stack)-1].path == n.path && stack[len(stack)-1].sliceName == "" {
				break
			}
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 {
			return nil, fmt.Errorf("structure definition %s: element %s has no parent in the snapshot", p.url, n.path)
		}
		parent := stack[len(stack)-1]
		if n.sliceName != "" {
			base := parent
			if parent.path != n.path {
				base = findChildByPath(parent, n.path)
			}
			if base == nil {
				return nil, fmt.Errorf("structure definition %s: slice %s:%s has no sliced element", p.url, n.path, n.sliceName)
			}
			base.slices = append(base.slices, n)
			n.array = base.array
			stack = append(stack, n)
			continue
		}
		parent.children = append(parent.children, n)
		if _, seen := p.byPath[n.path]; !seen {
			p.byPath[n.path] = n
		}
		stack = append(stack, n)
	}
	p.index(p.root)
	return p, nil
}

func findChildByPath(parent *node, path string) *node {
	for i := len(parent.children) - 1; i >= 0; i-- {
		if parent.children[i].path == path {
			return parent.children[i]
		}
	}
	return nil
}

func (p *plan) index(n *node) {
	if n.contentRef != "" {
		ref := strings.TrimPrefix(n.contentRef, "#")
		if i := strings.IndexByte(ref, '#'); i >= 0 {
			ref = ref[i+1:]
		}
		n.ref = p.byPath[ref]
	}
	n.byJSON = make(map[string]childRef, len(n.children)*2)
	for i, c := range n.children {
		if c.choice {
			for _, t := range c.types {
				name := c.name + upperFirst(t.code)
				n.byJSON[name] = childRef{n: c, typ: t.code, idx: i, name: name, extName: "_" + name, suffix: ".ofType(" + t.code + ")"}
			}
			continue
		}
		tc := ""
		if len(c.types) > 0 {
			tc = c.types[0].code
		}
		n.byJSON[c.name] = childRef{n: c, typ: tc, idx: i, name: c.name, extName: "_" + c.name}
	}
	for _, c := range n.children {
		p.index(c)
	}
	for _, s := range n.slices {
		p.index(s)
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func compileNode(p *plan, em map[string]any) *node {
	n := &node{path: sstr(em, "path"), id: sstr(em, "id"), sliceName: sstr(em, "sliceName"), owner: p}
	last := n.path
	if dot := strings.LastIndexByte(last, '.'); dot >= 0 {
		last = last[dot+1:]
	}
	if strings.HasSuffix(last, "[x]") {
		n.choice = true
		last = strings.TrimSuffix(last, "[x]")
	}
	n.name = last
	if v, ok := numToInt(em["min"]); ok {
		n.min = v
	}
	n.max = parseMax(sstr(em, "max"))
	if base := sobj(em, "base"); base != nil {
		n.basePath = sstr(base, "path")
		n.array = parseMax(sstr(base, "max")) != 1
	} else {
		n.array = n.max != 1
	}
	n.contentRef = sstr(em, "contentReference")
	for _, e := range slist(em, "extension") {
		m, _ := e.(map[string]any)
		switch sstr(m, "url") {
		case "http://hl7.org/fhir/StructureDefinition/narrative-language-control":
			if c := sstr(m, "valueCode"); c != "" {
				n.langControl = append(n.langControl, c)
			}
		case extValueAlternatives, extValueAlternativesR5:
			if c := sstr(m, "valueCanonical"); c != "" {
				n.valueAlternatives = append(n.valueAlternatives, c)
			}
		}
	}
	n.mustSupport, _ = em["mustSupport"].(bool)
	if v, ok := numToInt(em["maxLength"]); ok {
		n.maxLength = v
	}
	n.allowedTypes = map[string]bool{}
	for _, t := range slist(em, "type") {
		tm, _ := t.(map[string]any)
		if tm == nil {
			continue
		}
		tr := typeRef{code: normaliseTypeCode(tm)}
		profileExts := slist(tm, "_profile")
		for i, pr := range slist(tm, "profile") {
			if s, ok := pr.(string); ok {
				tr.profiles = append(tr.profiles, s)
				if i < len(profileExts) {
					pm, _ := profileExts[i].(map[string]any)
					for _, e := range slist(pm, "extension") {
						if em, ok := e.(map[string]any); ok && sstr(em, "url") == extProfileElement && tr.profileElement == "" {
							tr.profileElement = sstr(em, "valueString")
						}
					}
				}
			}
		}
		for _, pr := range slist(tm, "targetProfile") {
			if s, ok := pr.(string); ok {
				tr.targets = append(tr.targets, s)
			}
		}
		n.types = append(n.types, tr)
		n.allowedTypes[tr.code] = true
	}
	for k, v := range em {
		switch {
		case strings.HasPrefix(k, "fixed"):
			n.fixed, n.fixedName = v, k
		case strings.HasPrefix(k, "pattern"):
			n.pattern, n.fixedName = v, k
		case strings.HasPrefix(k, "minValue"):
			n.minValue = v
		case strings.HasPrefix(k, "maxValue"):
			n.maxValue = v
		}
	}
	if b := sobj(em, "binding"); b != nil {
		if vs := sstr(b, "valueSet"); vs != "" {
			n.binding = &binding{strength: relaxedBinding(p, n.path, sstr(b, "strength"), vs), valueSet: vs}
		}
	}
	for _, c := range slist(em, "constraint") {
		cm, _ := c.(map[string]any)
		if cm == nil {
			continue
		}
		expr := sstr(cm, "expression")
		if expr == "" {
			continue
		}
		if nativeConstraints[sstr(cm, "key")] {
			continue
		}
		n.constraints = append(n.constraints, &constraint{
			key: sstr(cm, "key"), severity: sstr(cm, "severity"), human: sstr(cm, "human"),
			expression: expr, source: sstr(cm, "source"),
		})
	}
	if s := sobj(em, "slicing"); s != nil {
		sl := &slicing{rules: sstr(s, "rules")}
		sl.ordered, _ = s["ordered"].(bool)
		for _, d := range slist(s, "discriminator") {
			dm, _ := d.(map[string]any)
			sl.discriminators = append(sl.discriminators, discriminator{kind: sstr(dm, "type"), path: sstr(dm, "path")})
		}
		n.slicing = sl
	}
	return n
}

// normaliseTypeCode returns the type code, mapping FHIRPath System types
// (Element.id, Extension.url, primitive values) to their FHIR primitive.
func normaliseTypeCode(tm map[string]any) string {
	code := sstr(tm, "code")
	if strings.HasPrefix(code, "http://hl7.org/fhirpath/System.") {
		switch strings.TrimPrefix(code, "http://hl7.org/fhirpath/System.") {
		case "String":
			for _, e := range slist(tm, "extension") {
				em, _ := e.(map[string]any)
				if sstr(em, "url") == "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type" {
					if v := sstr(em, "valueUrl"); v != "" {
						return v
					}
				}
			}
			return "string"
		case "Boolean":
			return "boolean"
		case "Integer":
			return "integer"
		case "Decimal":
			return "decimal"
		case "Date":
			return "date"
		case "DateTime":
			return "dateTime"
		case "Time":
			return "time"
		}
		return "string"
	}
	return code
}

// childrenFor returns the node whose children describe the content of n, or
// nil when the content comes from the data type.
func (n *node) content() *node {
	if n.ref != nil {
		return n.ref
	}
	if len(n.children) > 0 {
		return n
	}
	return nil
}
