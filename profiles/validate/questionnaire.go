package validate

import (
	"encoding/json"
	"strings"
)

// questionnaireResponse checks a QuestionnaireResponse against its
// Questionnaire when one is loaded: answers to items that enableWhen
// disables, and required items without an answer in a completed response.
func (r *run) questionnaireResponse(qr map[string]any) {
	url, _ := qr["questionnaire"].(string)
	if url == "" {
		return
	}
	q, ok := r.v.opts.Resolve(url)
	if !ok || sstr(q, "resourceType") != "Questionnaire" {
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
	byLink := map[string]map[string]any{}
	for _, d := range defs {
		if dm, ok := d.(map[string]any); ok {
			byLink[sstr(dm, "linkId")] = dm
		}
	}
	present := map[string]bool{}
	for i, it := range items {
		im, ok := it.(map[string]any)
		if !ok {
			continue
		}
		link := sstr(im, "linkId")
		def := byLink[link]
		if def == nil {
			continue
		}
		answers := slist(im, "answer")
		if len(answers) > 0 {
			present[link] = true
		}
		r.push("item", "item", i, "")
		if len(answers) > 0 && !r.enabled(def, scopes) {
			r.errorf("business-rule", "questionnaire-answer-not-enabled", "Item has answer, even though it is not enabled (item id = '%s')", link)
		}
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
