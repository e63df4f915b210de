// Package model owns the FHIR R4 type model: for every resource and data type,
// its elements (path, cardinality, types, choice names, contentReference,
// order), built lazily from the snapshots of the base StructureDefinitions.
package model

import (
	"encoding/json"
	"strconv"
	"strings"
	"sync"
)

// CanonicalBase is the prefix of the canonical URL of every base type.
const CanonicalBase = "http://hl7.org/fhir/StructureDefinition/"

// Kind is the kind of a StructureDefinition.
type Kind string

// Type kinds, as StructureDefinition.kind spells them.
const (
	KindPrimitive Kind = "primitive-type"
	KindComplex   Kind = "complex-type"
	KindResource  Kind = "resource"
	KindLogical   Kind = "logical"
)

// JSONKind is how a primitive value is written in FHIR JSON.
type JSONKind string

// JSON representations of primitive values.
const (
	JSONString  JSONKind = "string"
	JSONNumber  JSONKind = "number"
	JSONBoolean JSONKind = "boolean"
)

const systemTypePrefix = "http://hl7.org/fhirpath/"

const fhirTypeExtension = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"

// Model resolves FHIR type names to their element trees. Types are built on
// first use from the StructureDefinitions that resolve returns; a Model is
// safe for concurrent use.
type Model struct {
	resolve func(url string) (map[string]any, bool)
	built   sync.Map
	mu      sync.Mutex
	types   map[string]*entry
}

type entry struct {
	once sync.Once
	t    *Type
}

// New returns a Model reading StructureDefinitions through resolve, which is
// called with canonical URLs such as
// "http://hl7.org/fhir/StructureDefinition/Patient".
func New(resolve func(url string) (map[string]any, bool)) *Model {
	return &Model{resolve: resolve, types: map[string]*entry{}}
}

// Type returns the type with the given name (or canonical URL), building it
// on first use. It reports false when no usable StructureDefinition exists.
func (m *Model) Type(name string) (*Type, bool) {
	if t, ok := m.built.Load(name); ok {
		return t.(*Type), true
	}
	m.mu.Lock()
	e, ok := m.types[name]
	if !ok {
		e = &entry{}
		m.types[name] = e
	}
	m.mu.Unlock()
	e.once.Do(func() {
		url := name
		if !strings.Contains(name, "/") {
			url = CanonicalBase + name
		}
		if sd, ok := m.resolve(url); ok {
			e.t = build(sd)
		}
	})
	if e.t == nil {
		m.mu.Lock()
		if m.types[name] == e {
			delete(m.types, name)
		}
		m.mu.Unlock()
		return nil, false
	}
	m.built.Store(name, e.t)
	return e.t, true
}

// IsResource reports whether name is a resource type (abstract or concrete).
func (m *Model) IsResource(name string) bool {
	t, ok := m.Type(name)
	return ok && t.Kind == KindResource
}

// Children returns the child elements of e when it holds a value of type
// code: the inline children of a backbone element or contentReference, or
// else the elements of the data type named code.
func (m *Model) Children(e *Element, code string) []*Element {
	if c := e.Children(); len(c) > 0 {
		return c
	}
	if t, ok := m.Type(code); ok {
		return t.Root().Children()
	}
	return nil
}

// Child finds the child of e, holding a value of type code, whose JSON name
// is name, following inline children or else the data type's elements. It
// returns the child element and the type of its value.
func (m *Model) Child(e *Element, code, name string) (*Element, string, bool) {
	if len(e.Target().children) > 0 {
		return e.Child(name)
	}
	if t, ok := m.Type(code); ok {
		return t.Root().Child(name)
	}
	return nil, "", false
}

// Type is one resource, data type or logical model.
type Type struct {
	// Name is the type name ("Patient", "HumanName", "decimal").
	Name string
	// URL is the canonical URL of its StructureDefinition.
	URL string
	// Kind is primitive-type, complex-type, resource or logical.
	Kind Kind
	// Abstract is true for types that cannot be instantiated (Resource, Element).
	Abstract bool
	// Base is the name of the type it specialises ("DomainResource"); empty for roots.
	Base string
	// Elements lists every element of the snapshot in order; Elements[0] is the root.
	Elements []*Element
	// JSON is how a primitive type's value is written in JSON; empty for other kinds.
	JSON JSONKind
	// System is the FHIRPath System type of a primitive's value ("System.Decimal");
	// positiveInt and unsignedInt are System.Integer although the R4
	// snapshots name System.String.
	System string
	byPath map[string]*Element
}

// Root returns the root element of the type (path == Name).
func (t *Type) Root() *Element { return t.Elements[0] }

// Element returns the element at a snapshot path such as
// "Observation.component.code"; it does not follow contentReference.
func (t *Type) Element(path string) (*Element, bool) {
	e, ok := t.byPath[path]
	return e, ok
}

// Primitive reports whether the type is a FHIR primitive type.
func (t *Type) Primitive() bool { return t.Kind == KindPrimitive }

// TypeRef is one allowed type of an element.
type TypeRef struct {
	// Code is the FHIR type name ("Quantity", "string"); for elements typed
	// with a FHIRPath System type it is the FHIR type the extension names.
	Code string
	// Profiles are the profiles the value must conform to.
	Profiles []string
	// TargetProfiles are the allowed targets of a Reference or canonical.
	TargetProfiles []string
}

// Choice is one JSON name of an element with the type of its value.
type Choice struct {
	Name string
	Type string
}

// Element is one ElementDefinition of a type's snapshot.
type Element struct {
	// Path is the full path, e.g. "Observation.value[x]".
	Path string
	// Name is the last path segment, e.g. "value[x]".
	Name string
	// Min is the minimum cardinality.
	Min int
	// Max is the maximum cardinality: "0", "1", ... or "*".
	Max string
	// Array is true when the element repeats in the base definition (JSON array).
	Array bool
	// Types lists the allowed types; empty for roots and contentReference elements.
	Types []TypeRef
	// Choice is true for [x] elements.
	Choice bool
	// ContentReference is the "#Path" of the element whose definition this one reuses.
	ContentReference string
	// Order is the index of the element in the snapshot.
	Order int
	// XMLAttr is true when XML carries the value as an attribute (Element.id, Extension.url).
	XMLAttr bool
	// SystemType is the FHIRPath System type ("System.String") of elements
	// typed with a System type, such as Element.id and the value of primitives.
	SystemType string
	// Modifier is ElementDefinition.isModifier.
	Modifier bool
	// Summary is ElementDefinition.isSummary.
	Summary bool
	// Choices lists the JSON names of the element with their types: one entry
	// (Name, Types[0]) for a plain element, one per type for a choice.
	Choices []Choice

	children []*Element
	index    map[string]Choice
	byName   map[string]*Element
	ref      *Element
}

// Target returns the element whose definition e uses: the contentReference
// target when there is one, else e itself.
func (e *Element) Target() *Element {
	if e.ref != nil {
		return e.ref
	}
	return e
}

// Children returns the inline child elements in snapshot order, following
// contentReference; it is empty for elements whose children come from their
// data type.
func (e *Element) Children() []*Element { return e.Target().children }

// Child finds an inline child by JSON name, including choice names such as
// valueQuantity for value[x]; it returns the child and the type of its value.
func (e *Element) Child(name string) (*Element, string, bool) {
	t := e.Target()
	c, ok := t.index[name]
	if !ok {
		return nil, "", false
	}
	return t.byName[c.Name], c.Type, true
}

// TypeCode returns the single type of a non-choice element, or "" when the
// element has none or several.
func (e *Element) TypeCode() string {
	t := e.Target()
	if len(t.Types) == 1 {
		return t.Types[0].Code
	}
	return ""
}

// HasType reports whether code is one of the element's allowed types.
func (e *Element) HasType(code string) bool {
	for _, tr := range e.Target().Types {
		if tr.Code == code {
			return true
		}
	}
	return false
}

var jsonKinds = map[string]JSONKind{
	"boolean": JSONBoolean, "integer": JSONNumber, "decimal": JSONNumber,
	"positiveInt": JSONNumber, "unsignedInt": JSONNumber, "integer64": JSONNumber,
}

var systemTypes = map[string]string{
	"boolean": "System.Boolean", "integer": "System.Integer", "positiveInt": "System.Integer",
	"unsignedInt": "System.Integer", "decimal": "System.Decimal", "date": "System.Date",
	"dateTime": "System.DateTime", "instant": "System.DateTime", "time": "System.Time",
}

func build(sd map[string]any) *Type {
	snap, _ := sd["snapshot"].(map[string]any)
	raw, _ := snap["element"].([]any)
	if len(raw) == 0 {
		return nil
	}
	t := &Type{
		Name:   str(sd["type"]),
		URL:    str(sd["url"]),
		Kind:   Kind(str(sd["kind"])),
		byPath: make(map[string]*Element, len(raw)),
	}
	if b, ok := sd["abstract"].(bool); ok {
		t.Abstract = b
	}
	if base := str(sd["baseDefinition"]); base != "" {
		t.Base = base[strings.LastIndexByte(base, '/')+1:]
	}
	if str(sd["derivation"]) == "constraint" {
		t.Name = str(sd["name"])
	}
	for _, r := range raw {
		ed, _ := r.(map[string]any)
		path := str(ed["path"])
		if path == "" || strings.Contains(str(ed["id"]), ":") || str(ed["sliceName"]) != "" {
			continue
		}
		if _, dup := t.byPath[path]; dup {
			continue
		}
		if len(t.Elements) > 0 && !strings.HasPrefix(path, t.Elements[0].Path+".") || strings.HasSuffix(path, ".") {
			continue
		}
		e := newElement(ed, path, len(t.Elements))
		t.Elements = append(t.Elements, e)
		t.byPath[path] = e
	}
	if len(t.Elements) == 0 || strings.Contains(t.Elements[0].Path, ".") {
		return nil
	}
	root := t.Elements[0]
	for _, e := range t.Elements[1:] {
		dot := strings.LastIndexByte(e.Path, '.')
		if parent, ok := t.byPath[e.Path[:dot]]; ok {
			parent.children = append(parent.children, e)
		}
	}
	for _, e := range t.Elements {
		if e.ContentReference == "" {
			continue
		}
		ref := e.ContentReference[strings.IndexByte(e.ContentReference, '#')+1:]
		if target, ok := t.byPath[ref]; ok && target != e {
			e.ref = target
			if len(e.Types) == 0 {
				e.Choices[0].Type = target.TypeCode()
			}
		}
	}
	for _, e := range t.Elements {
		if len(e.children) > 0 {
			e.index = make(map[string]Choice, len(e.children)+4)
			e.byName = make(map[string]*Element, len(e.children))
			for _, c := range e.children {
				e.byName[c.Name] = c
				for _, ch := range c.Choices {
					e.index[ch.Name] = Choice{Name: c.Name, Type: ch.Type}
				}
			}
		}
	}
	if t.Kind == KindPrimitive {
		t.JSON = JSONString
		if k, ok := jsonKinds[t.Name]; ok {
			t.JSON = k
		}
		t.System = "System.String"
		if s, ok := systemTypes[t.Name]; ok {
			t.System = s
		} else if v, ok := root.byName["value"]; ok && v.SystemType != "" {
			t.System = v.SystemType
		}
	}
	return t
}

func newElement(ed map[string]any, path string, order int) *Element {
	e := &Element{
		Path:             path,
		Name:             path[strings.LastIndexByte(path, '.')+1:],
		Min:              intOf(ed["min"]),
		Max:              str(ed["max"]),
		ContentReference: str(ed["contentReference"]),
		Order:            order,
	}
	e.Modifier, _ = ed["isModifier"].(bool)
	e.Summary, _ = ed["isSummary"].(bool)
	max := e.Max
	if base, ok := ed["base"].(map[string]any); ok && str(base["max"]) != "" {
		max = str(base["max"])
	}
	e.Array = max != "1" && max != "0" && max != "" && strings.Contains(path, ".")
	if reps, ok := ed["representation"].([]any); ok {
		for _, r := range reps {
			if r == "xmlAttr" {
				e.XMLAttr = true
			}
		}
	}
	types, _ := ed["type"].([]any)
	for _, rt := range types {
		tm, _ := rt.(map[string]any)
		code := str(tm["code"])
		if strings.HasPrefix(code, systemTypePrefix) {
			e.SystemType = strings.TrimPrefix(code, systemTypePrefix)
			if ft := extensionURL(tm, fhirTypeExtension); ft != "" {
				code = ft
			}
		}
		e.Types = append(e.Types, TypeRef{Code: code, Profiles: strs(tm["profile"]), TargetProfiles: strs(tm["targetProfile"])})
	}
	if strings.HasSuffix(e.Name, "[x]") {
		e.Choice = true
		stem := strings.TrimSuffix(e.Name, "[x]")
		for _, tr := range e.Types {
			if tr.Code == "" {
				continue
			}
			e.Choices = append(e.Choices, Choice{Name: stem + strings.ToUpper(tr.Code[:1]) + tr.Code[1:], Type: tr.Code})
		}
	} else {
		code := ""
		if len(e.Types) > 0 {
			code = e.Types[0].Code
		}
		e.Choices = []Choice{{Name: e.Name, Type: code}}
	}
	return e
}

func extensionURL(m map[string]any, url string) string {
	exts, _ := m["extension"].([]any)
	for _, x := range exts {
		xm, _ := x.(map[string]any)
		if str(xm["url"]) == url {
			if v := str(xm["valueUrl"]); v != "" {
				return v
			}
			return str(xm["valueUri"])
		}
	}
	return ""
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func strs(v any) []string {
	a, _ := v.([]any)
	if len(a) == 0 {
		return nil
	}
	out := make([]string, 0, len(a))
	for _, x := range a {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func intOf(v any) int {
	switch n := v.(type) {
	case json.Number:
		i, _ := strconv.Atoi(string(n))
		return i
	case float64:
		return int(n)
	case int:
		return n
	}
	return 0
}
