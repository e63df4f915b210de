package fhirpath

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// Value is one item of a FHIRPath collection: a System value (Boolean,
// Integer, Decimal, String, Date, DateTime, Time, Quantity) or a *Node of FHIR data.
type Value interface {
	// Type names the value's type as FHIRPath reports it.
	Type() TypeSpec
}

// Collection is an ordered FHIRPath collection.
type Collection []Value

// TypeSpec is a namespace-qualified type name such as System.String or FHIR.Patient.
type TypeSpec struct {
	Namespace string
	Name      string
}

// String returns the qualified name, such as System.String.
func (t TypeSpec) String() string {
	if t.Namespace == "" {
		return t.Name
	}
	return t.Namespace + "." + t.Name
}

// Namespaces of FHIRPath types.
const (
	NamespaceSystem = "System"
	NamespaceFHIR   = "FHIR"
)

// Boolean is a System.Boolean.
type Boolean bool

// Integer is a System.Integer.
type Integer int64

// String is a System.String.
type String string

// Decimal is a System.Decimal held exactly as written, never as binary floating point.
type Decimal struct{ d *apd.Decimal }

// Quantity is a System.Quantity: a decimal value with a UCUM unit or a calendar duration keyword.
type Quantity struct {
	Value Decimal
	Unit  string
}

// Type reports System.Boolean.
func (Boolean) Type() TypeSpec { return TypeSpec{NamespaceSystem, "Boolean"} }

// Type reports System.Integer.
func (Integer) Type() TypeSpec { return TypeSpec{NamespaceSystem, "Integer"} }

// Type reports System.String.
func (String) Type() TypeSpec { return TypeSpec{NamespaceSystem, "String"} }

// Type reports System.Decimal.
func (Decimal) Type() TypeSpec { return TypeSpec{NamespaceSystem, "Decimal"} }

// Type reports System.Quantity.
func (Quantity) Type() TypeSpec { return TypeSpec{NamespaceSystem, "Quantity"} }

// ParseDecimal reads a decimal literal such as "1.50" keeping its precision.
func ParseDecimal(s string) (Decimal, bool) {
	if s == "" || strings.ContainsAny(s, "eEnN_ \t") {
		return Decimal{}, false
	}
	d, _, err := apd.NewFromString(s)
	if err != nil || d.Form != apd.Finite {
		return Decimal{}, false
	}
	return Decimal{d}, true
}

// DecimalFromInt returns the decimal with the integer's value.
func DecimalFromInt(i int64) Decimal { return Decimal{apd.New(i, 0)} }

func (d Decimal) dec() *apd.Decimal {
	if d.d == nil {
		return apd.New(0, 0)
	}
	return d.d
}

// String returns the decimal as written, with its trailing zeros.
func (d Decimal) String() string { return d.dec().Text('f') }

// String writes the quantity as a FHIRPath literal: 1 'cm' or 2 days.
func (q Quantity) String() string {
	if isCalendarUnit(q.Unit) {
		return q.Value.String() + " " + q.Unit
	}
	return q.Value.String() + " '" + q.Unit + "'"
}

// Node is an element of FHIR data being navigated: a resource, a complex
// element or a primitive, with its FHIR type when the model knows it.
type Node struct {
	data   any
	ext    map[string]any
	typ    string
	def    string
	name   string
	parent *Node
	doc    *document
	flags  uint8
	tbl    *table
}

type document struct {
	model Model
}

// Type reports FHIR.<type> for typed data.
func (n *Node) Type() TypeSpec {
	if n.typ == "" {
		return TypeSpec{"", ""}
	}
	if strings.HasPrefix(n.typ, "System.") {
		return TypeSpec{NamespaceSystem, n.typ[len("System."):]}
	}
	return TypeSpec{NamespaceFHIR, n.typ}
}

// Data returns the decoded JSON the node stands for.
func (n *Node) Data() any { return n.data }

// TypeName returns the node's FHIR type name, "" when unknown.
func (n *Node) TypeName() string { return n.typ }

// Name returns the element name the node was reached by.
func (n *Node) Name() string { return n.name }

// Parent returns the element holding this one, nil at the root.
func (n *Node) Parent() *Node { return n.parent }

func (n *Node) object() (map[string]any, bool) {
	m, ok := n.data.(map[string]any)
	return m, ok
}

func (n *Node) isResource() bool {
	m, ok := n.data.(map[string]any)
	if !ok {
		return false
	}
	_, ok = m["resourceType"].(string)
	return ok
}

// IsPrimitiveType reports whether a FHIR type name is a primitive type.
func IsPrimitiveType(name string) bool { return systemTypeOf(name) != "" }

// systemTypeOf returns the System type of a FHIR primitive type, "" for other types.
func systemTypeOf(t string) string {
	switch t {
	case "string", "code", "id", "uri", "url", "canonical", "oid", "uuid", "markdown", "base64Binary", "xhtml":
		return "String"
	case "boolean":
		return "Boolean"
	case "integer", "unsignedInt", "positiveInt", "integer64":
		return "Integer"
	case "decimal":
		return "Decimal"
	case "date":
		return "Date"
	case "dateTime", "instant":
		return "DateTime"
	case "time":
		return "Time"
	}
	return ""
}

// systemValue converts a primitive node to its System value; ok is false when
// the node has no value (only extensions) or is not primitive.
func (n *Node) systemValue() (Value, bool) {
	switch v := n.data.(type) {
	case nil, map[string]any, []any:
		return nil, false
	case bool:
		return Boolean(v), true
	case json.Number:
		st := systemTypeOf(n.typ)
		if st == "Integer" || (st == "" && !strings.ContainsAny(string(v), ".eE")) {
			if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				return Integer(i), true
			}
		}
		if d, ok := ParseDecimal(string(v)); ok {
			return d, true
		}
		if f, err := v.Float64(); err == nil {
			var d apd.Decimal
			if _, err := d.SetFloat64(f); err == nil {
				return Decimal{&d}, true
			}
		}
		return nil, false
	case float64:
		var d apd.Decimal
		if _, err := d.SetFloat64(v); err == nil {
			return Decimal{&d}, true
		}
		return nil, false
	case string:
		switch systemTypeOf(n.typ) {
		case "Date":
			if t, ok := parseDate(v); ok {
				return t, true
			}
			if t, ok := parseDateTime(v); ok {
				return t, true
			}
		case "DateTime":
			if t, ok := parseDateTime(v); ok {
				return t, true
			}
		case "Time":
			if t, ok := parseTime(v); ok {
				return t, true
			}
		case "Integer":
			if i, err := strconv.ParseInt(v, 10, 64); err == nil {
				return Integer(i), true
			}
		case "Decimal":
			if d, ok := ParseDecimal(v); ok {
				return d, true
			}
		case "Boolean":
			return Boolean(v == "true"), true
		}
		return String(v), true
	}
	return nil, false
}

// primitive returns v itself for System values and the System value of a primitive node.
func primitive(v Value) (Value, bool) {
	if n, ok := v.(*Node); ok {
		return n.systemValue()
	}
	return v, true
}
