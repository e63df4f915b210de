package refserver

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// storeAlteration returns the rewrite the switched-on faults apply to every
// resource before it is stored, or nil when none alters stored resources.
func (fs faultSet) storeAlteration() func(typ string, res map[string]any) map[string]any {
	var steps []func(typ string, res map[string]any) map[string]any
	if fs.on(FaultDropNestedExtensions) {
		steps = append(steps, dropNestedExtensions)
	}
	if fs.on(FaultBirthDateAsDateTime) {
		steps = append(steps, birthDateAsDateTime)
	}
	if fs.on(FaultInvalidLengthOfStay) {
		steps = append(steps, addLengthOfStay)
	}
	if fs.on(FaultDocumentStripsSectionText) {
		steps = append(steps, stripSectionText)
	}
	if fs.on(FaultDocumentRewritesReferences) {
		steps = append(steps, rewriteDocumentReferences)
	}
	if fs.on(FaultDocumentPreliminary) {
		steps = append(steps, fileDocumentAsPreliminary)
	}
	if fs.on(FaultDocumentWithTotal) {
		steps = append(steps, addDocumentTotal)
	}
	if len(steps) == 0 {
		return nil
	}
	return func(typ string, res map[string]any) map[string]any {
		for _, step := range steps {
			res = step(typ, res)
		}
		return res
	}
}

// dropNestedExtensions keeps a resource's root extensions and drops every
// extension inside its elements; Bundles are left alone.
func dropNestedExtensions(typ string, res map[string]any) map[string]any {
	if typ == "Bundle" {
		return res
	}
	out := make(map[string]any, len(res))
	for k, v := range res {
		switch k {
		case "extension", "modifierExtension", "contained", "meta":
			out[k] = v
		default:
			out[k] = withoutExtensions(v)
		}
	}
	return out
}

func withoutExtensions(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			if k != "extension" {
				out[k] = withoutExtensions(x)
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = withoutExtensions(x)
		}
		return out
	default:
		return v
	}
}

// birthDateAsDateTime turns a Patient's full birthDate into a dateTime at midnight UTC.
func birthDateAsDateTime(typ string, res map[string]any) map[string]any {
	bd, _ := res["birthDate"].(string)
	if typ != "Patient" || len(bd) != len("2006-01-02") {
		return res
	}
	out := cloneTop(res)
	out["birthDate"] = bd + "T00:00:00+00:00"
	return out
}

// addLengthOfStay gives a finished Encounter a computed length in days whose
// unit is coded in SNOMED CT rather than UCUM, which Duration forbids (drt-1).
func addLengthOfStay(typ string, res map[string]any) map[string]any {
	if typ != "Encounter" || res["status"] != "finished" {
		return res
	}
	days := 0
	if period, ok := res["period"].(map[string]any); ok {
		start, errStart := time.Parse(time.RFC3339, str(period["start"]))
		end, errEnd := time.Parse(time.RFC3339, str(period["end"]))
		if errStart == nil && errEnd == nil && end.After(start) {
			days = int(end.Sub(start).Hours() / 24)
		}
	}
	out := cloneTop(res)
	out["length"] = map[string]any{
		"value": json.Number(strconv.Itoa(days)), "unit": "days",
		"system": snomedCT, "code": "258703001",
	}
	return out
}

func isDocument(typ string, res map[string]any) bool {
	return typ == "Bundle" && res["type"] == "document"
}

// stripSectionText drops the narrative of every section of a document's Composition.
func stripSectionText(typ string, res map[string]any) map[string]any {
	if !isDocument(typ, res) {
		return res
	}
	out := deepCopy(res).(map[string]any)
	for _, e := range asList(out["entry"]) {
		em, _ := e.(map[string]any)
		comp, _ := em["resource"].(map[string]any)
		if comp["resourceType"] == "Composition" {
			stripSections(comp["section"])
		}
	}
	return out
}

func stripSections(v any) {
	for _, s := range asList(v) {
		if sm, ok := s.(map[string]any); ok {
			delete(sm, "text")
			stripSections(sm["section"])
		}
	}
}

// rewriteDocumentReferences treats a document like a transaction: its
// urn:uuid references become Type/id while the fullUrls stay as sent.
func rewriteDocumentReferences(typ string, res map[string]any) map[string]any {
	if !isDocument(typ, res) {
		return res
	}
	targets := map[string]string{}
	for _, e := range asList(res["entry"]) {
		em, _ := e.(map[string]any)
		u, _ := em["fullUrl"].(string)
		r, _ := em["resource"].(map[string]any)
		if id, ok := strings.CutPrefix(u, "urn:uuid:"); ok && r != nil {
			targets[u] = str(r["resourceType"]) + "/" + id
		}
	}
	out := cloneTop(res)
	entries := make([]any, 0, len(asList(res["entry"])))
	for _, e := range asList(res["entry"]) {
		em, ok := e.(map[string]any)
		if !ok {
			entries = append(entries, e)
			continue
		}
		ne := cloneTop(em)
		if r, ok := em["resource"].(map[string]any); ok {
			ne["resource"] = rewriteReferences(r, targets)
		}
		entries = append(entries, ne)
	}
	out["entry"] = entries
	return out
}

// fileDocumentAsPreliminary sets the status of a document's Composition to preliminary.
func fileDocumentAsPreliminary(typ string, res map[string]any) map[string]any {
	if !isDocument(typ, res) {
		return res
	}
	out := deepCopy(res).(map[string]any)
	for _, e := range asList(out["entry"]) {
		em, _ := e.(map[string]any)
		if comp, _ := em["resource"].(map[string]any); comp["resourceType"] == "Composition" {
			comp["status"] = "preliminary"
		}
	}
	return out
}

// addDocumentTotal gives a document Bundle a total, which only searchset and
// history Bundles may carry (bdl-1).
func addDocumentTotal(typ string, res map[string]any) map[string]any {
	if !isDocument(typ, res) {
		return res
	}
	out := cloneTop(res)
	out["total"] = json.Number(strconv.Itoa(len(asList(res["entry"]))))
	return out
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = deepCopy(x)
		}
		return out
	default:
		return v
	}
}
