package validate

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// questionnaireResponse checks a QuestionnaireResponse against its
// Questionnaire: every item's linkId is in the Questionnaire, items keep its
// order, answers have the item's type, are among its answer options and are
// single unless the item repeats, no answers where enableWhen disables the
// item, and required items answered in a completed response. A Questionnaire
// that is not loaded is a warning saying the answers were not checked.
func (r *run) questionnaireResponse(qr map[string]any) {
	url, _ := qr["questionnaire"].(string)
	if url == "" {
		return
	}
	q, ok := r.v.opts.Resolve(url)
	if !ok || sstr(q, "resourceType") != "Questionnaire" {
		r.push("questionnaire", "questionnaire", -1, "")
		r.warnf("not-found", "questionnaire-not-found", "The questionnaire '%s' could not be resolved, so the answers were not checked against it", url)
		r.pop()
		return
	}
	completed := sstr(qr, "status") == "completed"
	r.qrItems(slist(q, "item"), slist(qr, "item"), nil, completed, 0)
}

// qrItems matches response items to their definitions; scopes holds the
// enclosing response item lists, innermost last, for enableWhen look-ups.
func (r *run) qrItems(defs, items []any, scopes [][]any, completed bool, depth int) {
	if depth > 64 {
		return
	}
	scopes = append(scopes, items)
	// byLink finds each item's definition; order is where its linkId first
	// stands among the definitions.
	byLink := map[string]map[string]any{}
	order := map[string]int{}
	for i, d := range defs {
		dm, ok := d.(map[string]any)
		if !ok {
			continue
		}
		link := sstr(dm, "linkId")
		byLink[link] = dm
		if _, dup := order[link]; !dup {
			order[link] = i
		}
	}
	present := map[string]bool{}
	seen := map[string]bool{}
	last := -1
	for i, it := range items {
		im, ok := it.(map[string]any)
		if !ok {
			continue
		}
		link := sstr(im, "linkId")
		def := byLink[link]
		r.push("item", "item", i, "")
		if def == nil {
			r.errorf("structure", "questionnaire-item-unknown", "LinkId '%s' not found in questionnaire", link)
			r.pop()
			continue
		}
		if at := order[link]; at < last {
			r.errorf("structure", "questionnaire-item-order", "Structural Error: items are out of order (item id = '%s')", link)
		} else {
			last = at
		}
		repeats, _ := def["repeats"].(bool)
		if seen[link] && !repeats {
			r.errorf("structure", "questionnaire-item-repeated", "Only one response item with this linkId allowed (item id = '%s')", link)
		}
		seen[link] = true
		answers := slist(im, "answer")
		if len(answers) > 0 {
			present[link] = true
		}
		if len(answers) > 0 && !r.enabled(def, scopes) {
			r.errorf("business-rule", "questionnaire-answer-not-enabled", "Item has answer, even though it is not enabled (item id = '%s')", link)
		}
		r.qrAnswers(def, answers, repeats)
		var nested []any
		for _, a := range answers {
			if am, ok := a.(map[string]any); ok {
				nested = append(nested, slist(am, "item")...)
			}
		}
		r.qrItems(slist(def, "item"), append(slist(im, "item"), nested...), scopes, completed, depth+1)
		r.pop()
	}
	if !completed {
		return
	}
	for _, d := range defs {
		dm, _ := d.(map[string]any)
		link := sstr(dm, "linkId")
		typ := sstr(dm, "type")
		if req, _ := dm["required"].(bool); !req || typ == "group" || typ == "display" || present[link] {
			continue
		}
		if r.enabled(dm, scopes) {
			r.errorf("required", "questionnaire-required-missing", "No response answer found for required item '%s'", link)
		}
	}
}

// enabled evaluates an item's enableWhen against the answers in scope.
func (r *run) enabled(def map[string]any, scopes [][]any) bool {
	conds := slist(def, "enableWhen")
	if len(conds) == 0 {
		return true
	}
	anyOf := sstr(def, "enableBehavior") == "any"
	for _, c := range conds {
		cm, _ := c.(map[string]any)
		ok := r.condition(cm, scopes)
		if anyOf && ok {
			return true
		}
		if !anyOf && !ok {
			return false
		}
	}
	return !anyOf
}

func (r *run) condition(c map[string]any, scopes [][]any) bool {
	question := sstr(c, "question")
	op := sstr(c, "operator")
	var want any
	var wantKey string
	for k, v := range c {
		if strings.HasPrefix(k, "answer") {
			want, wantKey = v, k
		}
	}
	answers := answersFor(question, scopes)
	if op == "exists" {
		b, _ := want.(bool)
		return (len(answers) > 0) == b
	}
	for _, a := range answers {
		for k, v := range a {
			if !strings.HasPrefix(k, "value") || strings.TrimPrefix(k, "value") != strings.TrimPrefix(wantKey, "answer") {
				continue
			}
			if compareAnswer(op, v, want) {
				return true
			}
		}
	}
	return op == "!=" && len(answers) == 0
}

// answersFor finds the answers to a question, innermost scope first.
func answersFor(link string, scopes [][]any) []map[string]any {
	for i := len(scopes) - 1; i >= 0; i-- {
		if found, ok := findAnswers(link, scopes[i], 0); ok {
			return found
		}
	}
	return nil
}

func findAnswers(link string, items []any, depth int) ([]map[string]any, bool) {
	if depth > 64 {
		return nil, false
	}
	for _, it := range items {
		im, _ := it.(map[string]any)
		if im == nil {
			continue
		}
		if sstr(im, "linkId") == link {
			var out []map[string]any
			for _, a := range slist(im, "answer") {
				if am, ok := a.(map[string]any); ok {
					out = append(out, am)
				}
			}
			return out, true
		}
		if found, ok := findAnswers(link, slist(im, "item"), depth+1); ok {
			return found, true
		}
	}
	return nil, false
}

func compareAnswer(op string, got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, _ := got.(map[string]any)
		same := g != nil && sstr(g, "code") == sstr(w, "code") && (sstr(w, "system") == "" || sstr(g, "system") == sstr(w, "system"))
		if _, isQty := w["value"]; isQty {
			same = g != nil && jsonEqual(g["value"], w["value"]) && sstr(g, "code") == sstr(w, "code")
		}
		switch op {
		case "=":
			return same
		case "!=":
			return !same
		}
		return false
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			return false
		}
		c, ok := compareQuantities(quantityValue{value: ratOf(g)}, quantityValue{value: ratOf(w)})
		return ok && compareOp(op, c)
	case string:
		g, _ := got.(string)
		return compareOp(op, strings.Compare(g, w))
	case bool:
		g, _ := got.(bool)
		switch op {
		case "=":
			return g == w
		case "!=":
			return g != w
		}
	}
	return false
}

func compareOp(op string, c int) bool {
	switch op {
	case "=":
		return c == 0
	case "!=":
		return c != 0
	case ">":
		return c > 0
	case "<":
		return c < 0
	case ">=":
		return c >= 0
	case "<=":
		return c <= 0
	}
	return false
}

// answerTypes are the answer[x] types each Questionnaire item type allows
// (R4: choice and open-choice answers are the types answerOption allows).
var answerTypes = map[string][]string{
	"boolean":     {"Boolean"},
	"decimal":     {"Decimal"},
	"integer":     {"Integer"},
	"date":        {"Date"},
	"dateTime":    {"DateTime"},
	"time":        {"Time"},
	"string":      {"String"},
	"text":        {"String"},
	"url":         {"Uri"},
	"attachment":  {"Attachment"},
	"reference":   {"Reference"},
	"quantity":    {"Quantity"},
	"choice":      {"Coding", "Integer", "Date", "Time", "String"},
	"open-choice": {"Coding", "Integer", "Date", "Time", "String"},
}

// qrAnswers checks the answers of one response item against its
// definition: how many, of which type, among the answer options, and in the
// answer value set.
func (r *run) qrAnswers(def map[string]any, answers []any, repeats bool) {
	typ := sstr(def, "type")
	if len(answers) == 0 {
		return
	}
	switch typ {
	case "group", "display":
		r.errorf("structure", "questionnaire-answer-unexpected", "Items of type %s should not have answers", typ)
		return
	}
	if len(answers) > 1 && !repeats {
		r.errorf("structure", "questionnaire-answer-repeated", "Only one response answer item with this linkId allowed")
	}
	allowed, known := answerTypes[typ]
	options := slist(def, "answerOption")
	valueSet := sstr(def, "answerValueSet")
	for i, a := range answers {
		am, _ := a.(map[string]any)
		key, val := answerValue(am)
		if key == "" {
			continue
		}
		r.push("answer", "answer", i, "")
		got := strings.TrimPrefix(key, "value")
		switch {
		case known && !slices.Contains(allowed, got):
			if len(allowed) == 1 {
				r.errorf("structure", "questionnaire-answer-type", "Answer value must be of type %s", strings.ToLower(allowed[0][:1])+allowed[0][1:])
			} else {
				r.errorf("structure", "questionnaire-answer-type", "Answer value must be one of the types %s", strings.Join(allowed, ", "))
			}
		case typ == "choice" && len(options) > 0 && !amongOptions(options, got, val):
			r.errorf("code-invalid", "questionnaire-answer-option", "The answer %s is not one of the options the questionnaire gives for this item", describeAnswer(got, val))
		case got == "Coding" && valueSet != "":
			// The item's answer value set binds a choice answer as required
			// and an open-choice answer as extensible.
			strength := "required"
			if typ == "open-choice" {
				strength = "extensible"
			}
			r.checkBinding(&node{binding: &binding{strength: strength, valueSet: valueSet}}, "Coding", val)
		}
		r.pop()
	}
}

// answerValue returns the value[x] property of an answer.
func answerValue(answer map[string]any) (string, any) {
	for k, v := range answer {
		if strings.HasPrefix(k, "value") && len(k) > len("value") {
			return k, v
		}
	}
	return "", nil
}

// amongOptions reports whether an answer of type typ ("Coding", "String",
// ...) equals one of a choice item's answerOption values; Codings match on
// system and code.
func amongOptions(options []any, typ string, val any) bool {
	for _, o := range options {
		om, _ := o.(map[string]any)
		ov, ok := om["value"+typ]
		if !ok {
			continue
		}
		if typ == "Coding" {
			want, _ := ov.(map[string]any)
			got, _ := val.(map[string]any)
			if want != nil && got != nil && sstr(want, "code") == sstr(got, "code") && (sstr(want, "system") == "" || sstr(want, "system") == sstr(got, "system")) {
				return true
			}
			continue
		}
		if jsonEqual(ov, val) {
			return true
		}
	}
	return false
}

func describeAnswer(typ string, val any) string {
	if m, ok := val.(map[string]any); ok {
		return fmt.Sprintf("(%s#%s)", sstr(m, "system"), sstr(m, "code"))
	}
	return fmt.Sprintf("'%v'", val)
}
