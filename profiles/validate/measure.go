package validate

// measureReportStratifiers checks the stratifiers of each MeasureReport group
// against the group of the loaded Measure with the same code: every reported
// stratifier has a code matching one the Measure defines, and every
// stratifier the Measure defines is reported.
func (r *run) measureReportStratifiers(report map[string]any) {
	measure, ok := r.v.opts.Resolve(sstr(report, "measure"))
	if !ok || sstr(measure, "resourceType") != "Measure" {
		return
	}
	for gi, g := range slist(report, "group") {
		rg, _ := g.(map[string]any)
		mg := matchingByCode(slist(measure, "group"), sobj(rg, "code"))
		if mg == nil {
			continue
		}
		r.push("group", "group", gi, "")
		reported := map[int]bool{}
		for si, s := range slist(rg, "stratifier") {
			rs, _ := s.(map[string]any)
			found := false
			for mi, m := range slist(mg, "stratifier") {
				ms, _ := m.(map[string]any)
				if anyCodeMatches(rs["code"], sobj(ms, "code")) {
					found, reported[mi] = true, true
				}
			}
			if !found {
				r.push("stratifier", "stratifier", si, "")
				r.errorf("business-rule", "measurereport-stratifier-unknown", "Group should have a code that matches the group stratifier definition in the measure")
				r.pop()
			}
		}
		for mi, m := range slist(mg, "stratifier") {
			if reported[mi] {
				continue
			}
			ms, _ := m.(map[string]any)
			r.errorf("business-rule", "measurereport-stratifier-missing", "The MeasureReport does not include a stratifier for the stratifier with code '%s' (id = '%s')", codeText(sobj(ms, "code")), sstr(ms, "id"))
		}
		r.pop()
	}
}

// matchingByCode returns the first element of items whose code matches code.
func matchingByCode(items []any, code map[string]any) map[string]any {
	for _, it := range items {
		m, _ := it.(map[string]any)
		if codesMatch(sobj(m, "code"), code) {
			return m
		}
	}
	return nil
}

// codesMatch reports whether two CodeableConcepts share a coding (system and
// code); a missing concept matches nothing.
func codesMatch(a, b map[string]any) bool {
	for _, x := range slist(a, "coding") {
		xm, _ := x.(map[string]any)
		for _, y := range slist(b, "coding") {
			ym, _ := y.(map[string]any)
			if sstr(xm, "code") != "" && sstr(xm, "system") == sstr(ym, "system") && sstr(xm, "code") == sstr(ym, "code") {
				return true
			}
		}
	}
	return false
}

// codeText is the first coding's code of a CodeableConcept, or "".
func codeText(cc map[string]any) string {
	for _, c := range slist(cc, "coding") {
		if cm, ok := c.(map[string]any); ok {
			return sstr(cm, "code")
		}
	}
	return ""
}

// anyCodeMatches reports whether code (one CodeableConcept, or a list of them
// as MeasureReport.group.stratifier.code is in R4) matches want.
func anyCodeMatches(code any, want map[string]any) bool {
	switch c := code.(type) {
	case map[string]any:
		return codesMatch(c, want)
	case []any:
		for _, x := range c {
			if xm, ok := x.(map[string]any); ok && codesMatch(xm, want) {
				return true
			}
		}
	}
	return false
}
