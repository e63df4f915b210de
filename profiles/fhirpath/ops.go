package fhirpath

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// collectionsEqual implements '='; ok is false when the result is empty.
func collectionsEqual(l, r Collection) (bool, bool) {
	if len(l) == 0 || len(r) == 0 {
		return false, false
	}
	if len(l) != len(r) {
		return false, true
	}
	for i := range l {
		eq, ok := itemsEqual(l[i], r[i])
		if !ok {
			return false, false
		}
		if !eq {
			return false, true
		}
	}
	return true, true
}

func collectionsEquivalent(l, r Collection) bool {
	if len(l) != len(r) {
		return false
	}
	used := make([]bool, len(r))
	for _, a := range l {
		found := false
		for j, b := range r {
			if !used[j] && itemsEquivalent(a, b) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// itemsEqual compares two items; ok is false when equality is unknown.
func itemsEqual(a, b Value) (bool, bool) {
	if sa, ok := plainString(a); ok {
		if sb, ok := plainString(b); ok {
			return sa == sb, true
		}
	}
	pa, oka := operand(a)
	pb, okb := operand(b)
	if !oka || !okb {
		na, isA := a.(*Node)
		nb, isB := b.(*Node)
		if isA && isB {
			return jsonEqual(na.data, nb.data, false), true
		}
		return false, true
	}
	switch x := pa.(type) {
	case Boolean:
		y, ok := pb.(Boolean)
		return ok && x == y, true
	case String:
		y, ok := pb.(String)
		return ok && x == y, true
	case Integer:
		switch y := pb.(type) {
		case Integer:
			return x == y, true
		case Decimal:
			return DecimalFromInt(int64(x)).cmp(y) == 0, true
		case Quantity:
			return false, true
		}
	case Decimal:
		switch y := pb.(type) {
		case Integer:
			return x.cmp(DecimalFromInt(int64(y))) == 0, true
		case Decimal:
			return x.cmp(y) == 0, true
		}
	case Quantity:
		y, ok := pb.(Quantity)
		if !ok {
			return false, true
		}
		va, vb, ok := canonicalPair(x, y)
		if !ok {
			return false, false
		}
		return va.cmp(vb) == 0, true
	case Date, DateTime:
		da, _, _ := temporalOf(x)
		switch pb.(type) {
		case Date, DateTime:
			db, _, _ := temporalOf(pb)
			c, ok := compareDT(da, db, false)
			return ok && c == 0, ok
		}
	case Time:
		if y, ok := pb.(Time); ok {
			c, ok := compareDT(x.dt, y.dt, true)
			return ok && c == 0, ok
		}
	}
	return false, true
}

func itemsEquivalent(a, b Value) bool {
	pa, oka := operand(a)
	pb, okb := operand(b)
	if !oka || !okb {
		na, isA := a.(*Node)
		nb, isB := b.(*Node)
		if isA && isB {
			return jsonEqual(na.data, nb.data, true)
		}
		return false
	}
	switch x := pa.(type) {
	case String:
		y, ok := pb.(String)
		return ok && normaliseSpace(string(x)) == normaliseSpace(string(y))
	case Integer:
		switch y := pb.(type) {
		case Integer:
			return x == y
		case Decimal:
			return equivalentDecimals(DecimalFromInt(int64(x)), y)
		}
		return false
	case Decimal:
		switch y := pb.(type) {
		case Integer:
			return equivalentDecimals(x, DecimalFromInt(int64(y)))
		case Decimal:
			return equivalentDecimals(x, y)
		}
		return false
	case Quantity:
		y, ok := pb.(Quantity)
		if !ok {
			return false
		}
		va, vb, ok := canonicalPair(x, y)
		if !ok {
			return false
		}
		p := min(x.Value.scale(), y.Value.scale())
		ra, _ := va.roundTo(p, apd.RoundHalfUp)
		rb, _ := vb.roundTo(p, apd.RoundHalfUp)
		return ra.cmp(rb) == 0
	case Date, DateTime:
		da, _, _ := temporalOf(x)
		switch pb.(type) {
		case Date, DateTime:
			db, _, _ := temporalOf(pb)
			c, ok := compareDT(da, db, false)
			return ok && c == 0
		}
		return false
	case Time:
		if y, ok := pb.(Time); ok {
			c, ok := compareDT(x.dt, y.dt, true)
			return ok && c == 0
		}
		return false
	}
	eq, ok := itemsEqual(pa, pb)
	return ok && eq
}

func normaliseSpace(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// jsonEqual compares decoded JSON trees; equivalent ignores case and spacing in strings.
func jsonEqual(a, b any, equivalent bool) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return false
		}
		nx, ny := 0, 0
		for k, v := range x {
			if k == "id" && equivalent {
				continue
			}
			nx++
			w, ok := y[k]
			if !ok || !jsonEqual(v, w, equivalent) {
				return false
			}
		}
		for k := range y {
			if !(k == "id" && equivalent) {
				ny++
			}
		}
		return nx == ny
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i], equivalent) {
				return false
			}
		}
		return true
	case string:
		y, ok := b.(string)
		if equivalent {
			return ok && normaliseSpace(x) == normaliseSpace(y)
		}
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		dx, ok1 := ParseDecimal(string(x))
		dy, ok2 := ParseDecimal(string(y))
		return ok1 && ok2 && dx.cmp(dy) == 0
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	return false
}

// singleOperands returns the one item on each side of a binary operator, as
// operands; ok is false when either side is empty (the result is then empty)
// or when a side holds more than one item (err says so).
func (c *evalCtx) singleOperands(e *binExpr, l, r Collection) (a, b Value, ok bool, err error) {
	if len(l) == 0 || len(r) == 0 {
		return nil, nil, false, nil
	}
	if len(l) > 1 || len(r) > 1 {
		return nil, nil, false, c.errorf(e.at, "'%s' needs single items", e.op)
	}
	a, _ = operand(l[0])
	b, _ = operand(r[0])
	return a, b, true, nil
}

func (c *evalCtx) compare(e *binExpr, l, r Collection) (Collection, error) {
	a, b, ok, err := c.singleOperands(e, l, r)
	if !ok {
		return nil, err
	}
	cmp, ok, err := compareValues(a, b)
	if err != nil {
		return nil, c.errorf(e.at, "%v", err)
	}
	if !ok {
		return nil, nil
	}
	var res bool
	switch e.op {
	case "<":
		res = cmp < 0
	case ">":
		res = cmp > 0
	case "<=":
		res = cmp <= 0
	case ">=":
		res = cmp >= 0
	}
	return boolCollection(res), nil
}

type compareError struct{ a, b Value }

func (e compareError) Error() string {
	return "cannot compare " + typeOfValue(e.a) + " with " + typeOfValue(e.b)
}

func typeOfValue(v Value) string {
	if v == nil {
		return "an element without a value"
	}
	return v.Type().String()
}

// compareValues orders two System values; ok is false when the order is unknown.
func compareValues(a, b Value) (int, bool, error) {
	switch x := a.(type) {
	case Integer:
		switch y := b.(type) {
		case Integer:
			return sign(int(x - y)), true, nil
		case Decimal:
			return DecimalFromInt(int64(x)).cmp(y), true, nil
		}
	case Decimal:
		switch y := b.(type) {
		case Integer:
			return x.cmp(DecimalFromInt(int64(y))), true, nil
		case Decimal:
			return x.cmp(y), true, nil
		}
	case String:
		if y, ok := b.(String); ok {
			return strings.Compare(string(x), string(y)), true, nil
		}
	case Quantity:
		if y, ok := b.(Quantity); ok {
			va, vb, ok := canonicalPair(x, y)
			if !ok {
				return 0, false, nil
			}
			return va.cmp(vb), true, nil
		}
	case Date, DateTime:
		da, _, _ := temporalOf(x)
		switch b.(type) {
		case Date, DateTime:
			db, _, _ := temporalOf(b)
			c, ok := compareDT(da, db, false)
			return c, ok, nil
		}
	case Time:
		if y, ok := b.(Time); ok {
			c, ok := compareDT(x.dt, y.dt, true)
			return c, ok, nil
		}
	}
	return 0, false, compareError{a, b}
}

func (c *evalCtx) arithmetic(e *binExpr, l, r Collection) (Collection, error) {
	a, b, ok, err := c.singleOperands(e, l, r)
	if !ok {
		return nil, err
	}
	if a == nil || b == nil {
		return nil, nil
	}
	res, err := arith(e.op, a, b)
	if err != nil {
		return nil, c.errorf(e.at, "%v", err)
	}
	if res == nil {
		return nil, nil
	}
	return Collection{res}, nil
}

type arithError struct {
	op   string
	a, b Value
}

func (e arithError) Error() string {
	return "cannot apply '" + e.op + "' to " + e.a.Type().String() + " and " + e.b.Type().String()
}

func asDecimal(v Value) (Decimal, bool) {
	switch x := v.(type) {
	case Integer:
		return DecimalFromInt(int64(x)), true
	case Decimal:
		return x, true
	}
	return Decimal{}, false
}

// arith applies an arithmetic operator; a nil result means empty.
func arith(op string, a, b Value) (Value, error) {
	bad := arithError{op, a, b}
	switch x := a.(type) {
	case String:
		if y, ok := b.(String); ok && op == "+" {
			if len(x)+len(y) > maxStringLength {
				return nil, fmt.Errorf("string longer than %d bytes", maxStringLength)
			}
			return String(string(x) + string(y)), nil
		}
		return nil, bad
	case Integer:
		if y, ok := b.(Integer); ok {
			return intArith(op, x, y)
		}
	case Date, DateTime, Time:
		q, ok := b.(Quantity)
		if !ok || (op != "+" && op != "-") {
			return nil, bad
		}
		return addDuration(a, q, op == "-")
	case Quantity:
		return quantityArith(op, x, b)
	}
	if q, ok := b.(Quantity); ok && op == "*" {
		if d, ok := asDecimal(a); ok {
			return quantityArith(op, q, d)
		}
	}
	da, ok1 := asDecimal(a)
	db, ok2 := asDecimal(b)
	if !ok1 || !ok2 {
		return nil, bad
	}
	return decArith(op, da, db)
}

func intArith(op string, x, y Integer) (Value, error) {
	switch op {
	case "+":
		r := x + y
		if (x > 0 && y > 0 && r < 0) || (x < 0 && y < 0 && r >= 0) {
			return nil, nil
		}
		return r, nil
	case "-":
		r := x - y
		if (x >= 0 && y < 0 && r < 0) || (x < 0 && y > 0 && r >= 0) {
			return nil, nil
		}
		return r, nil
	case "*":
		r := x * y
		if x != 0 && (r/x != y || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64)) {
			return nil, nil
		}
		return r, nil
	case "/":
		return decArith(op, DecimalFromInt(int64(x)), DecimalFromInt(int64(y)))
	case "div":
		if y == 0 || (y == -1 && x == math.MinInt64) {
			return nil, nil
		}
		return x / y, nil
	case "mod":
		if y == 0 || (y == -1 && x == math.MinInt64) {
			return nil, nil
		}
		return x % y, nil
	}
	return nil, arithError{op, x, y}
}

func decArith(op string, x, y Decimal) (Value, error) {
	var r Decimal
	ok := true
	switch op {
	case "+":
		r, ok = x.add(y)
	case "-":
		r, ok = x.sub(y)
	case "*":
		r, ok = x.mul(y)
	case "/":
		if y.dec().IsZero() {
			return nil, nil
		}
		r, ok = x.quo(y)
	case "div":
		if y.dec().IsZero() {
			return nil, nil
		}
		q := newDec()
		if _, err := decCtx.QuoInteger(q, x.dec(), y.dec()); err != nil {
			return nil, nil
		}
		i, err := q.Int64()
		if err != nil {
			return nil, nil
		}
		return Integer(i), nil
	case "mod":
		if y.dec().IsZero() {
			return nil, nil
		}
		q := newDec()
		if _, err := decCtx.Rem(q, x.dec(), y.dec()); err != nil {
			return nil, nil
		}
		return Decimal{q}, nil
	default:
		return nil, arithError{op, x, y}
	}
	if !ok {
		return nil, nil
	}
	return r, nil
}

func quantityArith(op string, x Quantity, b Value) (Value, error) {
	switch y := b.(type) {
	case Quantity:
		switch op {
		case "+", "-":
			va, vb := x.Value, y.Value
			if x.Unit != y.Unit {
				ua, ub, ok := canonicalPair(Quantity{DecimalFromInt(1), x.Unit}, Quantity{DecimalFromInt(1), y.Unit})
				if !ok {
					return nil, arithError{op, x, y}
				}
				f, _ := ub.quo(ua)
				vb, _ = vb.mul(f)
			}
			r, _ := decArith(op, va, vb)
			if r == nil {
				return nil, nil
			}
			return Quantity{Value: r.(Decimal), Unit: x.Unit}, nil
		case "*", "/":
			r, _ := decArith(op, x.Value, y.Value)
			if r == nil {
				return nil, nil
			}
			return Quantity{Value: r.(Decimal), Unit: combineUnits(unitAlias(x.Unit), unitAlias(y.Unit), op == "/")}, nil
		}
	case Integer, Decimal:
		d, _ := asDecimal(y)
		if op == "*" || op == "/" {
			r, _ := decArith(op, x.Value, d)
			if r == nil {
				return nil, nil
			}
			return Quantity{Value: r.(Decimal), Unit: x.Unit}, nil
		}
	}
	return nil, arithError{op, x, b}
}

func combineUnits(a, b string, divide bool) string {
	if b == "1" {
		return a
	}
	if divide {
		if a == "1" {
			a = ""
		}
		return a + "/(" + b + ")"
	}
	if a == "1" {
		return b
	}
	return "(" + a + ").(" + b + ")"
}

var quantityTypes = map[string]bool{"Quantity": true, "Age": true, "Duration": true, "Distance": true, "Count": true, "SimpleQuantity": true, "MoneyQuantity": true}

// operand returns the System value an item stands for in operators:
// primitives' values, and FHIR Quantity elements as System Quantities.
func operand(v Value) (Value, bool) {
	if n, ok := v.(*Node); ok && quantityTypes[n.typ] {
		if q, ok := nodeQuantity(n); ok {
			return q, true
		}
	}
	return primitive(v)
}

// plainString returns the text of a String or of a string-valued FHIR primitive without boxing it.
func plainString(v Value) (string, bool) {
	switch x := v.(type) {
	case String:
		return string(x), true
	case *Node:
		s, ok := x.data.(string)
		if !ok {
			return "", false
		}
		st := systemTypeOf(x.typ)
		return s, st == "String" || (st == "" && (x.typ == "" || strings.HasPrefix(x.typ, "System.String")))
	}
	return "", false
}
