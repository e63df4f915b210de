package fhirpath

import (
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// unitDef is a unit reduced to a factor over base dimensions.
type unitDef struct {
	factor *apd.Decimal
	dims   map[string]int
}

type atomDef struct {
	factor string
	unit   string
}

var ucumBase = map[string]bool{"m": true, "g": true, "s": true, "rad": true, "K": true, "C": true, "cd": true, "mol": true}

var ucumAtoms = map[string]atomDef{
	"L": {"0.001", "m3"}, "l": {"0.001", "m3"},
	"min": {"60", "s"}, "h": {"3600", "s"}, "d": {"86400", "s"}, "wk": {"604800", "s"},
	"mo": {"2629800", "s"}, "a": {"31557600", "s"},
	"[in_i]": {"0.0254", "m"}, "[ft_i]": {"0.3048", "m"}, "[yd_i]": {"0.9144", "m"}, "[mi_i]": {"1609.344", "m"},
	"[lb_av]": {"453.59237", "g"}, "[oz_av]": {"28.349523125", "g"}, "[stone_av]": {"6350.29318", "g"},
	"Hz": {"1", "/s"}, "N": {"1000", "g.m/s2"}, "Pa": {"1000", "g/(m.s2)"}, "J": {"1000", "g.m2/s2"},
	"W": {"1000", "g.m2/s3"}, "bar": {"100000000", "g/(m.s2)"}, "mm[Hg]": {"133322.387415", "g/(m.s2)"},
	"cm[H2O]": {"98066.5", "g/(m.s2)"}, "atm": {"101325000", "g/(m.s2)"}, "cal": {"4184", "g.m2/s2"},
	"kcal": {"4184000", "g.m2/s2"}, "%": {"0.01", "1"}, "[ppm]": {"0.000001", "1"}, "[ppb]": {"0.000000001", "1"},
	"eq": {"1", "mol"}, "osm": {"1", "mol"}, "t": {"1000000", "g"}, "ar": {"100", "m2"}, "deg": {"0.0174532925199432957692", "rad"},
	"A": {"1", "C/s"}, "V": {"1000", "g.m2/(s3.C)"}, "[pi]": {"3.1415926535897932384626433832795028841971693993751058209749445923", "1"},
	"sr": {"1", "rad2"}, "lm": {"1", "cd.rad2"}, "lx": {"1", "cd.rad2/m2"}, "Bq": {"1", "/s"},
	"[iU]": {"1", "[IU]"}, "[IU]": {"", ""}, "U": {"1", "umol/min"}, "kat": {"1", "mol/s"},
	"[mi_us]": {"1609.3472", "m"}, "[gal_us]": {"0.003785411784", "m3"}, "[foz_us]": {"0.0000295735295625", "m3"},
	"[drp]": {"0.00000005", "m3"}, "[degF]": {"", ""}, "Cel": {"", ""},
}

var ucumPrefixes = map[string]string{
	"Y": "1e24", "Z": "1e21", "E": "1e18", "P": "1e15", "T": "1e12", "G": "1e9", "M": "1e6", "k": "1e3", "h": "1e2",
	"da": "1e1", "d": "1e-1", "c": "1e-2", "m": "1e-3", "u": "1e-6", "n": "1e-9", "p": "1e-12", "f": "1e-15",
	"a": "1e-18", "z": "1e-21", "y": "1e-24",
}

var calendarDefs = map[string]string{
	"week": "wk", "weeks": "wk", "day": "d", "days": "d", "hour": "h", "hours": "h", "minute": "min",
	"minutes": "min", "second": "s", "seconds": "s", "millisecond": "ms", "milliseconds": "ms",
}

func mustDec(s string) *apd.Decimal {
	d, _, err := apd.NewFromString(s)
	if err != nil {
		panic(err)
	}
	return d
}

type ucumParser struct {
	s     string
	pos   int
	depth int
}

// parseUnit reduces a UCUM unit expression (or a calendar duration keyword) to base dimensions.
func parseUnit(u string) (unitDef, bool) {
	switch u {
	case "year", "years":
		return unitDef{factor: apd.New(1, 0), dims: map[string]int{"calendar-year": 1}}, true
	case "month", "months":
		return unitDef{factor: apd.New(1, 0), dims: map[string]int{"calendar-month": 1}}, true
	}
	if c, ok := calendarDefs[u]; ok {
		u = c
	}
	if len(u) > 200 {
		return unitDef{}, false
	}
	p := &ucumParser{s: u}
	if u == "" {
		return unitDef{factor: apd.New(1, 0), dims: map[string]int{}}, true
	}
	d, ok := p.term()
	if !ok || p.pos != len(p.s) {
		return unitDef{}, false
	}
	return d, true
}

func (p *ucumParser) term() (unitDef, bool) {
	p.depth++
	if p.depth > 20 {
		return unitDef{}, false
	}
	defer func() { p.depth-- }()
	res := unitDef{factor: apd.New(1, 0), dims: map[string]int{}}
	op := byte('.')
	if p.pos < len(p.s) && p.s[p.pos] == '/' {
		op = '/'
		p.pos++
	}
	for {
		c, ok := p.component()
		if !ok {
			return unitDef{}, false
		}
		combine(&res, c, op == '/')
		if p.pos >= len(p.s) || (p.s[p.pos] != '.' && p.s[p.pos] != '/') {
			return res, true
		}
		op = p.s[p.pos]
		p.pos++
	}
}

func combine(res *unitDef, c unitDef, divide bool) {
	f := newDec()
	if divide {
		decCtx.Quo(f, res.factor, c.factor)
	} else {
		decCtx.Mul(f, res.factor, c.factor)
	}
	res.factor = f
	for k, v := range c.dims {
		if divide {
			v = -v
		}
		res.dims[k] += v
		if res.dims[k] == 0 {
			delete(res.dims, k)
		}
	}
}

func (p *ucumParser) component() (unitDef, bool) {
	if p.pos >= len(p.s) {
		return unitDef{}, false
	}
	if p.s[p.pos] == '(' {
		p.pos++
		d, ok := p.term()
		if !ok || p.pos >= len(p.s) || p.s[p.pos] != ')' {
			return unitDef{}, false
		}
		p.pos++
		return p.exponent(d)
	}
	if p.s[p.pos] == '{' {
		end := strings.IndexByte(p.s[p.pos:], '}')
		if end < 0 {
			return unitDef{}, false
		}
		p.pos += end + 1
		return unitDef{factor: apd.New(1, 0), dims: map[string]int{}}, true
	}
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '[' {
			end := strings.IndexByte(p.s[p.pos:], ']')
			if end < 0 {
				return unitDef{}, false
			}
			p.pos += end + 1
			continue
		}
		if c == '.' || c == '/' || c == '(' || c == ')' || c == '{' {
			break
		}
		p.pos++
	}
	sym := p.s[start:p.pos]
	if p.pos < len(p.s) && p.s[p.pos] == '{' {
		end := strings.IndexByte(p.s[p.pos:], '}')
		if end < 0 {
			return unitDef{}, false
		}
		p.pos += end + 1
	}
	return symbolUnit(sym)
}

func (p *ucumParser) exponent(d unitDef) (unitDef, bool) {
	start := p.pos
	if p.pos < len(p.s) && (p.s[p.pos] == '+' || p.s[p.pos] == '-') {
		p.pos++
	}
	for p.pos < len(p.s) && isDigit(p.s[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		return d, true
	}
	n, err := strconv.Atoi(p.s[start:p.pos])
	if err != nil {
		return unitDef{}, false
	}
	return power(d, n)
}

func power(d unitDef, n int) (unitDef, bool) {
	if n > 10 || n < -10 {
		return unitDef{}, false
	}
	r := unitDef{factor: apd.New(1, 0), dims: map[string]int{}}
	for i := 0; i < abs(n); i++ {
		combine(&r, d, n < 0)
	}
	return r, true
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

func symbolUnit(sym string) (unitDef, bool) {
	if sym == "" {
		return unitDef{}, false
	}
	if strings.HasPrefix(sym, "10*") || strings.HasPrefix(sym, "10^") {
		n, err := strconv.Atoi(sym[3:])
		if err != nil || n > 30 || n < -30 {
			return unitDef{}, false
		}
		return unitDef{factor: apd.New(1, int32(n)), dims: map[string]int{}}, true
	}
	allDigits := true
	for i := 0; i < len(sym); i++ {
		if !isDigit(sym[i]) {
			allDigits = false
			break
		}
	}
	if allDigits {
		f, _, err := apd.NewFromString(sym)
		if err != nil {
			return unitDef{}, false
		}
		return unitDef{factor: f, dims: map[string]int{}}, true
	}
	body, exp := sym, 1
	i := len(sym)
	for i > 0 && isDigit(sym[i-1]) {
		i--
	}
	if i < len(sym) && i > 0 {
		j := i
		if sym[j-1] == '+' || sym[j-1] == '-' {
			j--
		}
		if j > 0 {
			if n, err := strconv.Atoi(sym[j:]); err == nil {
				body, exp = sym[:j], n
			}
		}
	}
	d, ok := atomUnit(body)
	if !ok {
		return unitDef{}, false
	}
	if exp != 1 {
		return power(d, exp)
	}
	return d, true
}

func atomUnit(sym string) (unitDef, bool) {
	if d, ok := atomOnly(sym, 0); ok {
		return d, true
	}
	for _, plen := range []int{2, 1} {
		if len(sym) <= plen {
			continue
		}
		pf, ok := ucumPrefixes[sym[:plen]]
		if !ok {
			continue
		}
		d, ok := atomOnly(sym[plen:], 0)
		if !ok {
			continue
		}
		f := newDec()
		decCtx.Mul(f, d.factor, mustDec(pf))
		d.factor = f
		return d, true
	}
	return unitDef{}, false
}

func atomOnly(sym string, depth int) (unitDef, bool) {
	if ucumBase[sym] {
		return unitDef{factor: apd.New(1, 0), dims: map[string]int{sym: 1}}, true
	}
	a, ok := ucumAtoms[sym]
	if !ok || depth > 5 {
		return unitDef{}, false
	}
	if a.unit == "" {
		return unitDef{factor: apd.New(1, 0), dims: map[string]int{sym: 1}}, true
	}
	var d unitDef
	if a.unit == "1" {
		d = unitDef{factor: apd.New(1, 0), dims: map[string]int{}}
	} else {
		p := &ucumParser{s: a.unit}
		if d, ok = p.term(); !ok {
			return unitDef{}, false
		}
	}
	f := newDec()
	decCtx.Mul(f, d.factor, mustDec(a.factor))
	d.factor = f
	return d, true
}

func sameDims(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// canonicalPair converts two quantities to a common unit; ok is false when
// their units are not comparable.
func canonicalPair(a, b Quantity) (Decimal, Decimal, bool) {
	if a.Unit == b.Unit || (unitAlias(a.Unit) == unitAlias(b.Unit)) {
		return a.Value, b.Value, true
	}
	ua, ok1 := parseUnit(a.Unit)
	ub, ok2 := parseUnit(b.Unit)
	if !ok1 || !ok2 || !sameDims(ua.dims, ub.dims) {
		return Decimal{}, Decimal{}, false
	}
	if _, special := ua.dims["Cel"]; special {
		return Decimal{}, Decimal{}, false
	}
	if _, special := ua.dims["[degF]"]; special {
		return Decimal{}, Decimal{}, false
	}
	va, ok1 := a.Value.mul(Decimal{ua.factor})
	vb, ok2 := b.Value.mul(Decimal{ub.factor})
	if !ok1 || !ok2 {
		return Decimal{}, Decimal{}, false
	}
	return va, vb, true
}

func unitAlias(u string) string {
	if c, ok := calendarDefs[u]; ok {
		return c
	}
	return u
}
