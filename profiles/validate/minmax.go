package validate

import (
	"encoding/json"
	"math/big"
	"time"
)

// ucumFactors converts common UCUM units to a base unit of their dimension.
var ucumFactors = map[string]struct {
	dim    string
	factor string
}{
	"ug": {"g", "0.000001"}, "mg": {"g", "0.001"}, "g": {"g", "1"}, "kg": {"g", "1000"}, "[lb_av]": {"g", "453.59237"},
	"ms": {"s", "0.001"}, "s": {"s", "1"}, "min": {"s", "60"}, "h": {"s", "3600"}, "d": {"s", "86400"}, "wk": {"s", "604800"},
	"mo": {"s", "2629800"}, "a": {"s", "31557600"},
	"mm": {"m", "0.001"}, "cm": {"m", "0.01"}, "m": {"m", "1"}, "km": {"m", "1000"}, "[in_i]": {"m", "0.0254"},
	"mL": {"L", "0.001"}, "L": {"L", "1"}, "dL": {"L", "0.1"},
}

type quantityValue struct {
	value *big.Rat
	code  string
}

func asQuantity(v any) (quantityValue, bool) {
	switch x := v.(type) {
	case json.Number:
		r, ok := new(big.Rat).SetString(string(x))
		return quantityValue{value: r}, ok
	case map[string]any:
		num, ok := x["value"].(json.Number)
		if !ok {
			return quantityValue{}, false
		}
		r, ok := new(big.Rat).SetString(string(num))
		code, _ := x["code"].(string)
		return quantityValue{value: r, code: code}, ok
	}
	return quantityValue{}, false
}

// compareQuantities compares a and b after unit conversion; ok is false when
// they cannot be compared.
func compareQuantities(a, b quantityValue) (int, bool) {
	if a.code == b.code {
		return a.value.Cmp(b.value), true
	}
	fa, oka := ucumFactors[a.code]
	fb, okb := ucumFactors[b.code]
	if !oka || !okb || fa.dim != fb.dim {
		return 0, false
	}
	ra, _ := new(big.Rat).SetString(fa.factor)
	rb, _ := new(big.Rat).SetString(fb.factor)
	x := new(big.Rat).Mul(a.value, ra)
	y := new(big.Rat).Mul(b.value, rb)
	return x.Cmp(y), true
}

func describeQuantity(q quantityValue) string {
	s := q.value.FloatString(6)
	for len(s) > 1 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	if q.code != "" {
		s += " " + q.code
	}
	return s
}

// checkRange applies ElementDefinition minValue[x] and maxValue[x].
func (r *run) checkRange(n *node, val any) {
	if s, ok := val.(string); ok && isDateTime(s) {
		if lim, ok := durationLimit(n.minValue, -1); ok && len(s) >= 4 && s < lim[:min(len(s), len(lim))] {
			r.errorf("value", "value-below-min", "The value '%s' is before the specified minValue (now minus %s)", s, describeDuration(n.minValue))
		}
		if lim, ok := durationLimit(n.maxValue, 1); ok && len(s) >= 4 && s > lim[:min(len(s), len(lim))] {
			r.errorf("value", "value-above-max", "The value '%s' is after the specified maxValue (now plus %s)", s, describeDuration(n.maxValue))
		}
	}
	if s, ok := val.(string); ok {
		if mn, ok := n.minValue.(string); ok && len(mn) == len(s) && s < mn {
			r.errorf("value", "value-below-min", "The value '%s' is less than the specified minValue (%s)", s, mn)
		}
		if mx, ok := n.maxValue.(string); ok && len(mx) == len(s) && s > mx {
			r.errorf("value", "value-above-max", "The value '%s' is greater than the specified maxValue (%s)", s, mx)
		}
		return
	}
	q, ok := asQuantity(val)
	if !ok {
		return
	}
	if n.minValue != nil {
		if mn, ok := asQuantity(n.minValue); ok {
			if c, ok := compareQuantities(q, mn); ok && c < 0 {
				r.errorf("value", "value-below-min", "The value in the instance (%s) is less than the specified minValue (%s)", describeQuantity(q), describeQuantity(mn))
			}
		}
	}
	if n.maxValue != nil {
		if mx, ok := asQuantity(n.maxValue); ok {
			if c, ok := compareQuantities(q, mx); ok && c > 0 {
				r.errorf("value", "value-above-max", "The value in the instance (%s) is greater than the specified maxValue (%s)", describeQuantity(q), describeQuantity(mx))
			}
		}
	}
}

// durationLimit turns a Duration min/maxValue on a date into the date it
// allows: now minus (sign -1) or plus (sign 1) the duration, as an
// RFC 3339 UTC timestamp that compares with FHIR dates by prefix.
func durationLimit(v any, sign int) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	num, ok := m["value"].(json.Number)
	if !ok {
		return "", false
	}
	f, err := num.Float64()
	if err != nil {
		return "", false
	}
	code, _ := m["code"].(string)
	now := time.Now().UTC()
	k := int(f) * sign
	var t time.Time
	switch code {
	case "a":
		t = now.AddDate(k, 0, 0)
	case "mo":
		t = now.AddDate(0, k, 0)
	case "wk":
		t = now.AddDate(0, 0, 7*k)
	case "d":
		t = now.AddDate(0, 0, k)
	case "h":
		t = now.Add(time.Duration(k) * time.Hour)
	case "min":
		t = now.Add(time.Duration(k) * time.Minute)
	case "s":
		t = now.Add(time.Duration(k) * time.Second)
	default:
		return "", false
	}
	return t.Format("2006-01-02T15:04:05Z"), true
}

func describeDuration(v any) string {
	m, _ := v.(map[string]any)
	num, _ := m["value"].(json.Number)
	code, _ := m["code"].(string)
	return string(num) + " " + code
}

func ratOf(n json.Number) *big.Rat {
	r, ok := new(big.Rat).SetString(string(n))
	if !ok {
		return new(big.Rat)
	}
	return r
}
