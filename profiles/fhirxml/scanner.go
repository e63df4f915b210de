package fhirxml

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokStart
	tokEnd
	tokText
)

const xmlNamespace = "http://www.w3.org/XML/1998/namespace"

type attr struct {
	space, local, value string
}

type openElement struct {
	qname        []byte
	space, local string
	bindings     int
}

type binding struct {
	prefix, uri string
}

// scanner is a strict, allocation-lean XML tokenizer over a byte slice:
// well-formedness, namespaces, the predefined and numeric character
// references, attribute-value normalization and UTF-8 are checked; DOCTYPE
// and every other declaration are refused; nesting is bounded by MaxDepth.
type scanner struct {
	data  []byte
	pos   int
	start int
	kind  tokenKind
	space string
	local string
	attrs []attr
	text  []byte
	empty bool
	open  []openElement
	ns    []binding
	// outerMark is the binding count at the start of a region (the narrative
	// div); outerPrefix records a prefixed name inside it resolved by a
	// binding declared before it.
	outerMark   int
	outerPrefix string
	// tagBindings is the binding count before the current start tag;
	// tagOuter records that the tag used a prefix declared before it.
	tagBindings int
	tagOuter    bool
	buf         []byte
	line        int
	lineOff     int
}

// Limits on what one start tag and one document may declare.
const (
	maxAttributes = 256
	maxBindings   = 1024
)

func newScanner(data []byte, begin int) *scanner {
	return &scanner{data: data, pos: begin, outerMark: -1, line: 1}
}

// position returns the line and column of a byte offset. Lines are counted
// on from the previous call when off has not moved back, so reporting many
// findings in document order stays linear.
func (s *scanner) position(off int) (int, int) {
	if off > len(s.data) {
		off = len(s.data)
	}
	if off < s.lineOff {
		s.lineOff, s.line = 0, 1
	}
	s.line += bytes.Count(s.data[s.lineOff:off], []byte("\n"))
	s.lineOff = off
	col := off - bytes.LastIndexByte(s.data[:off], '\n')
	return s.line, col
}

func (s *scanner) errorAt(off int, format string, args ...any) *Error {
	line, col := s.position(off)
	return &Error{Line: line, Column: col, Msg: "malformed xml: " + fmt.Sprintf(format, args...)}
}

// names interns element and attribute names across documents; input
// chooses the names, so the table stops growing at maxNames.
var (
	names     sync.Map
	nameCount atomic.Int64
)

const maxNames = 16384

func (s *scanner) intern(b []byte) string {
	if v, ok := names.Load(string(b)); ok {
		return v.(string)
	}
	v := string(b)
	if nameCount.Load() < maxNames {
		if _, loaded := names.LoadOrStore(v, v); !loaded {
			nameCount.Add(1)
		}
	}
	return v
}

// next reads the next start tag, end tag or text; comments and processing
// instructions are skipped. At the end of input kind is tokEOF.
func (s *scanner) next() error {
	if s.empty {
		s.empty = false
		s.pop()
		s.kind = tokEnd
		return nil
	}
	for {
		s.start = s.pos
		if s.pos >= len(s.data) {
			if len(s.open) > 0 {
				return s.errorAt(s.pos, "unexpected EOF")
			}
			s.kind = tokEOF
			return nil
		}
		if s.data[s.pos] != '<' {
			return s.scanText()
		}
		rest := s.data[s.pos:]
		switch {
		case len(rest) > 1 && rest[1] == '/':
			return s.scanEnd()
		case len(rest) > 1 && rest[1] == '?':
			end := bytes.Index(rest[2:], []byte("?>"))
			if end < 0 {
				return s.errorAt(len(s.data), "unterminated processing instruction")
			}
			if err := s.checkChars(rest[2 : 2+end]); err != nil {
				return err
			}
			s.pos += 2 + end + 2
		case bytes.HasPrefix(rest, []byte("<!--")):
			end := bytes.Index(rest[4:], []byte("-->"))
			if end < 0 {
				return s.errorAt(len(s.data), "unterminated comment")
			}
			if err := s.checkChars(rest[4 : 4+end]); err != nil {
				return err
			}
			s.pos += 4 + end + 3
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			end := bytes.Index(rest[9:], []byte("]]>"))
			if end < 0 {
				return s.errorAt(len(s.data), "unterminated CDATA section")
			}
			if len(s.open) == 0 {
				return s.errorAt(s.pos, "CDATA section outside the root element")
			}
			s.text = rest[9 : 9+end]
			if err := s.checkChars(s.text); err != nil {
				return err
			}
			s.pos += 9 + end + 3
			s.kind = tokText
			return nil
		case len(rest) > 1 && rest[1] == '!':
			word := rest[2:]
			n := 0
			for n < len(word) && n < 20 && isNameByte(word[n]) {
				n++
			}
			line, col := s.position(s.pos)
			return &Error{Line: line, Column: col, Msg: fmt.Sprintf("xml declaration <!%s> not allowed", word[:n])}
		default:
			return s.scanStart()
		}
	}
}

func (s *scanner) scanText() error {
	end := bytes.IndexByte(s.data[s.pos:], '<')
	if end < 0 {
		end = len(s.data) - s.pos
	}
	s.text = s.data[s.pos : s.pos+end]
	if err := s.checkText(s.text, s.pos); err != nil {
		return err
	}
	s.pos += end
	s.kind = tokText
	return nil
}

// checkText validates character data: XML characters and references.
func (s *scanner) checkText(b []byte, off int) error {
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '&':
			_, n, err := s.reference(b[i:], off+i)
			if err != nil {
				return err
			}
			i += n
		case c >= 0x20 && c < utf8.RuneSelf || c == '\n' || c == '\t' || c == '\r':
			i++
		case c < 0x20:
			return s.errorAt(off+i, "illegal character code U+%04X", c)
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				return s.errorAt(off+i, "invalid UTF-8")
			}
			if !isXMLChar(r) {
				return s.errorAt(off+i, "illegal character code U+%04X", r)
			}
			i += n
		}
	}
	return nil
}

// checkChars validates the characters of comments, processing instructions
// and CDATA sections.
func (s *scanner) checkChars(b []byte) error {
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c >= 0x20 && c < utf8.RuneSelf || c == '\n' || c == '\t' || c == '\r':
			i++
		case c < 0x20:
			return s.errorAt(s.pos, "illegal character code U+%04X", c)
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				return s.errorAt(s.pos, "invalid UTF-8")
			}
			if !isXMLChar(r) {
				return s.errorAt(s.pos, "illegal character code U+%04X", r)
			}
			i += n
		}
	}
	return nil
}

// reference reads a character or entity reference at the start of b and
// returns the character it stands for and its length.
func (s *scanner) reference(b []byte, off int) (rune, int, error) {
	end := bytes.IndexByte(b, ';')
	if end < 0 || end > 12 {
		n := 1
		for n < len(b) && n < 20 && isNameByte(b[n]) {
			n++
		}
		return 0, 0, s.errorAt(off, "invalid character entity %s (no semicolon)", b[:n])
	}
	name := b[1:end]
	switch string(name) {
	case "lt":
		return '<', end + 1, nil
	case "gt":
		return '>', end + 1, nil
	case "amp":
		return '&', end + 1, nil
	case "apos":
		return '\'', end + 1, nil
	case "quot":
		return '"', end + 1, nil
	}
	if len(name) > 1 && name[0] == '#' {
		var v uint64
		var err error
		if name[1] == 'x' {
			v, err = strconv.ParseUint(string(name[2:]), 16, 32)
		} else {
			v, err = strconv.ParseUint(string(name[1:]), 10, 32)
		}
		if err == nil && (isXMLChar(rune(v)) || v == 0x9 || v == 0xA || v == 0xD) && v <= utf8.MaxRune && (name[1] != 'x' || len(name) > 2) {
			return rune(v), end + 1, nil
		}
	}
	return 0, 0, s.errorAt(off, "invalid character entity &%s;", name)
}

func (s *scanner) scanStart() error {
	p := s.pos + 1
	qname, p, err := s.name(p)
	if err != nil {
		return err
	}
	if len(s.open) >= MaxDepth {
		return s.errorAt(s.pos, "elements nested deeper than %d", MaxDepth)
	}
	s.attrs = s.attrs[:0]
	bindings := len(s.ns)
	s.tagBindings, s.tagOuter = bindings, false
	var rawAttrs [][2]int
	var attrNames [][]byte
	for {
		sp := p
		for p < len(s.data) && isSpaceByte(s.data[p]) {
			p++
		}
		if p >= len(s.data) {
			return s.errorAt(p, "unexpected EOF")
		}
		c := s.data[p]
		if c == '>' || c == '/' {
			if c == '/' {
				if p+1 >= len(s.data) || s.data[p+1] != '>' {
					return s.errorAt(p, "expected /> in element")
				}
				s.empty = true
				p++
			}
			p++
			break
		}
		if sp == p {
			return s.errorAt(p, "expected space before attribute")
		}
		var an []byte
		an, p, err = s.name(p)
		if err != nil {
			return err
		}
		for p < len(s.data) && isSpaceByte(s.data[p]) {
			p++
		}
		if p >= len(s.data) || s.data[p] != '=' {
			return s.errorAt(p, "attribute name without = in element")
		}
		p++
		for p < len(s.data) && isSpaceByte(s.data[p]) {
			p++
		}
		if p >= len(s.data) || s.data[p] != '"' && s.data[p] != '\'' {
			return s.errorAt(p, "unquoted or missing attribute value in element")
		}
		q := s.data[p]
		end := bytes.IndexByte(s.data[p+1:], q)
		if end < 0 {
			return s.errorAt(len(s.data), "unexpected EOF")
		}
		if len(attrNames) >= maxAttributes {
			return s.errorAt(p, "more than %d attributes in element", maxAttributes)
		}
		for _, prev := range attrNames {
			if bytes.Equal(prev, an) {
				return s.errorAt(p, "attribute %s repeats", an)
			}
		}
		attrNames = append(attrNames, an)
		rawAttrs = append(rawAttrs, [2]int{p + 1, p + 1 + end})
		p += end + 2
	}
	for i, an := range attrNames {
		value, err := s.attrValue(rawAttrs[i][0], rawAttrs[i][1])
		if err != nil {
			return err
		}
		isDecl := bytes.Equal(an, []byte("xmlns")) || bytes.HasPrefix(an, []byte("xmlns:"))
		if isDecl && len(s.ns) >= maxBindings {
			return s.errorAt(s.pos, "more than %d namespace declarations", maxBindings)
		}
		switch {
		case bytes.Equal(an, []byte("xmlns")):
			s.ns = append(s.ns, binding{prefix: "", uri: value})
		case bytes.HasPrefix(an, []byte("xmlns:")):
			if value == "" {
				return s.errorAt(s.pos, "empty namespace for prefix %s", an[6:])
			}
			s.ns = append(s.ns, binding{prefix: s.intern(an[6:]), uri: value})
		}
		s.attrs = append(s.attrs, attr{value: value})
	}
	for i, an := range attrNames {
		prefix, local := splitName(an)
		a := &s.attrs[i]
		a.local = s.intern(local)
		switch {
		case prefix == nil && bytes.Equal(local, []byte("xmlns")):
			a.space = "xmlns"
		case prefix == nil:
		case bytes.Equal(prefix, []byte("xmlns")):
			a.space = "xmlns"
		default:
			a.space, err = s.resolve(prefix)
			if err != nil {
				return err
			}
		}
	}
	prefix, local := splitName(qname)
	space := ""
	if prefix == nil {
		space = s.defaultNamespace()
	} else if space, err = s.resolve(prefix); err != nil {
		return err
	}
	s.space = space
	s.local = s.intern(local)
	s.open = append(s.open, openElement{qname: qname, space: s.space, local: s.local, bindings: bindings})
	s.pos = p
	s.kind = tokStart
	return nil
}

func (s *scanner) scanEnd() error {
	p := s.pos + 2
	qname, p, err := s.name(p)
	if err != nil {
		return err
	}
	for p < len(s.data) && isSpaceByte(s.data[p]) {
		p++
	}
	if p >= len(s.data) || s.data[p] != '>' {
		return s.errorAt(p, "invalid characters between </%s and >", qname)
	}
	p++
	if len(s.open) == 0 {
		return s.errorAt(p, "unexpected end element </%s>", qname)
	}
	top := s.open[len(s.open)-1]
	if !bytes.Equal(top.qname, qname) {
		return s.errorAt(p, "element <%s> closed by </%s>", top.qname, qname)
	}
	s.pos = p
	s.pop()
	s.kind = tokEnd
	return nil
}

func (s *scanner) pop() {
	top := s.open[len(s.open)-1]
	s.open = s.open[:len(s.open)-1]
	s.ns = s.ns[:top.bindings]
	s.space, s.local = top.space, top.local
}

func (s *scanner) defaultNamespace() string {
	for i := len(s.ns) - 1; i >= 0; i-- {
		if s.ns[i].prefix == "" {
			return s.ns[i].uri
		}
	}
	return ""
}

func (s *scanner) resolve(prefix []byte) (string, error) {
	if bytes.Equal(prefix, []byte("xml")) {
		return xmlNamespace, nil
	}
	for i := len(s.ns) - 1; i >= 0; i-- {
		if s.ns[i].prefix == string(prefix) {
			if i < s.tagBindings {
				s.tagOuter = true
			}
			if s.outerMark >= 0 && i < s.outerMark && s.outerPrefix == "" {
				s.outerPrefix = s.ns[i].prefix
			}
			return s.ns[i].uri, nil
		}
	}
	return "", s.errorAt(s.pos, "undeclared namespace prefix %s", prefix)
}

func splitName(qname []byte) (prefix, local []byte) {
	if i := bytes.IndexByte(qname, ':'); i > 0 && i < len(qname)-1 {
		return qname[:i], qname[i+1:]
	}
	return nil, qname
}

// name reads an XML name at p.
func (s *scanner) name(p int) ([]byte, int, error) {
	begin := p
	for p < len(s.data) {
		c := s.data[p]
		if c < utf8.RuneSelf {
			if !isNameByte(c) || p == begin && (c >= '0' && c <= '9' || c == '-' || c == '.') {
				break
			}
			p++
			continue
		}
		r, n := utf8.DecodeRune(s.data[p:])
		if r == utf8.RuneError && n == 1 || !isNameRune(r) {
			break
		}
		p += n
	}
	if p == begin {
		if begin >= len(s.data) {
			return nil, p, s.errorAt(p, "unexpected EOF")
		}
		return nil, p, s.errorAt(p, "invalid XML name")
	}
	name := s.data[begin:p]
	if name[0] == ':' || name[len(name)-1] == ':' || bytes.Count(name, []byte(":")) > 1 {
		return nil, p, s.errorAt(begin, "invalid XML name %s", name)
	}
	return name, p, nil
}

// attrValue unescapes and normalizes an attribute value: references are
// replaced, and each literal tab, newline or carriage return (a CR LF pair
// counting once) becomes a space.
func (s *scanner) attrValue(begin, end int) (string, error) {
	raw := s.data[begin:end]
	plain := true
	for _, c := range raw {
		if c < 0x20 || c >= utf8.RuneSelf || c == '&' || c == '<' {
			plain = false
			break
		}
	}
	if plain {
		return string(raw), nil
	}
	out := s.buf[:0]
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '<':
			return "", s.errorAt(begin+i, "unescaped < inside attribute value")
		case c == '&':
			r, n, err := s.reference(raw[i:], begin+i)
			if err != nil {
				return "", err
			}
			out = utf8.AppendRune(out, r)
			i += n
		case c == '\r':
			out = append(out, ' ')
			i++
			if i < len(raw) && raw[i] == '\n' {
				i++
			}
		case c == '\n' || c == '\t':
			out = append(out, ' ')
			i++
		case c < 0x20:
			return "", s.errorAt(begin+i, "illegal character code U+%04X", c)
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n == 1 {
				return "", s.errorAt(begin+i, "invalid UTF-8")
			}
			if !isXMLChar(r) {
				return "", s.errorAt(begin+i, "illegal character code U+%04X", r)
			}
			out = append(out, raw[i:i+n]...)
			i += n
		}
	}
	s.buf = out
	return string(out), nil
}

// textValue returns character data with references replaced and line ends
// normalized.
func textValue(b []byte) string {
	var out []byte
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '&':
			end := bytes.IndexByte(b[i:], ';')
			if end < 0 {
				out = append(out, c)
				continue
			}
			ref := string(b[i+1 : i+end])
			switch ref {
			case "lt":
				out = append(out, '<')
			case "gt":
				out = append(out, '>')
			case "amp":
				out = append(out, '&')
			case "apos":
				out = append(out, '\'')
			case "quot":
				out = append(out, '"')
			default:
				v, err := strconv.ParseUint(ref[min(1, len(ref)):], 10, 32)
				if len(ref) > 1 && ref[1] == 'x' {
					v, err = strconv.ParseUint(ref[2:], 16, 32)
				}
				if err != nil {
					out = append(out, b[i:i+end+1]...)
				} else {
					out = utf8.AppendRune(out, rune(v))
				}
			}
			i += end
		case c == '\r':
			out = append(out, '\n')
			if i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ':' || c == '-' || c == '.'
}

func isNameRune(r rune) bool {
	return r == 0xB7 || r >= 0xC0 && r <= 0x1FFF && r != 0xD7 && r != 0xF7 && r != 0x37E ||
		r >= 0x200C && r <= 0x200D || r >= 0x203F && r <= 0x2040 || r >= 0x2070 && r <= 0x218F ||
		r >= 0x2C00 && r <= 0x2FEF || r >= 0x3001 && r <= 0xD7FF || r >= 0xF900 && r <= 0xFDCF ||
		r >= 0xFDF0 && r <= 0xFFFD || r >= 0x10000 && r <= 0xEFFFF
}
