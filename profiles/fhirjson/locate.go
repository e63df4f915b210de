package fhirjson

import "bytes"

// Step is one step of a path into a JSON document: a property name when
// Index is negative, otherwise an array index.
type Step struct {
	Key   string
	Index int
}

// Key returns the step into the property name.
func Key(name string) Step { return Step{Key: name, Index: -1} }

// Index returns the step into the array element i.
func Index(i int) Step { return Step{Index: i} }

// Locate finds the line and column of the element at path: the property name
// for a final key step, the element itself for a final index step. It reports
// ok=false when the document does not hold the path or cannot be read; it
// never fails on hostile input. An empty path locates the document's root.
func Locate(data []byte, path []Step) (line, column int, ok bool) {
	off, ok := locateOffset(data, path)
	if !ok {
		return 0, 0, false
	}
	line, column = Position(data, off)
	return line, column, true
}

func locateOffset(data []byte, path []Step) (int, bool) {
	s := scanner{data: data}
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		s.pos = 3
	}
	s.space()
	at := s.pos
	for _, st := range path {
		if s.pos >= len(data) {
			return 0, false
		}
		if st.Index < 0 {
			if data[s.pos] != '{' {
				return 0, false
			}
			keyAt, found := s.findKey(st.Key)
			if !found {
				return 0, false
			}
			at = keyAt
			continue
		}
		if data[s.pos] != '[' {
			return 0, false
		}
		if !s.findIndex(st.Index) {
			return 0, false
		}
		at = s.pos
	}
	return at, true
}

type scanner struct {
	data []byte
	pos  int
}

func (s *scanner) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// findKey leaves pos at the value of key inside the object at pos and
// returns the offset of the key.
func (s *scanner) findKey(key string) (int, bool) {
	s.pos++
	for steps := 0; steps < len(s.data); steps++ {
		s.space()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return 0, false
		}
		keyAt := s.pos
		name, ok := s.readString()
		if !ok {
			return 0, false
		}
		s.space()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return 0, false
		}
		s.pos++
		s.space()
		if name == key {
			return keyAt, true
		}
		if !s.skipValue(0) {
			return 0, false
		}
		s.space()
		if s.pos >= len(s.data) || s.data[s.pos] != ',' {
			return 0, false
		}
		s.pos++
	}
	return 0, false
}

func (s *scanner) findIndex(idx int) bool {
	s.pos++
	for i := 0; i <= idx; i++ {
		s.space()
		if s.pos >= len(s.data) || s.data[s.pos] == ']' {
			return false
		}
		if i == idx {
			return true
		}
		if !s.skipValue(0) {
			return false
		}
		s.space()
		if s.pos >= len(s.data) || s.data[s.pos] != ',' {
			return false
		}
		s.pos++
	}
	return false
}

func (s *scanner) readString() (string, bool) {
	start := s.pos
	if !s.skipString() {
		return "", false
	}
	raw := s.data[start:s.pos]
	for _, c := range raw {
		if c == '\\' {
			d := decoder{data: s.data, pos: start}
			v, err := d.str()
			return v, err == nil
		}
	}
	return string(raw[1 : len(raw)-1]), true
}

func (s *scanner) skipString() bool {
	s.pos++
	for s.pos < len(s.data) {
		j := bytes.IndexByte(s.data[s.pos:], '"')
		if j < 0 {
			s.pos = len(s.data)
			return false
		}
		end := s.pos + j
		backslashes := 0
		for k := end - 1; k >= s.pos && s.data[k] == '\\'; k-- {
			backslashes++
		}
		s.pos = end + 1
		if backslashes%2 == 0 {
			return true
		}
	}
	return false
}

func (s *scanner) skipValue(depth int) bool {
	if s.pos >= len(s.data) || depth > MaxDepth {
		return false
	}
	switch s.data[s.pos] {
	case '"':
		return s.skipString()
	case '{', '[':
		closeBy := byte('}')
		if s.data[s.pos] == '[' {
			closeBy = ']'
		}
		s.pos++
		for {
			s.space()
			if s.pos >= len(s.data) {
				return false
			}
			c := s.data[s.pos]
			switch {
			case c == closeBy:
				s.pos++
				return true
			case c == ',' || c == ':':
				s.pos++
			default:
				if !s.skipValue(depth + 1) {
					return false
				}
			}
		}
	default:
		start := s.pos
		for s.pos < len(s.data) {
			switch s.data[s.pos] {
			case ',', '}', ']', ' ', '\t', '\n', '\r', ':':
				return s.pos > start
			}
			s.pos++
		}
		return s.pos > start
	}
}

// Locator answers many Locate questions about one document quickly: each
// object and array is scanned once and its members' offsets remembered, and
// lines are counted from the last answer (or indexed, when that costs more). It is not safe for
// concurrent use; Reset points it at another document, keeping its storage.
type Locator struct {
	data  []byte
	spans *Spans
	// lastOffset, lastLine and lastLineStart are the last position answered,
	// from which the next one is counted; counted is how many bytes that has
	// cost so far.
	lastOffset, lastLine, lastLineStart, counted int
	// lineStarts indexes every line once positions are asked out of order.
	lineStarts []int
	containers map[int]int
	store      []container
}

type container struct {
	object bool
	keys   []member
	elems  []int
}

// member is one property of an object: its key's opening quote is at keyAt
// and its closing quote at keyEnd, escaped marks keys that need decoding
// before comparison, and its value starts at valAt.
type member struct {
	escaped              bool
	keyAt, keyEnd, valAt int
}

func (c *container) member(data []byte, name string) (member, bool) {
	for _, m := range c.keys {
		if !m.escaped {
			if string(data[m.keyAt+1:m.keyEnd]) == name {
				return m, true
			}
			continue
		}
		d := decoder{data: data, pos: m.keyAt}
		if v, err := d.str(); err == nil && v == name {
			return m, true
		}
	}
	return member{}, false
}

// NewLocator returns a Locator over data.
func NewLocator(data []byte) *Locator {
	l := &Locator{}
	l.Reset(data, nil)
	return l
}

// NewIndexedLocator returns a Locator over data that steps over nested
// objects and arrays by the spans DecodeSpans recorded for data, instead of
// scanning them. spans must not change while the Locator is in use.
func NewIndexedLocator(data []byte, spans *Spans) *Locator {
	l := &Locator{}
	l.Reset(data, spans)
	return l
}

// Reset points l at another document and its spans (nil when none were
// recorded), forgetting everything it knew of the previous one.
func (l *Locator) Reset(data []byte, spans *Spans) {
	l.data, l.spans = data, spans
	l.lastOffset, l.lastLine, l.lastLineStart, l.counted = 0, 1, 0, 0
	l.lineStarts = l.lineStarts[:0]
	if l.containers == nil {
		l.containers = make(map[int]int, 8)
	} else {
		clear(l.containers)
	}
	l.store = l.store[:0]
}

// skipValue steps s over one value, jumping over a recorded container.
func (l *Locator) skipValue(s *scanner) bool {
	if l.spans != nil && s.pos < len(s.data) && (s.data[s.pos] == '{' || s.data[s.pos] == '[') {
		if end, ok := l.spans.endOf(s.pos); ok && end <= len(s.data) {
			s.pos = end
			return true
		}
	}
	return s.skipValue(0)
}

// Locate is Locate(data, path) for the Locator's document.
func (l *Locator) Locate(path []Step) (line, column int, ok bool) {
	s := scanner{data: l.data}
	if len(l.data) >= 3 && l.data[0] == 0xEF && l.data[1] == 0xBB && l.data[2] == 0xBF {
		s.pos = 3
	}
	s.space()
	pos, at := s.pos, s.pos
	for _, st := range path {
		c := l.container(pos)
		if c == nil {
			return 0, 0, false
		}
		if st.Index < 0 {
			m, found := c.member(l.data, st.Key)
			if !found {
				return 0, 0, false
			}
			at, pos = m.keyAt, m.valAt
			continue
		}
		if c.object || st.Index >= len(c.elems) {
			return 0, 0, false
		}
		pos = c.elems[st.Index]
		at = pos
	}
	line, column = l.position(at)
	return line, column, true
}

func (l *Locator) position(offset int) (int, int) {
	if offset > len(l.data) {
		offset = len(l.data)
	}
	// Lines are counted between this offset and the last one answered until
	// that has cost a few passes over the document; then they are indexed.
	if len(l.lineStarts) == 0 && l.counted <= 4*len(l.data) {
		line, lineStart := l.lastLine, l.lastLineStart
		if offset >= l.lastOffset {
			between := l.data[l.lastOffset:offset]
			if n := bytes.Count(between, []byte{'\n'}); n > 0 {
				line += n
				lineStart = l.lastOffset + bytes.LastIndexByte(between, '\n') + 1
			}
			l.counted += 2 * len(between)
		} else {
			between := l.data[offset:l.lastOffset]
			if n := bytes.Count(between, []byte{'\n'}); n > 0 {
				line -= n
				lineStart = bytes.LastIndexByte(l.data[:offset], '\n') + 1
				l.counted += offset - lineStart
			}
			l.counted += len(between)
		}
		l.lastOffset, l.lastLine, l.lastLineStart = offset, line, lineStart
		return line, offset - lineStart + 1
	}
	if len(l.lineStarts) == 0 {
		l.lineStarts = append(l.lineStarts, 0)
		for i := 0; ; {
			j := bytes.IndexByte(l.data[i:], '\n')
			if j < 0 {
				break
			}
			i += j + 1
			l.lineStarts = append(l.lineStarts, i)
		}
	}
	lo, hi := 0, len(l.lineStarts)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if l.lineStarts[mid] <= offset {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo + 1, offset - l.lineStarts[lo] + 1
}

// container scans the object or array starting at pos once.
func (l *Locator) container(pos int) *container {
	if i, ok := l.containers[pos]; ok {
		return &l.store[i]
	}
	if pos >= len(l.data) || (l.data[pos] != '{' && l.data[pos] != '[') {
		return nil
	}
	s := scanner{data: l.data, pos: pos + 1}
	if len(l.store) < cap(l.store) {
		l.store = l.store[:len(l.store)+1]
	} else {
		l.store = append(l.store, container{})
	}
	i := len(l.store) - 1
	c := &l.store[i]
	c.object, c.keys, c.elems = false, c.keys[:0], c.elems[:0]
	if l.data[pos] == '{' {
		c.object = true
		for {
			s.space()
			if s.pos >= len(s.data) || s.data[s.pos] != '"' {
				break
			}
			keyAt := s.pos
			if !s.skipString() {
				break
			}
			keyEnd := s.pos - 1
			escaped := bytes.IndexByte(s.data[keyAt+1:keyEnd], '\\') >= 0
			s.space()
			if s.pos >= len(s.data) || s.data[s.pos] != ':' {
				break
			}
			s.pos++
			s.space()
			c.keys = append(c.keys, member{escaped, keyAt, keyEnd, s.pos})
			if !l.skipValue(&s) {
				break
			}
			s.space()
			if s.pos >= len(s.data) || s.data[s.pos] != ',' {
				break
			}
			s.pos++
		}
	} else {
		for {
			s.space()
			if s.pos >= len(s.data) || s.data[s.pos] == ']' {
				break
			}
			c.elems = append(c.elems, s.pos)
			if !l.skipValue(&s) {
				break
			}
			s.space()
			if s.pos >= len(s.data) || s.data[s.pos] != ',' {
				break
			}
			s.pos++
		}
	}
	l.containers[pos] = i
	return c
}
