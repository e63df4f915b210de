package fhirpath

import (
	"github.com/cockroachdb/apd/v3"
)

var decCtx = func() *apd.Context {
	c := apd.BaseContext.WithPrecision(34)
	c.Traps = apd.InvalidOperation | apd.DivisionByZero | apd.Overflow
	c.MaxExponent = 10000
	c.MinExponent = -10000
	return c
}()

func newDec() *apd.Decimal { return new(apd.Decimal) }

func decOp(op func(d, x, y *apd.Decimal) (apd.Condition, error), x, y Decimal) (Decimal, bool) {
	r := newDec()
	if _, err := op(r, x.dec(), y.dec()); err != nil || r.Form != apd.Finite {
		return Decimal{}, false
	}
	return Decimal{r}, true
}

func (d Decimal) add(o Decimal) (Decimal, bool) { return decOp(decCtx.Add, d, o) }
func (d Decimal) sub(o Decimal) (Decimal, bool) { return decOp(decCtx.Sub, d, o) }
func (d Decimal) mul(o Decimal) (Decimal, bool) { return decOp(decCtx.Mul, d, o) }

func (d Decimal) quo(o Decimal) (Decimal, bool) {
	if o.dec().IsZero() {
		return Decimal{}, false
	}
	r, ok := decOp(decCtx.Quo, d, o)
	if !ok {
		return r, false
	}
	red := newDec()
	red.Reduce(r.d)
	if red.Exponent > 0 {
		decCtx.Quantize(red, red, 0)
	}
	return Decimal{red}, true
}

func (d Decimal) cmp(o Decimal) int { return d.dec().Cmp(o.dec()) }

func (d Decimal) neg() Decimal {
	r := newDec()
	r.Neg(d.dec())
	return Decimal{r}
}

// scale is the number of digits after the decimal point as written.
func (d Decimal) scale() int {
	if e := d.dec().Exponent; e < 0 {
		return int(-e)
	}
	return 0
}

func (d Decimal) int64Truncated() (int64, bool) {
	r := newDec()
	if _, err := decCtx.RoundToIntegralValue(r, truncated(d.dec())); err != nil {
		return 0, false
	}
	i, err := r.Int64()
	return i, err == nil
}

func truncated(x *apd.Decimal) *apd.Decimal {
	r := newDec()
	c := decCtx.WithPrecision(34)
	c.Rounding = apd.RoundDown
	c.Quantize(r, x, 0)
	return r
}

// roundTo rounds to the given number of decimal places with the given mode.
func (d Decimal) roundTo(places int, mode apd.Rounder) (Decimal, bool) {
	c := decCtx.WithPrecision(1000)
	c.Rounding = mode
	r := newDec()
	if _, err := c.Quantize(r, d.dec(), int32(-places)); err != nil {
		return Decimal{}, false
	}
	return Decimal{r}, true
}

func (d Decimal) float() float64 {
	f, _ := d.dec().Float64()
	return f
}

func decimalFromFloat(f float64) (Decimal, bool) {
	r := newDec()
	if _, err := r.SetFloat64(f); err != nil || r.Form != apd.Finite {
		return Decimal{}, false
	}
	return Decimal{r}, true
}

// equivalentDecimals compares at the precision of the less precise operand.
func equivalentDecimals(a, b Decimal) bool {
	p := min(a.scale(), b.scale())
	ra, ok1 := a.roundTo(p, apd.RoundHalfUp)
	rb, ok2 := b.roundTo(p, apd.RoundHalfUp)
	return ok1 && ok2 && ra.cmp(rb) == 0
}

// decimalBoundary implements lowBoundary/highBoundary for decimals.
func decimalBoundary(d Decimal, places int, high bool) (Decimal, bool) {
	if places < 0 || places > 28 {
		return Decimal{}, false
	}
	half := apd.New(5, int32(-(d.scale() + 1)))
	b := newDec()
	var err error
	if high {
		_, err = decCtx.Add(b, d.dec(), half)
	} else {
		_, err = decCtx.Sub(b, d.dec(), half)
	}
	if err != nil {
		return Decimal{}, false
	}
	kept, ok := d.roundTo(places, apd.RoundDown)
	if ok && kept.dec().IsZero() && places < d.scale() {
		z := apd.New(0, int32(-places))
		z.Negative = d.dec().Negative
		return Decimal{z}, true
	}
	mode := apd.RoundFloor
	if high {
		mode = apd.RoundCeiling
	}
	return Decimal{b}.roundTo(places, mode)
}
