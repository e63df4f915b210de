package validate

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/profiles/terminology"
)

type coded struct {
	system, code string
}

// checkBinding checks a coded value against the value set its element is bound to.
func (r *run) checkBinding(n *node, typ string, val any) {
	b := n.binding
	if b.strength != "required" && b.strength != "extensible" && b.strength != "preferred" {
		return
	}
	var codes []coded
	concept := false
	switch typ {
	case "code", "string", "uri":
		s, ok := val.(string)
		if !ok || s == "" {
			return
		}
		codes = []coded{{code: s}}
	case "Coding":
		m, _ := val.(map[string]any)
		if c, ok := codingOf(m); ok {
			codes = []coded{c}
		}
	case "Quantity", "Age", "Duration", "Distance", "Count", "SimpleQuantity", "MoneyQuantity":
		m, _ := val.(map[string]any)
		code, _ := m["code"].(string)
		if code == "" {
			return
		}
		sys, _ := m["system"].(string)
		codes = []coded{{sys, code}}
	case "CodeableConcept":
		concept = true
		m, _ := val.(map[string]any)
		for _, c := range slist(m, "coding") {
			cm, _ := c.(map[string]any)
			if cd, ok := codingOf(cm); ok {
				codes = append(codes, cd)
			}
		}
		if len(codes) == 0 {
			if b.strength == "required" {
				r.errorf("code-invalid", "binding-no-code", "No code provided, and a code is required from the value set '%s'", b.valueSet)
			}
			return
		}
	default:
		return
	}
	if len(codes) == 0 {
		return
	}
	var lastCheck terminology.Check
	unchecked := ""
	for _, c := range codes {
		chk, err := r.v.tx.CheckCode(r.ctx, b.valueSet, c.system, c.code)
		if err != nil {
			var nf *terminology.NotFoundError
			if errors.As(err, &nf) {
				unchecked = err.Error()
				continue
			}
			r.warnf("processing", "binding-error", "The value set %s could not be expanded: %v", b.valueSet, err)
			return
		}
		switch chk.Verdict {
		case terminology.Member:
			return
		case terminology.Unchecked:
			if unchecked == "" {
				unchecked = chk.Reason
			}
		}
		lastCheck = chk
	}
	if unchecked != "" {
		// A preferred binding's finding would itself be information, so only
		// the checks that could give an error or a warning are reported.
		if b.strength == "required" || b.strength == "extensible" {
			r.infof("informational", "binding-not-checked", "The code %s was not checked against the value set %s (%s binding): %s", describe(codes), b.valueSet, b.strength, unchecked)
		}
		return
	}
	label := b.valueSet
	if lastCheck.Expansion != nil {
		label = lastCheck.Expansion.Label()
	}
	sev := severityOf(b.strength)
	var msg string
	switch {
	case concept:
		msg = fmt.Sprintf("None of the codings provided are in the value set %s, and a coding from this value set is %s (codes = %s)", label, strengthWord(b.strength), describe(codes))
	case typ == "code":
		msg = fmt.Sprintf("The value provided ('%s') was not found in the value set %s, and a code is %s from this value set", codes[0].code, label, strengthWord(b.strength))
	default:
		msg = fmt.Sprintf("The code provided (%s) was not found in the value set %s, and a code from this value set is %s", describe(codes), label, strengthWord(b.strength))
	}
	if lastCheck.Reason != "" {
		msg += ": " + lastCheck.Reason
	}
	code := "code-invalid"
	if sev == conformance.SeverityInformation {
		code = "informational"
	}
	r.add(sev, code, "binding-"+b.strength, msg)
}

func strengthWord(s string) string {
	switch s {
	case "required":
		return "required"
	case "extensible":
		return "recommended (extensible binding)"
	}
	return "preferred"
}

func codingOf(m map[string]any) (coded, bool) {
	code, _ := m["code"].(string)
	if code == "" {
		return coded{}, false
	}
	sys, _ := m["system"].(string)
	return coded{sys, code}, true
}

func describe(codes []coded) string {
	parts := make([]string, len(codes))
	for i, c := range codes {
		if c.system == "" {
			parts[i] = c.code
		} else {
			parts[i] = c.system + "#" + c.code
		}
	}
	return strings.Join(parts, ", ")
}
