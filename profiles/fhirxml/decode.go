package fhirxml

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/profiles/fhirjson"
	"github.com/nhsconform/conform/profiles/model"
)

// Decoder reads FHIR XML resources into the JSON shape; it is safe for
// concurrent use.
type Decoder struct {
	m *model.Model
}

// NewDecoder returns a Decoder driven by the type model m.
func NewDecoder(m *model.Model) *Decoder { return &Decoder{m: m} }

// Decode reads one FHIR XML resource. Problems with the input are returned
// as *Error with the line and column where they were found; elements out of
// order, text inside FHIR elements, a root in no namespace and a div outside
// the XHTML namespace are read past (DecodeIssues reports them).
func (d *Decoder) Decode(data []byte) (map[string]any, error) {
	res, _, err := d.decode(data, false)
	return res, err
}

// DecodeIssues reads one FHIR XML resource as a validator does: problems
// with the content are returned as findings with their line, column and
// element path, and reading goes on. Elements out of FHIR order are read as
// they come; text inside FHIR elements is ignored; a
// root in no namespace is read as FHIR; an unknown element, attribute or
// contained resource type, a repeated single element, an invalid primitive
// value and an empty primitive are left out. Malformed XML, an unknown root
// resource type and exceeded limits are still errors.
func (d *Decoder) DecodeIssues(data []byte) (map[string]any, []conformance.Issue, error) {
	return d.decode(data, true)
}

// DecodePositions is Decode that also returns where each element of the
// resource starts, to give findings on the decoded resource a line and
// column.
func (d *Decoder) DecodePositions(data []byte) (map[string]any, *Positions, error) {
	pos := &Positions{at: map[string][2]int{}}
	res, _, err := d.decodeWith(data, false, pos)
	if err != nil {
		return nil, nil, err
	}
	return res, pos, nil
}

func (d *Decoder) decode(data []byte, lenient bool) (map[string]any, []conformance.Issue, error) {
	return d.decodeWith(data, lenient, nil)
}

func (d *Decoder) decodeWith(data []byte, lenient bool, pos *Positions) (map[string]any, []conformance.Issue, error) {
	begin, err := prolog(data)
	if err != nil {
		return nil, nil, err
	}
	r := &reader{m: d.m, s: newScanner(data, begin), lenient: lenient, positions: pos}
	res, err := r.document()
	if err != nil {
		return nil, nil, err
	}
	return res, r.issues, nil
}

// maxPositions bounds how many element positions DecodePositions records;
// later elements are located at their nearest recorded ancestor.
const maxPositions = 1 << 20

// Positions holds where the elements of a decoded XML resource start, by
// their path in the JSON representation (identifier[0].system).
type Positions struct {
	at map[string][2]int
}

// Locate returns the line and column of the element at path, a path into
// the JSON representation of the resource: the start of its XML element,
// or of the nearest enclosing element the resource has.
func (p *Positions) Locate(path []fhirjson.Step) (line, column int, ok bool) {
	if p == nil {
		return 0, 0, false
	}
	for n := len(path); n >= 0; n-- {
		if lc, found := p.at[positionKey(path[:n])]; found {
			return lc[0], lc[1], true
		}
	}
	return 0, 0, false
}

func positionKey(path []fhirjson.Step) string {
	var b strings.Builder
	for _, st := range path {
		if st.Index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(st.Index))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(st.Key)
	}
	return b.String()
}

// record notes where the element now starting is, as the property name of
// the object at r.jsonPath (index >= 0 for an array item), and returns the
// path of its content and a function restoring the enclosing path.
func (r *reader) record(name string, index int) func() {
	if r.positions == nil {
		return func() {}
	}
	key := name
	if r.jsonPath != "" {
		key = r.jsonPath + "." + name
	}
	if index >= 0 {
		key += "[" + strconv.Itoa(index) + "]"
	}
	if len(r.positions.at) < maxPositions {
		line, col := r.s.position(r.s.start)
		r.positions.at[key] = [2]int{line, col}
	}
	saved := r.jsonPath
	r.jsonPath = key
	return func() { r.jsonPath = saved }
}

type reader struct {
	m       *model.Model
	s       *scanner
	noNS    bool
	lenient bool
	issues  []conformance.Issue
	path    []string
	// positions, when not nil, records where elements start; jsonPath is
	// the JSON path of the object being read.
	positions *Positions
	jsonPath  string
}

// problem handles a problem with the content at the element being read (or
// its child): an error when strict, else a finding, and nil to read on.
func (r *reader) problem(id, child, format string, args ...any) error {
	if !r.lenient {
		return r.errorf(child, format, args...)
	}
	if child != "" {
		r.path = append(r.path, child)
		defer func() { r.path = r.path[:len(r.path)-1] }()
	}
	r.issue(id, format, args...)
	return nil
}

// skip reads past the element whose start tag is the current token.
func (r *reader) skip() error {
	depth := len(r.s.open)
	for len(r.s.open) >= depth {
		if err := r.s.next(); err != nil {
			return err
		}
		if r.s.kind == tokEOF {
			return r.errorf("", "unexpected end of input")
		}
	}
	return nil
}

// where returns the element path of the element being read, with child
// appended when not empty.
func (r *reader) where(child string) string {
	p := strings.Join(r.path, ".")
	if child != "" {
		if p != "" {
			p += "."
		}
		p += child
	}
	return p
}

var underscored sync.Map

// underscore returns "_" + name, the JSON property of a primitive's id and
// extensions; names come from the type model, so the cache stays bounded.
func underscore(name string) string {
	if v, ok := underscored.Load(name); ok {
		return v.(string)
	}
	v := "_" + name
	underscored.Store(name, v)
	return v
}

func (r *reader) document() (map[string]any, error) {
	var res map[string]any
	for {
		if err := r.s.next(); err != nil {
			return nil, err
		}
		switch r.s.kind {
		case tokEOF:
			if res == nil {
				return nil, r.errorf("", "no resource element")
			}
			return res, nil
		case tokStart:
			if res != nil {
				return nil, r.errorf("", "element <%s> after the resource", r.s.local)
			}
			var err error
			if res, err = r.readResource(); err != nil {
				return nil, err
			}
		case tokText:
			if !isSpace(r.s.text) {
				return nil, r.errorf("", "text outside the resource element")
			}
		}
	}
}

// errorf returns an error at the current position, located at the element
// being read (or its child, when child is not empty).
func (r *reader) errorf(child, format string, args ...any) *Error {
	line, col := r.s.position(r.s.pos)
	return &Error{Line: line, Column: col, Path: r.where(child), Msg: fmt.Sprintf(format, args...)}
}

func (r *reader) issue(id, format string, args ...any) {
	line, col := r.s.position(r.s.pos)
	path := r.where("")
	r.issues = append(r.issues, conformance.Issue{
		Severity:   conformance.SeverityError,
		Code:       "invalid",
		Expression: path,
		Message:    fmt.Sprintf(format, args...),
		MessageID:  id,
		Line:       line,
		Column:     col,
	})
}

// text handles character data inside a FHIR element: whitespace is
// formatting, anything else is recorded and ignored.
func (r *reader) text() {
	if !isSpace(r.s.text) {
		r.issue("XML_TEXT_NOT_ALLOWED", "text %q is not allowed in a FHIR element", truncate(strings.TrimSpace(textValue(r.s.text)), 40))
	}
}

// truncate shortens s to at most n bytes, not splitting a UTF-8 character,
// and marks the cut with "...".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// inNamespace reports whether the current element is in the FHIR namespace,
// or in no namespace inside a resource read without one.
func (r *reader) inNamespace() bool {
	return r.s.space == Namespace || r.noNS && r.s.space == ""
}

// ignorable reports whether an attribute is a namespace declaration or in
// another namespace (xsi:schemaLocation).
func ignorable(a attr) bool { return a.space != "" }

// prolog checks the XML declaration, if any, and returns the offset where
// parsing starts: after a byte order mark and the declaration, which may say
// version 1.0 or 1.1 and must say UTF-8 if it names an encoding.
func prolog(data []byte) (int, error) {
	begin := 0
	if bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		begin = 3
	}
	rest := data[begin:]
	if !bytes.HasPrefix(rest, []byte("<?xml")) || len(rest) < 6 || !isSpace(rest[5:6]) {
		return begin, nil
	}
	end := bytes.Index(rest, []byte("?>"))
	if end < 0 {
		return 0, &Error{Line: 1, Column: 1, Msg: "malformed xml: unterminated xml declaration"}
	}
	decl := string(rest[5:end])
	version := pseudoAttr(decl, "version")
	if version != "1.0" && version != "1.1" {
		return 0, &Error{Line: 1, Column: 1, Msg: fmt.Sprintf("unsupported xml version %q", version)}
	}
	if enc := pseudoAttr(decl, "encoding"); enc != "" && !strings.EqualFold(enc, "utf-8") {
		return 0, &Error{Line: 1, Column: 1, Msg: fmt.Sprintf("unsupported encoding %q (FHIR XML is UTF-8)", enc)}
	}
	return begin + end + 2, nil
}

func pseudoAttr(decl, name string) string {
	i := strings.Index(decl, name)
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(decl[i+len(name):], " \t\r\n")
	if !strings.HasPrefix(rest, "=") {
		return ""
	}
	rest = strings.TrimLeft(rest[1:], " \t\r\n")
	if rest == "" || rest[0] != '"' && rest[0] != '\'' {
		return ""
	}
	q := rest[0]
	rest = rest[1:]
	j := strings.IndexByte(rest, q)
	if j < 0 {
		return ""
	}
	return rest[:j]
}

// readResource reads the resource whose start tag is the current token; a
// nested resource is located at the element that holds it.
func (r *reader) readResource() (map[string]any, error) {
	name := r.s.local
	root := len(r.path) == 0
	if root {
		r.path = append(r.path, name)
	}
	if !r.inNamespace() {
		if !root || r.s.space != "" {
			return nil, r.errorf("", "element <%s> is not in the FHIR namespace %s", name, Namespace)
		}
		r.noNS = true
		r.issue("XML_NO_NAMESPACE", "resource <%s> has no namespace: FHIR resources are in %s", name, Namespace)
	}
	typ, ok := r.resourceType(name)
	if !ok {
		if root {
			return nil, r.errorf("", "unknown resource type %q", name)
		}
		if err := r.problem("XML_UNKNOWN_RESOURCE", "", "unknown resource type %q", name); err != nil {
			return nil, err
		}
		return nil, r.skip()
	}
	for _, a := range r.s.attrs {
		if !ignorable(a) {
			if err := r.problem("XML_UNKNOWN_ATTRIBUTE", "", "unexpected attribute %q on a resource", a.local); err != nil {
				return nil, err
			}
		}
	}
	if root && r.positions != nil {
		line, col := r.s.position(r.s.start)
		r.positions.at[""] = [2]int{line, col}
	}
	obj := map[string]any{"resourceType": name}
	if err := r.readObject(obj, typ.Root(), typ.Name); err != nil {
		return nil, err
	}
	return obj, nil
}

func (r *reader) resourceType(name string) (*model.Type, bool) {
	if !isIdentifier(name) {
		return nil, false
	}
	typ, ok := r.m.Type(name)
	if !ok || typ.Kind != model.KindResource || typ.Abstract {
		return nil, false
	}
	return typ, true
}

// readObject reads the children of a complex element or resource up to its
// end tag into obj.
func (r *reader) readObject(obj map[string]any, el *model.Element, code string) error {
	var st objectState
	for {
		if err := r.s.next(); err != nil {
			return err
		}
		switch r.s.kind {
		case tokStart:
			if err := r.readChild(obj, el, code, &st); err != nil {
				return err
			}
		case tokEnd:
			st.finish(obj)
			return nil
		case tokText:
			r.text()
		case tokEOF:
			return r.errorf("", "unexpected end of input")
		}
	}
}

// objectState is what readObject keeps while reading one object's children:
// the single-valued names seen and the repeating primitives being gathered.
type objectState struct {
	seen       []string
	primitives []primitiveArray
	last       *model.Element
}

// inOrder records el as the latest child read and reports whether it does
// not come before the previous one in the type's element order.
func (st *objectState) inOrder(el *model.Element) (bool, *model.Element) {
	prev := st.last
	if prev != nil && el.Order < prev.Order {
		return false, prev
	}
	st.last = el
	return true, nil
}

type primitiveArray struct {
	name       string
	vals, exts []any
	hasVal     bool
	hasExt     bool
}

func (st *objectState) repeated(name string) bool {
	for _, n := range st.seen {
		if n == name {
			return true
		}
	}
	st.seen = append(st.seen, name)
	return false
}

// count returns how many items of the repeating primitive name were read.
func (st *objectState) count(name string) int {
	for i := range st.primitives {
		if st.primitives[i].name == name {
			return len(st.primitives[i].vals)
		}
	}
	return 0
}

func (st *objectState) add(name string, val any, ext map[string]any) {
	var pa *primitiveArray
	for i := range st.primitives {
		if st.primitives[i].name == name {
			pa = &st.primitives[i]
			break
		}
	}
	if pa == nil {
		st.primitives = append(st.primitives, primitiveArray{name: name})
		pa = &st.primitives[len(st.primitives)-1]
	}
	pa.vals = append(pa.vals, val)
	if ext != nil {
		pa.exts = append(pa.exts, ext)
		pa.hasExt = true
	} else {
		pa.exts = append(pa.exts, nil)
	}
	if val != nil {
		pa.hasVal = true
	}
}

// finish stores the repeating primitives: the value array unless every value
// is null, the underscore array when any item has an id or extensions.
func (st *objectState) finish(obj map[string]any) {
	for _, pa := range st.primitives {
		if pa.hasVal {
			obj[pa.name] = pa.vals
		}
		if pa.hasExt {
			obj[underscore(pa.name)] = pa.exts
		}
	}
}

// readChild reads the child element whose start tag is the current token
// into obj.
func (r *reader) readChild(obj map[string]any, el *model.Element, code string, st *objectState) error {
	name := r.s.local
	ce, ccode, ok := r.m.Child(el, code, name)
	if !ok || ce.XMLAttr {
		if err := r.problem("XML_UNKNOWN_ELEMENT", "", "unknown element <%s>", name); err != nil {
			return err
		}
		return r.skip()
	}
	if !ce.Array && st.repeated(name) {
		if err := r.problem("XML_REPEATED_ELEMENT", name, "element repeats"); err != nil {
			return err
		}
		return r.skip()
	}
	if ok, prev := st.inOrder(ce); !ok && r.lenient {
		r.path = append(r.path, name)
		r.issue("XML_ELEMENT_ORDER", "element <%s> is out of order: it comes before <%s>", name, prev.Name)
		r.path = r.path[:len(r.path)-1]
	}
	if ccode == "xhtml" {
		if ce.Array {
			return r.errorf(name, "repeating xhtml is not supported")
		}
		r.record(name, -1)()
		div, err := r.readXHTML(name)
		if err != nil {
			return err
		}
		obj[name] = div
		return nil
	}
	if !r.inNamespace() {
		if err := r.problem("XML_WRONG_NAMESPACE", name, "element is not in the FHIR namespace %s", Namespace); err != nil {
			return err
		}
		return r.skip()
	}
	r.path = append(r.path, name)
	defer func() { r.path = r.path[:len(r.path)-1] }()
	typ, ok := r.m.Type(ccode)
	if r.positions != nil {
		index := -1
		if ce.Array {
			if ok && typ.Kind == model.KindPrimitive {
				index = st.count(name)
			} else {
				vals, _ := obj[name].([]any)
				index = len(vals)
			}
		}
		defer r.record(name, index)()
	}
	if ok && typ.Kind == model.KindPrimitive {
		val, ext, err := r.readPrimitive(typ)
		if err != nil || val == nil && ext == nil {
			return err
		}
		if ce.Array {
			st.add(name, val, ext)
			return nil
		}
		if val != nil {
			obj[name] = val
		}
		if ext != nil {
			obj[underscore(name)] = ext
		}
		return nil
	}
	var val map[string]any
	var err error
	if ok && typ.Kind == model.KindResource {
		val, err = r.readWrapped()
	} else {
		val, err = r.readComplex(ce, ccode)
	}
	if err != nil || val == nil {
		return err
	}
	if ce.Array {
		vals, _ := obj[name].([]any)
		obj[name] = append(vals, val)
		return nil
	}
	obj[name] = val
	return nil
}

func (r *reader) readComplex(el *model.Element, code string) (map[string]any, error) {
	obj := map[string]any{}
	for _, a := range r.s.attrs {
		if ignorable(a) {
			continue
		}
		ce, _, ok := r.m.Child(el, code, a.local)
		if !ok || !ce.XMLAttr {
			if err := r.problem("XML_UNKNOWN_ATTRIBUTE", "", "unexpected attribute %q", a.local); err != nil {
				return nil, err
			}
			continue
		}
		obj[a.local] = a.value
	}
	if err := r.readObject(obj, el, code); err != nil {
		return nil, err
	}
	return obj, nil
}

// readWrapped reads an element holding one resource, such as contained or
// Bundle.entry.resource.
func (r *reader) readWrapped() (map[string]any, error) {
	for _, a := range r.s.attrs {
		if !ignorable(a) {
			if err := r.problem("XML_UNKNOWN_ATTRIBUTE", "", "unexpected attribute %q", a.local); err != nil {
				return nil, err
			}
		}
	}
	var res map[string]any
	seen := false
	for {
		if err := r.s.next(); err != nil {
			return nil, err
		}
		switch r.s.kind {
		case tokStart:
			if seen {
				if err := r.problem("XML_REPEATED_ELEMENT", "", "more than one resource"); err != nil {
					return nil, err
				}
				if err := r.skip(); err != nil {
					return nil, err
				}
				continue
			}
			seen = true
			var err error
			if res, err = r.readResource(); err != nil {
				return nil, err
			}
		case tokEnd:
			if !seen {
				return nil, r.problem("XML_EMPTY_ELEMENT", "", "no resource inside")
			}
			return res, nil
		case tokText:
			r.text()
		case tokEOF:
			return nil, r.errorf("", "unexpected end of input")
		}
	}
}

// readPrimitive reads a primitive element: its value attribute, its id and
// its extensions. The extension part is nil when it has neither.
func (r *reader) readPrimitive(typ *model.Type) (any, map[string]any, error) {
	var val any
	invalid := false
	var ext map[string]any
	for _, a := range r.s.attrs {
		if ignorable(a) {
			continue
		}
		switch a.local {
		case "value":
			v, err := primitiveValue(typ, a.value)
			if err != nil {
				if err := r.problem("XML_INVALID_VALUE", "", "%v", err); err != nil {
					return nil, nil, err
				}
				invalid = true
				continue
			}
			val = v
		case "id":
			ext = map[string]any{"id": a.value}
		default:
			if err := r.problem("XML_UNKNOWN_ATTRIBUTE", "", "unexpected attribute %q", a.local); err != nil {
				return nil, nil, err
			}
		}
	}
	root := typ.Root()
	var st objectState
	for {
		if err := r.s.next(); err != nil {
			return nil, nil, err
		}
		switch r.s.kind {
		case tokStart:
			if r.s.local != "extension" || !r.inNamespace() {
				if err := r.problem("XML_UNKNOWN_ELEMENT", "", "unexpected element <%s> in a primitive", r.s.local); err != nil {
					return nil, nil, err
				}
				if err := r.skip(); err != nil {
					return nil, nil, err
				}
				continue
			}
			if ext == nil {
				ext = map[string]any{}
			}
			if err := r.readChild(ext, root, typ.Name, &st); err != nil {
				return nil, nil, err
			}
		case tokEnd:
			if val == nil && ext == nil && !invalid {
				return nil, nil, r.problem("XML_EMPTY_ELEMENT", "", "element has no value and no extension")
			}
			return val, ext, nil
		case tokText:
			r.text()
		case tokEOF:
			return nil, nil, r.errorf("", "unexpected end of input")
		}
	}
}

func primitiveValue(typ *model.Type, s string) (any, error) {
	switch typ.JSON {
	case model.JSONBoolean:
		switch s {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("invalid %s value %q", typ.Name, s)
	case model.JSONNumber:
		if !validNumber(s) {
			return nil, fmt.Errorf("invalid %s value %q", typ.Name, s)
		}
		return json.Number(s), nil
	}
	return s, nil
}

// readXHTML returns the narrative div, whose start tag is the current token,
// exactly as written in the input.
func (r *reader) readXHTML(name string) (string, error) {
	if r.s.space != XHTMLNamespace {
		r.path = append(r.path, name)
		r.issue("XML_DIV_NAMESPACE", "the narrative div is in namespace %q, not %s", r.s.space, XHTMLNamespace)
		r.path = r.path[:len(r.path)-1]
	}
	begin := r.s.start
	depth := len(r.s.open)
	mark := r.s.open[depth-1].bindings
	r.s.outerMark, r.s.outerPrefix = mark, ""
	defer func() { r.s.outerMark = -1 }()
	if r.s.tagOuter {
		r.s.outerPrefix = "div"
	}
	for len(r.s.open) >= depth {
		if err := r.s.next(); err != nil {
			return "", err
		}
		if r.s.kind == tokEOF {
			return "", r.errorf(name, "unexpected end of input")
		}
	}
	if r.s.outerPrefix != "" {
		return "", r.errorf(name, "the div uses a namespace prefix declared outside it")
	}
	return string(r.s.data[begin:r.s.pos]), nil
}

func isSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && i > 0 || c == '_') {
			return false
		}
	}
	return true
}

// validNumber reports whether s is a JSON number.
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		n := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == n {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		n := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == n {
			return false
		}
	}
	return i == len(s)
}
