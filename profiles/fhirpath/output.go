package fhirpath

import (
	"encoding/json"
	"strconv"
	"strings"
)

// TypeName names an item's type as the official FHIRPath test suite writes
// it: System types in lower case (boolean, integer, decimal, string, date,
// dateTime, time, Quantity) and FHIR types by their FHIR name (code, HumanName).
func TypeName(v Value) string {
	if n, ok := v.(*Node); ok && n.typ != "" && !strings.HasPrefix(n.typ, "System.") {
		return n.typ
	}
	p, ok := primitive(v)
	if !ok {
		return v.Type().Name
	}
	switch p.(type) {
	case Boolean:
		return "boolean"
	case Integer:
		return "integer"
	case Decimal:
		return "decimal"
	case String:
		return "string"
	case Date:
		return "date"
	case DateTime:
		return "dateTime"
	case Time:
		return "time"
	case Quantity:
		return "Quantity"
	}
	return p.Type().Name
}

// Literal writes an item as the test suite does: dates and times as
// FHIRPath literals (@2014-01-25, @T10:00), quantities as 1 'cm', other
// primitives as their text and complex elements as JSON.
func Literal(v Value) string {
	p, ok := primitive(v)
	if !ok {
		if n, isNode := v.(*Node); isNode {
			b, _ := json.Marshal(n.data)
			return string(b)
		}
		return ""
	}
	switch x := p.(type) {
	case Boolean:
		return strconv.FormatBool(bool(x))
	case Integer:
		return strconv.FormatInt(int64(x), 10)
	case Decimal:
		return x.String()
	case String:
		return string(x)
	case Date:
		return "@" + x.String()
	case DateTime:
		return "@" + x.String()
	case Time:
		return "@T" + x.String()
	case Quantity:
		return x.String()
	}
	return ""
}

// ResultItem is one item of a result as conform fhirpath -o json prints it.
type ResultItem struct {
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// Items converts a result collection to its JSON form: booleans and
// integers as JSON values, decimals as their text, dates, times and
// quantities as FHIRPath literals, strings as strings and complex elements
// as their JSON objects.
func Items(col Collection) []ResultItem {
	out := make([]ResultItem, 0, len(col))
	for _, v := range col {
		item := ResultItem{Type: TypeName(v)}
		p, ok := primitive(v)
		switch x := p.(type) {
		case Boolean:
			item.Value = bool(x)
		case Integer:
			item.Value = json.Number(strconv.FormatInt(int64(x), 10))
		default:
			if ok {
				item.Value = Literal(p)
				if d, isDate := p.(DateTime); isDate && d.prec <= precDay {
					item.Value = "@" + d.String()
				}
			} else if n, isNode := v.(*Node); isNode {
				item.Value = n.data
			}
		}
		out = append(out, item)
	}
	return out
}
