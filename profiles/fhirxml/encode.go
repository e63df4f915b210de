package fhirxml

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nhsconform/conform/profiles/model"
)

// Encoder writes resources in the JSON shape as FHIR XML, in the element
// order of the type model; it is safe for concurrent use.
type Encoder struct {
	m *model.Model
	// Indent is the indentation of each nesting level; empty writes no line breaks.
	Indent string
}

// NewEncoder returns an Encoder driven by the type model m, indenting by two spaces.
func NewEncoder(m *model.Model) *Encoder { return &Encoder{m: m, Indent: "  "} }

// Encode writes one resource as FHIR XML. A resource that XML cannot carry
// (an unknown property, a value of the wrong JSON type, an unknown resource
// type) is returned as *Error naming the element path.
func (e *Encoder) Encode(res map[string]any) ([]byte, error) {
	w := &writer{m: e.m, indent: e.Indent}
	w.buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	if err := w.resource(res, nil, 0, true); err != nil {
		return nil, err
	}
	w.newline(0)
	return w.buf.Bytes(), nil
}

type writer struct {
	m      *model.Model
	indent string
	buf    bytes.Buffer
	props  []prop
}

func (w *writer) newline(depth int) {
	if w.indent == "" {
		return
	}
	w.buf.WriteByte('\n')
	for range depth {
		w.buf.WriteString(w.indent)
	}
}

// loc is an element path built only when an error needs it.
type loc struct {
	parent *loc
	name   string
	index  int
}

func child(parent *loc, name string) *loc { return &loc{parent: parent, name: name, index: -1} }

func (l *loc) String() string {
	if l == nil {
		return ""
	}
	s := l.name
	if l.index >= 0 {
		s += "[" + strconv.Itoa(l.index) + "]"
	}
	if p := l.parent.String(); p != "" {
		return p + "." + s
	}
	return s
}

func errorf(at *loc, format string, args ...any) *Error {
	return &Error{Path: at.String(), Msg: fmt.Sprintf(format, args...)}
}

func (w *writer) resource(res map[string]any, at *loc, depth int, root bool) error {
	rt, _ := res["resourceType"].(string)
	if rt == "" {
		return errorf(at, "resource has no resourceType")
	}
	if at == nil {
		at = child(nil, rt)
	}
	if depth > MaxDepth {
		return errorf(at, "nested deeper than %d", MaxDepth)
	}
	typ, ok := w.m.Type(rt)
	if !isIdentifier(rt) || !ok || typ.Kind != model.KindResource || typ.Abstract {
		return errorf(at, "unknown resource type %q", rt)
	}
	w.newline(depth)
	w.buf.WriteByte('<')
	w.buf.WriteString(rt)
	if root {
		w.buf.WriteString(` xmlns="` + Namespace + `"`)
	}
	return w.body(res, typ.Root(), typ.Name, rt, at, depth, true)
}

// body writes the attributes and children of a complex value or resource and
// closes its element. Properties are matched to the model's elements and
// written in element order.
func (w *writer) body(obj map[string]any, el *model.Element, code, name string, at *loc, depth int, resource bool) error {
	start := len(w.props)
	defer func() { w.props = w.props[:start] }()
	unknown := ""
	for k, v := range obj {
		if resource && k == "resourceType" {
			continue
		}
		key, ext := k, false
		if len(k) > 1 && k[0] == '_' {
			key, ext = k[1:], true
		}
		ce, typeCode, ok := w.m.Child(el, code, key)
		if !ok || ext && ce.XMLAttr {
			if unknown == "" || k < unknown {
				unknown = k
			}
			continue
		}
		i := start
		for i < len(w.props) && w.props[i].ch.Name != key {
			i++
		}
		if i == len(w.props) {
			w.props = append(w.props, prop{el: ce, ch: model.Choice{Name: key, Type: typeCode}})
		}
		if ext {
			w.props[i].x, w.props[i].hasX = v, true
		} else {
			w.props[i].v = v
		}
	}
	if unknown != "" {
		return errorf(at, "unknown property %q", unknown)
	}
	end := len(w.props)
	slices.SortFunc(w.props[start:end], func(a, b prop) int {
		if a.el.Order != b.el.Order {
			return a.el.Order - b.el.Order
		}
		return strings.Compare(a.ch.Name, b.ch.Name)
	})
	for i := start; i < end; i++ {
		p := w.props[i]
		if !p.el.XMLAttr {
			continue
		}
		s, ok := p.v.(string)
		if !ok {
			return errorf(child(at, p.ch.Name), "must be a string")
		}
		if err := w.attr(p.ch.Name, s, child(at, p.ch.Name)); err != nil {
			return err
		}
	}
	open := true
	for i := start; i < end; i++ {
		p := w.props[i]
		if p.el.XMLAttr {
			continue
		}
		if open {
			w.buf.WriteByte('>')
			open = false
		}
		x := p.x
		if !p.hasX {
			x = nil
		}
		if err := w.element(p.el, p.ch, p.v, x, child(at, p.ch.Name), depth+1); err != nil {
			return err
		}
	}
	if open {
		w.buf.WriteString("/>")
		return nil
	}
	w.newline(depth)
	w.buf.WriteString("</")
	w.buf.WriteString(name)
	w.buf.WriteByte('>')
	return nil
}

// prop is one JSON property (with its underscore twin) matched to its element.
type prop struct {
	el   *model.Element
	ch   model.Choice
	v, x any
	hasX bool
}

// element writes the value v (and the primitive extension part x) of one
// JSON property; arrays become repeated elements.
func (w *writer) element(el *model.Element, ch model.Choice, v, x any, at *loc, depth int) error {
	if !el.Array {
		return w.single(el, ch, v, x, at, depth)
	}
	vals, ok := v.([]any)
	if v != nil && !ok {
		return errorf(at, "must be an array")
	}
	exts, ok := x.([]any)
	if x != nil && !ok {
		return errorf(at, "_%s must be an array", ch.Name)
	}
	if vals != nil && exts != nil && len(vals) != len(exts) {
		return errorf(at, "%s and _%s differ in length", ch.Name, ch.Name)
	}
	n := max(len(vals), len(exts))
	if n == 0 {
		return errorf(at, "empty array")
	}
	for i := range n {
		var vi, xi any
		if vals != nil {
			vi = vals[i]
		}
		if exts != nil {
			xi = exts[i]
		}
		if err := w.single(el, ch, vi, xi, &loc{parent: at.parent, name: at.name, index: i}, depth); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) single(el *model.Element, ch model.Choice, v, x any, at *loc, depth int) error {
	if depth > MaxDepth {
		return errorf(at, "nested deeper than %d", MaxDepth)
	}
	if ch.Type == "xhtml" {
		s, ok := v.(string)
		if !ok || x != nil {
			return errorf(at, "must be an xhtml string")
		}
		if err := checkXHTML(s); err != nil {
			return errorf(at, "invalid xhtml: %v", err)
		}
		w.newline(depth)
		w.buf.WriteString(s)
		return nil
	}
	typ, ok := w.m.Type(ch.Type)
	if !ok {
		return errorf(at, "no definition for type %q", ch.Type)
	}
	if typ.Kind == model.KindPrimitive {
		return w.primitive(typ, ch.Name, v, x, at, depth)
	}
	if x != nil {
		return errorf(at, "unexpected property _%s", ch.Name)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return errorf(at, "must be an object")
	}
	w.newline(depth)
	w.buf.WriteByte('<')
	w.buf.WriteString(ch.Name)
	if typ.Kind == model.KindResource {
		w.buf.WriteByte('>')
		if err := w.resource(obj, at, depth+1, false); err != nil {
			return err
		}
		w.newline(depth)
		w.buf.WriteString("</")
		w.buf.WriteString(ch.Name)
		w.buf.WriteByte('>')
		return nil
	}
	if len(el.Children()) > 0 {
		return w.body(obj, el, ch.Type, ch.Name, at, depth, false)
	}
	return w.body(obj, typ.Root(), typ.Name, ch.Name, at, depth, false)
}

func (w *writer) primitive(typ *model.Type, name string, v, x any, at *loc, depth int) error {
	if v == nil && x == nil {
		return errorf(at, "null value without extension")
	}
	var ext map[string]any
	if x != nil {
		var ok bool
		if ext, ok = x.(map[string]any); !ok {
			return errorf(at, "_%s must be an object", name)
		}
	}
	w.newline(depth)
	w.buf.WriteByte('<')
	w.buf.WriteString(name)
	used := 0
	if id, ok := ext["id"]; ok {
		s, ok := id.(string)
		if !ok {
			return errorf(child(at, "id"), "must be a string")
		}
		if err := w.attr("id", s, child(at, "id")); err != nil {
			return err
		}
		used++
	}
	if v != nil {
		s, err := primitiveText(typ, v)
		if err != nil {
			return errorf(at, "%v", err)
		}
		if err := w.attr("value", s, at); err != nil {
			return err
		}
	}
	exts, hasExt := ext["extension"]
	if hasExt {
		used++
	}
	if used != len(ext) {
		for k := range ext {
			if k != "id" && k != "extension" {
				return errorf(at, "unexpected property %q in _%s", k, name)
			}
		}
	}
	if !hasExt {
		w.buf.WriteString("/>")
		return nil
	}
	w.buf.WriteByte('>')
	extEl, _, _ := typ.Root().Child("extension")
	if extEl == nil {
		return errorf(at, "type %s has no extension element", typ.Name)
	}
	if err := w.element(extEl, model.Choice{Name: "extension", Type: "Extension"}, exts, nil, child(at, "extension"), depth+1); err != nil {
		return err
	}
	w.newline(depth)
	w.buf.WriteString("</")
	w.buf.WriteString(name)
	w.buf.WriteByte('>')
	return nil
}

func primitiveText(typ *model.Type, v any) (string, error) {
	switch typ.JSON {
	case model.JSONBoolean:
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b), nil
		}
		return "", fmt.Errorf("%s value must be a boolean", typ.Name)
	case model.JSONNumber:
		switch n := v.(type) {
		case json.Number:
			if !validNumber(string(n)) {
				return "", fmt.Errorf("invalid %s value %q", typ.Name, string(n))
			}
			return string(n), nil
		case float64:
			return strconv.FormatFloat(n, 'f', -1, 64), nil
		}
		return "", fmt.Errorf("%s value must be a number", typ.Name)
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	return "", fmt.Errorf("%s value must be a string", typ.Name)
}

// attr writes name="value", escaping what an XML attribute cannot hold as is.
func (w *writer) attr(name, value string, at *loc) error {
	w.buf.WriteByte(' ')
	w.buf.WriteString(name)
	w.buf.WriteString(`="`)
	last := 0
	for i := 0; i < len(value); {
		c := value[i]
		var esc string
		switch {
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '"':
			esc = "&quot;"
		case c == '\n':
			esc = "&#xA;"
		case c == '\r':
			esc = "&#xD;"
		case c == '\t':
			esc = "&#x9;"
		case c < 0x20:
			return errorf(at, "control character U+%04X cannot be written in XML", c)
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(value[i:])
			if r == utf8.RuneError && size == 1 || !isXMLChar(r) {
				return errorf(at, "character U+%04X cannot be written in XML", r)
			}
			i += size
			continue
		default:
			i++
			continue
		}
		w.buf.WriteString(value[last:i])
		w.buf.WriteString(esc)
		i++
		last = i
	}
	w.buf.WriteString(value[last:])
	w.buf.WriteByte('"')
	return nil
}

func isXMLChar(r rune) bool {
	return r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// checkXHTML reports whether s is one well-formed XML element, as the
// decoder reads it.
func checkXHTML(s string) error {
	sc := newScanner([]byte(s), 0)
	roots := 0
	for {
		if err := sc.next(); err != nil {
			return err
		}
		switch sc.kind {
		case tokEOF:
			if roots != 1 {
				return fmt.Errorf("not one element")
			}
			return nil
		case tokStart:
			if len(sc.open) == 1 {
				roots++
			}
		case tokText:
			if len(sc.open) == 0 && !isSpace(sc.text) {
				return fmt.Errorf("text outside the div")
			}
		}
	}
}
