package fhirpath

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestUnits(t *testing.T) {
	tests := []struct {
		name       string
		a, b       string
		comparable bool
	}{
		{name: "prefix", a: "mg", b: "g", comparable: true},
		{name: "volume", a: "mL", b: "m3", comparable: true},
		{name: "quotient", a: "mmol/L", b: "mol/m3", comparable: true},
		{name: "power", a: "kg/m2", b: "g.m-2", comparable: true},
		{name: "factor", a: "10*3/uL", b: "/L", comparable: true},
		{name: "annotation", a: "{beats}/min", b: "/s", comparable: true},
		{name: "customary", a: "[lb_av]", b: "kg", comparable: true},
		{name: "pressure", a: "mm[Hg]", b: "Pa", comparable: true},
		{name: "calendar week and ucum day", a: "week", b: "d", comparable: true},
		{name: "calendar year and ucum year", a: "year", b: "a", comparable: false},
		{name: "length and time", a: "cm", b: "s", comparable: false},
		{name: "bracketed second is not a unit", a: "cm", b: "[s]", comparable: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, ok := canonicalPair(Quantity{DecimalFromInt(1), tc.a}, Quantity{DecimalFromInt(1), tc.b})
			assert.Equal(t, tc.comparable, ok)
		})
	}
}

func FuzzParseUnit(f *testing.F) {
	for _, seed := range []string{"mg", "10*3/uL", "kg.m/s2", "{a}/(min.m2)", "[lb_av]", "mm[Hg]", "((m))", "m-2", "/", "a.b/c"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, u string) {
		parseUnit(u)
	})
}

func FuzzParseDateTime(f *testing.F) {
	for _, seed := range []string{"2014", "2014-01-02T10:00:00.123+10:00", "2014-13", "T10", "2014-01-02T", "10:00:60"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, ok := parseDateTime(s); ok {
			if _, ok := parseDateTime(d.String()); !ok {
				t.Fatalf("%q formats as %q, which does not parse", s, d.String())
			}
		}
		parseDate(s)
		parseTime(s)
	})
}
