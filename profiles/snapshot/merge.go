package snapshot

import (
	"strconv"
	"strings"
)

// loosen records the first place the differential loosens its base.
func (w *walker) loosen(e *LooseningError) {
	if w.loosened == nil {
		w.loosened = e
	}
}

// merge applies the differential element d to out (a copy of the base
// element), as the reference implementation's updateFromDefinition does.
func (w *walker) merge(out, d element) error {
	at := str(d, "id")
	if at == "" {
		at = path(d)
	}
	for k, v := range d {
		switch k {
		case "id", "path", "slicing":
		case "min":
			dm, ok := minOf(d)
			if !ok {
				return w.fail(at, "min is not an integer")
			}
			if bm, ok := minOf(out); ok && dm < bm && sliceName(d) == "" {
				w.loosen(&LooseningError{Profile: w.url, Path: at, Property: "min", Base: strconv.Itoa(bm), Derived: strconv.Itoa(dm)})
			}
			out[k] = v
		case "max":
			dm, ok := v.(string)
			if !ok || !validMax(dm) {
				return w.fail(at, "max %v is not an integer or *", v)
			}
			if bm, ok := maxOf(out); ok && largerMax(dm, bm) {
				w.loosen(&LooseningError{Profile: w.url, Path: at, Property: "max", Base: bm, Derived: dm})
			}
			out[k] = v
		case "type":
			w.checkTypes(out, v, at)
			out[k] = deepCopy(v)
		case "binding":
			w.mergeBinding(out, v, at)
		case "constraint":
			out[k] = mergeConstraints(anyList(out[k]), anyList(v), w.url)
		case "alias", "condition":
			out[k] = unionStrings(anyList(out[k]), anyList(v))
		case "mapping":
			out[k] = mergeMappings(anyList(out[k]), anyList(v))
		case "extension":
			out[k] = mergeExtensions(anyList(out[k]), anyList(v))
		default:
			if p := valuePrefix(k); p != "" {
				removeWithPrefix(out, p)
			}
			out[k] = deepCopy(v)
		}
	}
	if _, hasFixed := d["contentReference"]; hasFixed {
		delete(out, "type")
	}
	return nil
}

func validMax(s string) bool {
	if s == "*" {
		return true
	}
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0
}

func (w *walker) mergeBinding(out element, v any, at string) {
	db, _ := v.(map[string]any)
	if db == nil {
		return
	}
	nb := map[string]any{}
	if bb, ok := out["binding"].(map[string]any); ok {
		if str(bb, "strength") == "required" && str(db, "strength") != "" && str(db, "strength") != "required" {
			w.warn(at, "binding strength %s weakens the base's required binding", str(db, "strength"))
		}
		for k, bv := range bb {
			if k != "description" && k != "extension" {
				nb[k] = deepCopy(bv)
			}
		}
	}
	for k, dv := range db {
		nb[k] = deepCopy(dv)
	}
	out["binding"] = nb
}

func mergeMappings(dst, src []any) []any {
	out := append([]any{}, dst...)
	for _, m := range src {
		mm, _ := m.(map[string]any)
		if mm == nil {
			continue
		}
		dup := false
		for _, o := range out {
			om, _ := o.(map[string]any)
			if om != nil && str(om, "identity") == str(mm, "identity") && str(om, "map") == str(mm, "map") {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, deepCopy(mm))
		}
	}
	return out
}

func mergeExtensions(dst, src []any) []any {
	out := append([]any{}, dst...)
	for _, e := range src {
		em, _ := e.(map[string]any)
		if em == nil {
			continue
		}
		replaced := false
		for i, o := range out {
			om, _ := o.(map[string]any)
			if om != nil && str(om, "url") == str(em, "url") {
				out[i] = deepCopy(em)
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, deepCopy(em))
		}
	}
	return out
}

// assignIDs gives each snapshot element the id FHIR derives from its path and
// the slice names of it and its ancestors: Observation.component:systolic.code.
func assignIDs(list []element) {
	type frame struct{ path, id string }
	var stack []frame
	for _, e := range list {
		p := path(e)
		for len(stack) > 0 && !isDescendant(p, stack[len(stack)-1].path) {
			stack = stack[:len(stack)-1]
		}
		id := p
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			id = top.id + p[len(top.path):]
		}
		if sn := sliceName(e); sn != "" {
			id += ":" + sn
		}
		e["id"] = id
		stack = append(stack, frame{path: p, id: id})
	}
}

// isDescendant reports whether path p lies below path anc.
func isDescendant(p, anc string) bool {
	return len(p) > len(anc) && p[len(anc)] == '.' && strings.HasPrefix(p, anc)
}

// quantityKinds are the data types that specialise Quantity.
var quantityKinds = map[string]bool{"Age": true, "Count": true, "Distance": true, "Duration": true, "MoneyQuantity": true, "SimpleQuantity": true}

// checkTypes warns about differential types the base element does not allow.
func (w *walker) checkTypes(base element, v any, at string) {
	allowed := map[string]bool{}
	system := false
	for _, t := range types(base) {
		allowed[str(t, "code")] = true
		if strings.HasPrefix(str(t, "code"), "http://hl7.org/fhirpath/System.") {
			system = true
		}
	}
	if len(allowed) == 0 || allowed["*"] {
		return
	}
	for _, t := range anyList(v) {
		tm, _ := t.(map[string]any)
		code := str(tm, "code")
		switch {
		case allowed[code]:
		case (allowed["Resource"] || allowed["DomainResource"]) && code != "" && code[0] >= 'A' && code[0] <= 'Z':
		case allowed["Quantity"] && quantityKinds[code]:
		case system && isPrimitiveName(code):
		default:
			w.warn(at, "type %s is not among the base's types (%s)", code, strings.Join(typeCodes(base), "|"))
		}
	}
}
