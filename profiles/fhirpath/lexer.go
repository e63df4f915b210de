package fhirpath

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokDelimIdent
	tokString
	tokNumber
	tokLongNumber
	tokDate
	tokDateTime
	tokTime
	tokPunct
	tokEnvVar
)

type token struct {
	kind tokenKind
	text string
	pos  int
}

// Position is a place in an expression's text.
type Position struct {
	Offset int
	Line   int
	Column int
}

func positionOf(src string, offset int) Position {
	if offset > len(src) {
		offset = len(src)
	}
	line, col := 1, 1
	for _, r := range src[:offset] {
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return Position{Offset: offset, Line: line, Column: col}
}

// String formats the position as line:column.
func (p Position) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Column) }

type lexer struct {
	src  string
	pos  int
	toks []token
}

func lex(src string) ([]token, error) {
	l := &lexer{src: src}
	for {
		if err := l.skipSpace(); err != nil {
			return nil, err
		}
		if l.pos >= len(l.src) {
			l.toks = append(l.toks, token{kind: tokEOF, pos: l.pos})
			return l.toks, nil
		}
		if err := l.next(); err != nil {
			return nil, err
		}
	}
}

func (l *lexer) errorf(pos int, format string, args ...any) error {
	return &Error{Kind: SyntaxError, Pos: positionOf(l.src, pos), Msg: fmt.Sprintf(format, args...)}
}

func (l *lexer) skipSpace() error {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f':
			l.pos++
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '/':
			end := strings.IndexByte(l.src[l.pos:], '\n')
			if end < 0 {
				l.pos = len(l.src)
			} else {
				l.pos += end + 1
			}
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '*':
			end := strings.Index(l.src[l.pos+2:], "*/")
			if end < 0 {
				return l.errorf(l.pos, "unterminated comment")
			}
			l.pos += end + 4
		default:
			return nil
		}
	}
	return nil
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (l *lexer) emit(kind tokenKind, start int, text string) {
	l.toks = append(l.toks, token{kind: kind, text: text, pos: start})
}

func (l *lexer) next() error {
	start := l.pos
	c := l.src[l.pos]
	switch {
	case isIdentStart(c):
		for l.pos < len(l.src) && (isIdentStart(l.src[l.pos]) || isDigit(l.src[l.pos])) {
			l.pos++
		}
		l.emit(tokIdent, start, l.src[start:l.pos])
		return nil
	case isDigit(c):
		for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
			l.pos++
		}
		if l.pos+1 < len(l.src) && l.src[l.pos] == '.' && isDigit(l.src[l.pos+1]) {
			l.pos++
			for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
				l.pos++
			}
		} else if l.pos < len(l.src) && l.src[l.pos] == 'L' {
			l.pos++
			l.emit(tokLongNumber, start, l.src[start:l.pos-1])
			return nil
		}
		l.emit(tokNumber, start, l.src[start:l.pos])
		return nil
	case c == '\'' || c == '`' || c == '"':
		s, err := l.quoted(c)
		if err != nil {
			return err
		}
		if c == '\'' {
			l.emit(tokString, start, s)
		} else {
			l.emit(tokDelimIdent, start, s)
		}
		return nil
	case c == '@':
		return l.dateTime()
	case c == '%':
		l.pos++
		if l.pos >= len(l.src) {
			return l.errorf(start, "missing name after %%")
		}
		c2 := l.src[l.pos]
		switch {
		case isIdentStart(c2):
			s := l.pos
			for l.pos < len(l.src) && (isIdentStart(l.src[l.pos]) || isDigit(l.src[l.pos])) {
				l.pos++
			}
			l.emit(tokEnvVar, start, l.src[s:l.pos])
		case c2 == '\'' || c2 == '`' || c2 == '"':
			s, err := l.quoted(c2)
			if err != nil {
				return err
			}
			l.emit(tokEnvVar, start, s)
		default:
			return l.errorf(start, "invalid name after %%")
		}
		return nil
	case c == '$':
		l.pos++
		for l.pos < len(l.src) && isIdentStart(l.src[l.pos]) {
			l.pos++
		}
		l.emit(tokIdent, start, l.src[start:l.pos])
		return nil
	}
	for _, p := range []string{"<=", ">=", "!=", "!~"} {
		if strings.HasPrefix(l.src[l.pos:], p) {
			l.pos += 2
			l.emit(tokPunct, start, p)
			return nil
		}
	}
	if strings.IndexByte(".,()[]{}+-*/&|<>=~", c) >= 0 {
		l.pos++
		l.emit(tokPunct, start, string(c))
		return nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	return l.errorf(start, "unexpected character %q", r)
}

func (l *lexer) quoted(q byte) (string, error) {
	start := l.pos
	l.pos++
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if c == q {
			l.pos++
			return b.String(), nil
		}
		if c != '\\' {
			b.WriteByte(c)
			l.pos++
			continue
		}
		if l.pos+1 >= len(l.src) {
			break
		}
		e := l.src[l.pos+1]
		l.pos += 2
		switch e {
		case '\'', '"', '`', '\\', '/':
			b.WriteByte(e)
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			if l.pos+4 > len(l.src) {
				return "", l.errorf(l.pos-2, "invalid unicode escape")
			}
			var r rune
			for _, h := range l.src[l.pos : l.pos+4] {
				var v rune
				switch {
				case h >= '0' && h <= '9':
					v = h - '0'
				case h >= 'a' && h <= 'f':
					v = h - 'a' + 10
				case h >= 'A' && h <= 'F':
					v = h - 'A' + 10
				default:
					return "", l.errorf(l.pos-2, "invalid unicode escape")
				}
				r = r*16 + v
			}
			b.WriteRune(r)
			l.pos += 4
		default:
			return "", l.errorf(l.pos-2, "invalid escape \\%c", e)
		}
	}
	return "", l.errorf(start, "unterminated %c-quoted text", q)
}

func (l *lexer) digits(n int) bool {
	if l.pos+n > len(l.src) {
		return false
	}
	for i := 0; i < n; i++ {
		if !isDigit(l.src[l.pos+i]) {
			return false
		}
	}
	l.pos += n
	return true
}

func (l *lexer) accept(c byte) bool {
	if l.pos < len(l.src) && l.src[l.pos] == c {
		l.pos++
		return true
	}
	return false
}

func (l *lexer) peekDigitAfter(c byte) bool {
	return l.pos+1 < len(l.src) && l.src[l.pos] == c && isDigit(l.src[l.pos+1])
}

// timePart lexes hh(:mm(:ss(.fff)?)?)?
func (l *lexer) timePart() bool {
	if !l.digits(2) {
		return false
	}
	if l.peekDigitAfter(':') {
		l.pos++
		if !l.digits(2) {
			return false
		}
		if l.peekDigitAfter(':') {
			l.pos++
			if !l.digits(2) {
				return false
			}
			if l.peekDigitAfter('.') {
				l.pos++
				for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
					l.pos++
				}
			}
		}
	}
	return true
}

func (l *lexer) zone() {
	if l.accept('Z') {
		return
	}
	if l.pos < len(l.src) && (l.src[l.pos] == '+' || l.src[l.pos] == '-') {
		save := l.pos
		l.pos++
		if l.digits(2) && l.accept(':') && l.digits(2) {
			return
		}
		l.pos = save
	}
}

func (l *lexer) dateTime() error {
	start := l.pos
	l.pos++
	if l.accept('T') {
		if !l.timePart() {
			return l.errorf(start, "invalid time literal")
		}
		l.emit(tokTime, start, l.src[start+1:l.pos])
		return nil
	}
	if !l.digits(4) {
		return l.errorf(start, "invalid date literal")
	}
	if l.peekDigitAfter('-') {
		l.pos++
		if !l.digits(2) {
			return l.errorf(start, "invalid date literal")
		}
		if l.peekDigitAfter('-') {
			l.pos++
			if !l.digits(2) {
				return l.errorf(start, "invalid date literal")
			}
		}
	}
	if l.accept('T') {
		if l.pos < len(l.src) && isDigit(l.src[l.pos]) {
			if !l.timePart() {
				return l.errorf(start, "invalid date/time literal")
			}
			l.zone()
		} else {
			l.zone()
		}
		l.emit(tokDateTime, start, l.src[start+1:l.pos])
		return nil
	}
	l.emit(tokDate, start, l.src[start+1:l.pos])
	return nil
}
