package validate

import (
	"encoding/json"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

var (
	reOID  = regexp.MustCompile(`^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$`)
	reUUID = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func validCode(s string) bool {
	if s == "" || strings.TrimSpace(s) != s {
		return false
	}
	prevSpace := false
	for _, c := range s {
		space := c == ' ' || c == '\t' || c == '\n' || c == '\r'
		if space && (c != ' ' || prevSpace) {
			return false
		}
		prevSpace = space
	}
	return true
}

// realDate reports whether the day exists in its month (2023-02-30 does not).
func realDate(s string) bool {
	if len(s) < 10 {
		return true
	}
	_, err := time.Parse("2006-01-02", s[:10])
	return err == nil
}

// primitive checks the JSON form and lexical format of a primitive value.
func (r *run) primitive(n *node, typ string, val any) {
	switch typ {
	case "boolean":
		if _, ok := val.(bool); !ok {
			r.errorf("structure", "json-wrong-type", "Error parsing JSON: the primitive value must be a boolean, not %s", jsonKind(val))
		}
		return
	case "integer", "positiveInt", "unsignedInt", "decimal", "integer64":
		num, ok := val.(json.Number)
		if !ok {
			r.errorf("structure", "json-wrong-type", "Error parsing JSON: the primitive value must be a number, not %s", jsonKind(val))
			return
		}
		r.number(typ, string(num))
		return
	}
	s, ok := val.(string)
	if !ok {
		r.errorf("structure", "json-wrong-type", "Error parsing JSON: the primitive value must be a string, not %s", jsonKind(val))
		return
	}
	if s == "" {
		r.errorf("invalid", "primitive-empty", "@value cannot be empty")
		return
	}
	if n.maxLength > 0 && utf8.RuneCountInString(s) > n.maxLength {
		r.errorf("too-long", "primitive-too-long", "value is longer than permitted maximum length of %d", n.maxLength)
	}
	switch typ {
	case "string", "markdown":
		if typ == "string" && looksLikeHTML(s) {
			r.warnf("invalid", "string-html", "The string value contains text that looks like embedded HTML tags. If this content is rendered to HTML without appropriate post-processing, it may be a security risk")
		}
		if strings.TrimSpace(s) == "" {
			r.errorf("invalid", "primitive-whitespace", "value cannot be only whitespace")
		}
		if len(s) > 1048576 {
			r.errorf("too-long", "primitive-too-long", "value is longer than permitted maximum length of 1 MB (1048576 bytes)")
		}
	case "code":
		if !validCode(s) {
			r.errorf("invalid", "code-invalid-format", "The code '%s' is not valid (whitespace rules)", s)
		}
	case "id":
		if !validID(s) {
			r.errorf("invalid", "id-invalid", "Invalid id '%s': ids are 1-64 letters, digits, '-' or '.'", s)
		}
	case "date":
		if !isDate(s) || !realDate(s) {
			r.errorf("invalid", "date-invalid", "Not a valid date (%s)", s)
		}
	case "dateTime":
		if !isDateTime(s) || !realDate(s) {
			if isDate(s[:min(len(s), 10)]) && strings.Contains(s, "T") && !strings.ContainsAny(s[min(len(s), 10):], "Z+-") {
				r.errorf("invalid", "datetime-no-timezone", "if a date has a time, it must have a timezone (%s)", s)
			} else {
				r.errorf("invalid", "datetime-invalid", "Not a valid date/time (%s)", s)
			}
		}
	case "instant":
		if !isInstant(s) || !realDate(s) {
			r.errorf("invalid", "instant-invalid", "Not a valid instant (%s)", s)
		}
	case "time":
		if !isTime(s) {
			r.errorf("invalid", "time-invalid", "Not a valid time (%s)", s)
		}
	case "uri", "url", "canonical":
		if strings.ContainsAny(s, " \t\r\n") {
			r.errorf("invalid", "uri-whitespace", "URI values cannot have whitespace ('%s')", s)
		} else if typ == "canonical" && !strings.HasPrefix(s, "#") && !strings.Contains(s, ":") {
			r.errorf("invalid", "canonical-not-absolute", "Canonical URLs must be absolute URLs if they are not fragment references (%s)", s)
		} else if strings.HasPrefix(s, "urn:oid:") && !reOID.MatchString(s) {
			r.errorf("invalid", "oid-invalid", "OIDs must be valid (%s)", s)
		} else if strings.HasPrefix(s, "urn:uuid:") && !reUUID.MatchString(s) {
			r.errorf("invalid", "uuid-invalid", "UUIDs must be valid and lowercase (%s)", s)
		}
	case "oid":
		if !reOID.MatchString(s) {
			r.errorf("invalid", "oid-invalid", "OIDs must be valid (%s)", s)
		}
	case "uuid":
		if !reUUID.MatchString(s) {
			r.errorf("invalid", "uuid-invalid", "UUIDs must be valid and lowercase (%s)", s)
		}
	case "base64Binary":
		if !isBase64(s) {
			r.errorf("invalid", "base64-invalid", "The value '%s' is not a valid Base64 value", truncate(s, 40))
		}
	case "xhtml":
		r.xhtml(s)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func (r *run) number(typ, s string) {
	if typ == "decimal" {
		if !isDecimal(s) {
			r.errorf("invalid", "decimal-invalid", "The value '%s' is not a valid decimal", s)
		}
		return
	}
	if !isInteger(s) {
		r.errorf("invalid", "integer-invalid", "The value '%s' is not a valid integer", s)
		return
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		r.errorf("invalid", "integer-invalid", "The value '%s' is not a valid integer", s)
		return
	}
	if !v.IsInt64() || v.Int64() > 2147483647 || v.Int64() < -2147483648 {
		r.errorf("invalid", "integer-range", "The value '%s' is outside the range of a 32-bit integer", s)
		return
	}
	i, _ := strconv.ParseInt(s, 10, 64)
	switch {
	case typ == "positiveInt" && i < 1:
		r.errorf("invalid", "positiveint-invalid", "The value '%s' must be 1 or more (positiveInt)", s)
	case typ == "unsignedInt" && i < 0:
		r.errorf("invalid", "unsignedint-invalid", "The value '%s' must be 0 or more (unsignedInt)", s)
	}
}

// jsonEqual compares two values of the shared representation exactly.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if !jsonEqual(v, y[k]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		return ok && decimalEqual(string(x), string(y))
	default:
		return a == b
	}
}

func decimalEqual(a, b string) bool {
	if a == b {
		return true
	}
	x, ok1 := new(big.Rat).SetString(a)
	y, ok2 := new(big.Rat).SetString(b)
	return ok1 && ok2 && x.Cmp(y) == 0
}

// patternMatches reports whether value holds everything pattern has: object
// properties recursively, and each pattern array item in some value item.
func patternMatches(pattern, value any) bool {
	switch p := pattern.(type) {
	case map[string]any:
		v, ok := value.(map[string]any)
		if !ok {
			return false
		}
		for k, pv := range p {
			if !patternMatches(pv, v[k]) {
				return false
			}
		}
		return true
	case []any:
		v, ok := value.([]any)
		if !ok {
			if len(p) == 1 {
				return patternMatches(p[0], value)
			}
			return false
		}
		for _, pi := range p {
			found := false
			for _, vi := range v {
				if patternMatches(pi, vi) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	default:
		return jsonEqual(pattern, value)
	}
}

var reHTMLTag = regexp.MustCompile(`(?i)<\s*/?\s*(script|iframe|object|embed|applet|form|img|a|link|meta|style|svg|input)\b[^>]*>`)

// looksLikeHTML reports active HTML in a plain string, as the HL7 validator's
// security check does.
func looksLikeHTML(s string) bool {
	return strings.IndexByte(s, '<') >= 0 && reHTMLTag.MatchString(s)
}
