// Package fhirjson owns conform's JSON reader for FHIR resources: a strict,
// allocation-lean decoder producing the shared in-memory representation
// (map[string]any, []any, json.Number, string, bool, nil) that rejects
// duplicate keys, invalid UTF-8 and nesting deeper than MaxDepth, and a locator
// that turns an element path back into a line and column of the source.
package fhirjson

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of objects and arrays Decode accepts. FHIR
// resources rarely exceed 20 levels; 256 leaves room for deep Questionnaires
// while bounding the reader's stack.
const MaxDepth = 256

// Kind classifies a SyntaxError so callers can branch on it.
type Kind int

// Kinds of SyntaxError.
const (
	// KindSyntax is malformed JSON.
	KindSyntax Kind = iota + 1
	// KindDuplicateKey is an object with the same property twice.
	KindDuplicateKey
	// KindInvalidUTF8 is a string or document that is not valid UTF-8.
	KindInvalidUTF8
	// KindTooDeep is nesting deeper than MaxDepth.
	KindTooDeep
	// KindTrailingData is content after the end of the document.
	KindTrailingData
)

// SyntaxError reports why a document could not be read and where.
type SyntaxError struct {
	Kind Kind
	// Msg describes the problem without the position.
	Msg string
	// Offset is the byte offset of the problem; Line and Column (1-based,
	// column counted in bytes) locate it for people.
	Offset, Line, Column int
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s at line %d, column %d", e.Msg, e.Line, e.Column)
}

// ErrNotObject is returned by DecodeObject when the document is valid JSON but
// not an object.
var ErrNotObject = errors.New("json document is not an object")

// Decode reads one JSON document into the shared representation. Numbers are
// json.Number so FHIR decimals keep their precision. A leading UTF-8 byte
// order mark is ignored.
func Decode(data []byte) (any, error) {
	return DecodeSpans(data, nil)
}

// Spans records where each object and array of a decoded document starts and
// ends, in document order, so that a Locator can step over a container
// without scanning it. A Spans may be reused for another document; it also
// keeps the decoder's scratch space for unescaping strings between documents.
type Spans struct {
	start, end []int32
	scratch    []byte
	ids        int
}

// Reset empties s for another document, keeping its storage.
func (s *Spans) Reset() {
	s.start, s.end = s.start[:0], s.end[:0]
	s.ids = 0
}

// IDs returns how many properties named "id" (resource and element ids) the
// document has, escaped names included.
func (s *Spans) IDs() int { return s.ids }

// endOf returns the offset just after the object or array starting at pos.
func (s *Spans) endOf(pos int) (int, bool) {
	lo, hi := 0, len(s.start)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if int(s.start[mid]) < pos {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(s.start) && int(s.start[lo]) == pos && int(s.end[lo]) > pos {
		return int(s.end[lo]), true
	}
	return 0, false
}

// maxKeptScratch bounds the scratch space a Spans keeps for the next
// document, so one huge string does not stay allocated.
const maxKeptScratch = 64 << 10

// DecodeSpans is Decode that also records, when spans is not nil, where each
// object and array starts and ends. spans is reset first.
func DecodeSpans(data []byte, spans *Spans) (any, error) {
	d := decoder{data: data, spans: spans}
	if spans != nil {
		spans.Reset()
		d.scratch = spans.scratch
		defer func() {
			if cap(d.scratch) <= maxKeptScratch {
				spans.scratch = d.scratch[:0]
			}
		}()
		if len(data) > math.MaxInt32 {
			d.spans = nil
		}
	}
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		d.pos = 3
	}
	d.skipSpace()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos < len(d.data) {
		return nil, d.fail(KindTrailingData, "unexpected content after the end of the JSON document")
	}
	return v, nil
}

// DecodeObject reads one JSON document that must be an object.
func DecodeObject(data []byte) (map[string]any, error) {
	v, err := Decode(data)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, ErrNotObject
	}
	return m, nil
}

type decoder struct {
	data []byte
	pos  int
	// scratch is reused to unescape strings.
	scratch []byte
	spans   *Spans
}

func (d *decoder) fail(k Kind, format string, args ...any) error {
	line, col := Position(d.data, d.pos)
	return &SyntaxError{Kind: k, Msg: fmt.Sprintf(format, args...), Offset: d.pos, Line: line, Column: col}
}

// Position converts a byte offset into a 1-based line and column.
func Position(data []byte, offset int) (line, column int) {
	if offset > len(data) {
		offset = len(data)
	}
	line, start := 1, 0
	for i := 0; i < offset; i++ {
		if data[i] == '\n' {
			line++
			start = i + 1
		}
	}
	return line, offset - start + 1
}

func (d *decoder) skipSpace() {
	data, i := d.data, d.pos
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			d.pos = i
			return
		}
	}
	d.pos = i
}

func (d *decoder) value(depth int) (any, error) {
	if d.pos >= len(d.data) {
		return nil, d.fail(KindSyntax, "unexpected end of JSON input")
	}
	switch c := d.data[d.pos]; {
	case c == '{' || c == '[':
		if depth >= MaxDepth {
			return nil, d.fail(KindTooDeep, "JSON nesting deeper than %d levels", MaxDepth)
		}
		if d.spans == nil {
			if c == '{' {
				return d.object(depth + 1)
			}
			return d.array(depth + 1)
		}
		at := len(d.spans.start)
		d.spans.start = append(d.spans.start, int32(d.pos))
		d.spans.end = append(d.spans.end, 0)
		var v any
		var err error
		if c == '{' {
			v, err = d.object(depth + 1)
		} else {
			v, err = d.array(depth + 1)
		}
		d.spans.end[at] = int32(d.pos)
		return v, err
	case c == '"':
		return d.str()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	default:
		return nil, d.fail(KindSyntax, "unexpected character %s", quoteByte(c))
	}
}

func quoteByte(c byte) string {
	if c < 0x20 || c >= 0x7f {
		return fmt.Sprintf("0x%02x", c)
	}
	return strconv.QuoteRune(rune(c))
}

func (d *decoder) literal(word string) error {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return d.fail(KindSyntax, "invalid literal, expected %s", word)
	}
	d.pos += len(word)
	return nil
}

func (d *decoder) object(depth int) (any, error) {
	d.pos++
	m := make(map[string]any, 8)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return m, nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.fail(KindSyntax, "unexpected end of JSON input in object")
		}
		if d.data[d.pos] != '"' {
			return nil, d.fail(KindSyntax, "expected a quoted property name, found %s", quoteByte(d.data[d.pos]))
		}
		keyStart := d.pos
		key, err := d.key()
		if err != nil {
			return nil, err
		}
		if key == "id" && d.spans != nil {
			d.spans.ids++
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.fail(KindSyntax, "expected ':' after property name %q", key)
		}
		d.pos++
		d.skipSpace()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		n := len(m)
		m[key] = v
		if len(m) == n {
			d.pos = keyStart
			return nil, d.fail(KindDuplicateKey, "duplicate JSON property %q", key)
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.fail(KindSyntax, "unexpected end of JSON input in object")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return m, nil
		default:
			return nil, d.fail(KindSyntax, "expected ',' or '}' in object, found %s", quoteByte(d.data[d.pos]))
		}
	}
}

func (d *decoder) array(depth int) (any, error) {
	d.pos++
	a := make([]any, 0, 4)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return a, nil
	}
	for {
		d.skipSpace()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.fail(KindSyntax, "unexpected end of JSON input in array")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return a, nil
		default:
			return nil, d.fail(KindSyntax, "expected ',' or ']' in array, found %s", quoteByte(d.data[d.pos]))
		}
	}
}

// key reads a property name, sharing the string of a common FHIR name.
func (d *decoder) key() (string, error) {
	start := d.pos + 1
	for i := start; i < len(d.data); i++ {
		c := d.data[i]
		if c == '"' {
			if k, ok := commonKeys[string(d.data[start:i])]; ok {
				d.pos = i + 1
				return k, nil
			}
			break
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			break
		}
	}
	return d.str()
}

func (d *decoder) str() (string, error) {
	start := d.pos + 1
	if j := bytes.IndexByte(d.data[start:], '"'); j >= 0 && plainASCII(d.data[start:start+j]) {
		d.pos = start + j + 1
		return string(d.data[start : start+j]), nil
	}
	i := start
	ascii := true
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			s := d.data[start:i]
			if !ascii && !utf8.Valid(s) {
				d.pos = start
				return "", d.fail(KindInvalidUTF8, "string is not valid UTF-8")
			}
			d.pos = i + 1
			return string(s), nil
		case c == '\\':
			return d.escapedStr(start)
		case c < 0x20:
			d.pos = i
			return "", d.fail(KindSyntax, "control character %s in string", quoteByte(c))
		case c >= 0x80:
			ascii = false
		}
		i++
	}
	d.pos = i
	return "", d.fail(KindSyntax, "unterminated string")
}

func (d *decoder) escapedStr(start int) (string, error) {
	buf := d.scratch[:0]
	defer func() { d.scratch = buf[:0] }()
	if end := (&scanner{data: d.data, pos: start - 1}); end.skipString() {
		buf = slices.Grow(buf, end.pos-start)
	}
	i := start
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			if !utf8.Valid(buf) {
				d.pos = start
				return "", d.fail(KindInvalidUTF8, "string is not valid UTF-8")
			}
			d.pos = i + 1
			return string(buf), nil
		case c < 0x20:
			d.pos = i
			return "", d.fail(KindSyntax, "control character %s in string", quoteByte(c))
		case c != '\\':
			j := i + 1
			for j < len(d.data) {
				if b := d.data[j]; b == '"' || b == '\\' || b < 0x20 {
					break
				}
				j++
			}
			buf = append(buf, d.data[i:j]...)
			i = j
			continue
		}
		i++
		if i >= len(d.data) {
			break
		}
		switch e := d.data[i]; e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(d.data, i+1)
			if !ok {
				d.pos = i
				return "", d.fail(KindSyntax, "invalid \\u escape in string")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(0), false
				if i+6 < len(d.data) && d.data[i+1] == '\\' && d.data[i+2] == 'u' {
					r2, ok2 = hex4(d.data, i+3)
				}
				if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					d.pos = i
					return "", d.fail(KindInvalidUTF8, "unpaired UTF-16 surrogate in string")
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			d.pos = i
			return "", d.fail(KindSyntax, "invalid escape %s in string", quoteByte(e))
		}
		i++
	}
	d.pos = i
	return "", d.fail(KindSyntax, "unterminated string")
}

func hex4(data []byte, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[at : at+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

func (d *decoder) number() (any, error) {
	start := d.pos
	i := d.pos
	if d.data[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
			n++
		}
		return n
	}
	intStart := i
	if digits() == 0 {
		d.pos = i
		return nil, d.fail(KindSyntax, "invalid number")
	}
	if d.data[intStart] == '0' && i-intStart > 1 {
		d.pos = intStart
		return nil, d.fail(KindSyntax, "invalid number: leading zero")
	}
	if i < len(d.data) && d.data[i] == '.' {
		i++
		if digits() == 0 {
			d.pos = i
			return nil, d.fail(KindSyntax, "invalid number: no digits after the decimal point")
		}
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if digits() == 0 {
			d.pos = i
			return nil, d.fail(KindSyntax, "invalid number: no digits in the exponent")
		}
	}
	d.pos = i
	return json.Number(d.data[start:i]), nil
}

// plainASCII reports whether b holds only printable ASCII other than the
// backslash: a string that needs no unescaping or UTF-8 check. It tests
// eight bytes at a time.
func plainASCII(b []byte) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for len(b) >= 8 {
		w := binary.LittleEndian.Uint64(b)
		// A byte is flagged when it has its high bit set, is below 0x20, or
		// equals '\\' (found as a zero byte of w XOR the backslashes).
		bs := w ^ (ones * '\\')
		if (w|((w-ones*0x20)&^w)|((bs-ones)&^bs))&highs != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c < 0x20 || c >= 0x80 || c == '\\' {
			return false
		}
	}
	return true
}
