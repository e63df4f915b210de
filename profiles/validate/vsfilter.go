package validate

import (
	"strings"
)

// valueSetFilterValues checks the values of ValueSet.compose filters on
// properties that the included, loaded code system declares (or the standard
// boolean concept properties): a code must be a
// code of that system, a Coding (system#code) a code of its complete loaded
// system, a boolean true or false.
func (r *run) valueSetFilterValues(vs map[string]any) {
	compose, _ := vs["compose"].(map[string]any)
	for _, part := range []string{"include", "exclude"} {
		for ii, inc := range slist(compose, part) {
			im, _ := inc.(map[string]any)
			system := sstr(im, "system")
			if system == "" || len(slist(im, "filter")) == 0 {
				continue
			}
			types := map[string]string{}
			for k, v := range standardConceptProperties {
				types[k] = v
			}
			csRes, _ := r.v.opts.Resolve(system)
			for _, p := range slist(csRes, "property") {
				pm, _ := p.(map[string]any)
				types[sstr(pm, "code")] = sstr(pm, "type")
			}
			for fi, f := range slist(im, "filter") {
				fm, _ := f.(map[string]any)
				op, value := sstr(fm, "op"), sstr(fm, "value")
				typ, declared := types[sstr(fm, "property")]
				if !declared || value == "" || op != "=" && op != "in" && op != "not-in" {
					continue
				}
				values := []string{value}
				if op != "=" {
					values = strings.Split(value, ",")
				}
				r.push("compose", "compose", -1, "")
				r.push(part, part, ii, "")
				r.push("filter", "filter", fi, "")
				for _, v := range values {
					if msg := r.filterValueProblem(system, typ, strings.TrimSpace(v)); msg != "" {
						r.errorf("invalid", "valueset-filter-value", "The value for a filter based on property '%s' is '%s' which is not valid (%s)", sstr(fm, "property"), v, msg)
					}
				}
				r.pop()
				r.pop()
				r.pop()
			}
		}
	}
}

// filterValueProblem says why value is not a value of a property of type typ
// in the code system system, or returns "".
func (r *run) filterValueProblem(system, typ, value string) string {
	switch typ {
	case "code":
		return r.unknownCode(system, value)
	case "Coding":
		sys, code, ok := strings.Cut(value, "#")
		if !ok {
			return ""
		}
		return r.unknownCode(sys, code)
	case "boolean":
		if value != "true" && value != "false" {
			return "must be either 'true' or 'false'"
		}
	}
	return ""
}

// unknownCode says that code is not in the complete loaded code system, or
// returns "" when it is or the system cannot decide.
func (r *run) unknownCode(system, code string) string {
	cs, ok := r.v.tx.CodeSystem(system)
	if !ok || !cs.Complete() {
		return ""
	}
	if _, ok := cs.Lookup(code); ok {
		return ""
	}
	return "Unknown code '" + code + "' in the CodeSystem '" + system + "'"
}

// standardConceptProperties are the boolean properties of
// http://hl7.org/fhir/concept-properties that any code system may use.
var standardConceptProperties = map[string]string{"notSelectable": "boolean", "inactive": "boolean"}
