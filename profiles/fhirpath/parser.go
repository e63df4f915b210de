package fhirpath

import (
	"fmt"
	"strconv"
)

const maxNesting = 300

type expr interface {
	eval(c *evalCtx, focus Collection) (Collection, error)
	position() int
}

type litExpr struct {
	at  int
	val Collection
}

type thisExpr struct{ at int }
type indexVarExpr struct{ at int }
type totalExpr struct{ at int }

type envExpr struct {
	at   int
	name string
}

type memberExpr struct {
	at     int
	target expr
	name   string
}

type callExpr struct {
	at     int
	target expr
	name   string
	args   []expr
	fn     *function
	typ    TypeSpec
}

// childCountExpr is children().count(), counted without building the children.
type childCountExpr struct {
	at     int
	target expr
}

type indexerExpr struct {
	at     int
	target expr
	index  expr
}

type unaryExpr struct {
	at int
	op byte
	x  expr
}

type binExpr struct {
	at   int
	op   string
	l, r expr
}

type typeExpr struct {
	at int
	op string
	x  expr
	t  TypeSpec
}

func (e *litExpr) position() int        { return e.at }
func (e *thisExpr) position() int       { return e.at }
func (e *indexVarExpr) position() int   { return e.at }
func (e *totalExpr) position() int      { return e.at }
func (e *envExpr) position() int        { return e.at }
func (e *memberExpr) position() int     { return e.at }
func (e *callExpr) position() int       { return e.at }
func (e *indexerExpr) position() int    { return e.at }
func (e *childCountExpr) position() int { return e.at }
func (e *unaryExpr) position() int      { return e.at }
func (e *binExpr) position() int        { return e.at }
func (e *typeExpr) position() int       { return e.at }

type parser struct {
	src   string
	toks  []token
	i     int
	depth int
}

func parse(src string) (expr, error) {
	if len(src) > 1<<20 {
		return nil, &Error{Kind: SyntaxError, Msg: "expression longer than 1 MiB"}
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	e, err := p.expression(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.errorf(t.pos, "unexpected %q", t.text)
	}
	return e, nil
}

func (p *parser) errorf(pos int, format string, args ...any) error {
	return &Error{Kind: SyntaxError, Pos: positionOf(p.src, pos), Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) semanticf(pos int, format string, args ...any) error {
	return &Error{Kind: SemanticError, Pos: positionOf(p.src, pos), Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) advance() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tokPunct && t.text == s
}

func (p *parser) expect(s string) error {
	t := p.peek()
	if t.kind != tokPunct || t.text != s {
		if t.kind == tokEOF {
			return p.errorf(t.pos, "expected %q, found end of expression", s)
		}
		return p.errorf(t.pos, "expected %q, found %q", s, t.text)
	}
	p.i++
	return nil
}

var binaryPrec = map[string]int{
	"implies": 1, "or": 2, "xor": 2, "and": 3, "in": 4, "contains": 4,
	"=": 5, "~": 5, "!=": 5, "!~": 5, "<": 6, ">": 6, "<=": 6, ">=": 6,
	"|": 7, "is": 8, "as": 8, "+": 9, "-": 9, "&": 9, "*": 10, "/": 10, "div": 10, "mod": 10,
}

func (p *parser) binaryOp() (string, int, bool) {
	t := p.peek()
	if t.kind != tokPunct && t.kind != tokIdent {
		return "", 0, false
	}
	prec, ok := binaryPrec[t.text]
	if !ok {
		return "", 0, false
	}
	return t.text, prec, true
}

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > maxNesting {
		return p.errorf(pos, "expression nested more than %d deep", maxNesting)
	}
	return nil
}

func (p *parser) expression(minPrec int) (expr, error) {
	if err := p.enter(p.peek().pos); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		op, prec, ok := p.binaryOp()
		if !ok || prec <= minPrec {
			return left, nil
		}
		at := p.advance().pos
		if op == "is" || op == "as" {
			ts, err := p.typeSpecifier()
			if err != nil {
				return nil, err
			}
			left = &typeExpr{at: at, op: op, x: left, t: ts}
			continue
		}
		right, err := p.expression(prec)
		if err != nil {
			return nil, err
		}
		left = &binExpr{at: at, op: op, l: left, r: right}
	}
}

func (p *parser) typeSpecifier() (TypeSpec, error) {
	t := p.advance()
	if t.kind != tokIdent && t.kind != tokDelimIdent {
		return TypeSpec{}, p.errorf(t.pos, "expected a type name")
	}
	if p.isPunct(".") && (p.toks[p.i+1].kind == tokIdent || p.toks[p.i+1].kind == tokDelimIdent) {
		p.advance()
		n := p.advance()
		return TypeSpec{Namespace: t.text, Name: n.text}, nil
	}
	return TypeSpec{Name: t.text}, nil
}

func (p *parser) unary() (expr, error) {
	if p.isPunct("+") || p.isPunct("-") {
		t := p.advance()
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &unaryExpr{at: t.pos, op: t.text[0], x: x}, nil
	}
	return p.postfix()
}

func (p *parser) postfix() (expr, error) {
	e, err := p.term()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.isPunct("."):
			p.advance()
			t := p.advance()
			if t.kind != tokIdent && t.kind != tokDelimIdent {
				return nil, p.errorf(t.pos, "expected a name after '.'")
			}
			if e, err = p.invocation(e, t); err != nil {
				return nil, err
			}
		case p.isPunct("["):
			at := p.advance().pos
			idx, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			e = &indexerExpr{at: at, target: e, index: idx}
		default:
			return e, nil
		}
	}
}

func (p *parser) invocation(target expr, t token) (expr, error) {
	if t.kind == tokIdent && p.isPunct("(") {
		return p.call(target, t)
	}
	if t.kind == tokIdent {
		switch t.text {
		case "$this":
			return &thisExpr{at: t.pos}, nil
		case "$index":
			return &indexVarExpr{at: t.pos}, nil
		case "$total":
			return &totalExpr{at: t.pos}, nil
		}
		if t.text[0] == '$' {
			return nil, p.errorf(t.pos, "unknown special variable %s", t.text)
		}
	}
	return &memberExpr{at: t.pos, target: target, name: t.text}, nil
}

func (p *parser) call(target expr, t token) (expr, error) {
	p.advance()
	c := &callExpr{at: t.pos, target: target, name: t.text}
	if !p.isPunct(")") {
		for {
			a, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, a)
			if p.isPunct(",") {
				p.advance()
				continue
			}
			break
		}
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	if inner, ok := target.(*callExpr); ok && c.name == "count" && len(c.args) == 0 && inner.name == "children" && len(inner.args) == 0 {
		return &childCountExpr{at: t.pos, target: inner.target}, nil
	}
	fn, ok := functions[c.name]
	if !ok {
		return nil, p.semanticf(t.pos, "unknown function %s()", c.name)
	}
	if len(c.args) < fn.minArgs || len(c.args) > fn.maxArgs {
		return nil, p.semanticf(t.pos, "%s() takes %s, got %d", c.name, arity(fn), len(c.args))
	}
	c.fn = fn
	if fn.typeArg {
		ts, ok := typeSpecOf(c.args[0])
		if !ok {
			return nil, p.semanticf(c.args[0].position(), "%s() needs a type name", c.name)
		}
		c.typ = ts
	}
	return c, nil
}

func arity(fn *function) string {
	if fn.minArgs == fn.maxArgs {
		if fn.minArgs == 1 {
			return "1 argument"
		}
		return fmt.Sprintf("%d arguments", fn.minArgs)
	}
	return fmt.Sprintf("%d to %d arguments", fn.minArgs, fn.maxArgs)
}

func typeSpecOf(e expr) (TypeSpec, bool) {
	m, ok := e.(*memberExpr)
	if !ok {
		return TypeSpec{}, false
	}
	if m.target == nil {
		return TypeSpec{Name: m.name}, true
	}
	ns, ok := m.target.(*memberExpr)
	if !ok || ns.target != nil {
		return TypeSpec{}, false
	}
	return TypeSpec{Namespace: ns.name, Name: m.name}, true
}

func (p *parser) term() (expr, error) {
	t := p.advance()
	switch t.kind {
	case tokEOF:
		return nil, p.errorf(t.pos, "unexpected end of expression")
	case tokNumber, tokLongNumber:
		return p.number(t)
	case tokString:
		return &litExpr{at: t.pos, val: Collection{String(t.text)}}, nil
	case tokDate:
		d, ok := parseDate(t.text)
		if !ok {
			return nil, p.errorf(t.pos, "invalid date @%s", t.text)
		}
		return &litExpr{at: t.pos, val: Collection{d}}, nil
	case tokDateTime:
		d, ok := parseDateTime(t.text)
		if !ok {
			return nil, p.errorf(t.pos, "invalid date-time @%s", t.text)
		}
		return &litExpr{at: t.pos, val: Collection{d}}, nil
	case tokTime:
		d, ok := parseTime(t.text[1:])
		if !ok {
			return nil, p.errorf(t.pos, "invalid time @%s", t.text)
		}
		return &litExpr{at: t.pos, val: Collection{d}}, nil
	case tokEnvVar:
		return &envExpr{at: t.pos, name: t.text}, nil
	case tokIdent:
		switch t.text {
		case "true":
			return &litExpr{at: t.pos, val: Collection{Boolean(true)}}, nil
		case "false":
			return &litExpr{at: t.pos, val: Collection{Boolean(false)}}, nil
		}
		return p.invocation(nil, t)
	case tokDelimIdent:
		return p.invocation(nil, t)
	case tokPunct:
		switch t.text {
		case "(":
			e, err := p.expression(0)
			if err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			return e, nil
		case "{":
			if err := p.expect("}"); err != nil {
				return nil, err
			}
			return &litExpr{at: t.pos}, nil
		}
	}
	return nil, p.errorf(t.pos, "unexpected %q", t.text)
}

func (p *parser) number(t token) (expr, error) {
	var v Value
	isInt := true
	for i := 0; i < len(t.text); i++ {
		if t.text[i] == '.' {
			isInt = false
		}
	}
	if isInt {
		i, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, p.errorf(t.pos, "integer %s out of range", t.text)
		}
		v = Integer(i)
	} else {
		d, ok := ParseDecimal(t.text)
		if !ok {
			return nil, p.errorf(t.pos, "invalid decimal %s", t.text)
		}
		v = d
	}
	if t.kind == tokNumber {
		u := p.peek()
		unit, isUnit := "", false
		switch {
		case u.kind == tokString:
			unit, isUnit = u.text, true
		case u.kind == tokIdent && isCalendarUnit(u.text):
			unit, isUnit = u.text, true
		}
		if isUnit {
			p.advance()
			var d Decimal
			switch n := v.(type) {
			case Integer:
				d = DecimalFromInt(int64(n))
			case Decimal:
				d = n
			}
			return &litExpr{at: t.pos, val: Collection{Quantity{Value: d, Unit: unit}}}, nil
		}
	}
	return &litExpr{at: t.pos, val: Collection{v}}, nil
}
