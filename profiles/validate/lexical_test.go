package validate

import (
	"regexp"
	"strings"
	"testing"
)

// The specification's regular expressions for the R4 primitive formats.
var (
	reDate     = regexp.MustCompile(`^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$`)
	reDateTime = regexp.MustCompile(`^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$`)
	reInstant  = regexp.MustCompile(`^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$`)
	reTime     = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?$`)
	reDecimal  = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)
	reInteger  = regexp.MustCompile(`^-?([0]|([1-9][0-9]*))$`)
	reBase64   = regexp.MustCompile(`^(\s*([0-9a-zA-Z+/=]){4}\s*)+$`)
)

func TestLexicalAgainstSpecRegex(t *testing.T) {
	for _, s := range []string{"2023", "2023-02", "2023-02-28", "0000", "2023-13", "2023-1-01", "2023-02-28T10:00:00Z", "2023-02-28T10:00:00", "2023-02-28T24:00:00Z",
		"2023-02-28T10:00:00.123+14:00", "2023-02-28T10:00:00+14:01", "10:00", "10:00:60", "23:59:59.9", "1.0", "-0.5", "01", "1e5", "1.", "0", "-0", "00", "+1",
		"QUJD", "QUJ", "QU JD", "QUJD\n"} {
		assertLexical(t, s)
	}
}

func assertLexical(t *testing.T, s string) {
	t.Helper()
	checks := []struct {
		name string
		re   *regexp.Regexp
		fn   func(string) bool
	}{
		{"date", reDate, isDate}, {"dateTime", reDateTime, isDateTime}, {"instant", reInstant, isInstant}, {"time", reTime, isTime},
		{"decimal", reDecimal, isDecimal}, {"integer", reInteger, isInteger},
	}
	for _, c := range checks {
		if got, want := c.fn(s), c.re.MatchString(s); got != want {
			t.Errorf("%s(%q) = %v, the specification's expression says %v", c.name, s, got, want)
		}
	}
	if !strings.ContainsAny(s, " \t\r\n\f\v") {
		if got, want := isBase64(s), reBase64.MatchString(s); got != want {
			t.Errorf("base64(%q) = %v, the specification's expression says %v", s, got, want)
		}
	}
}

func FuzzLexical(f *testing.F) {
	for _, s := range []string{"2023-02-28T10:00:00Z", "1.5e3", "QUJD", "12:00:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { assertLexical(t, s) })
}
