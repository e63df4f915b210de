package validate

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/nhsconform/conform/conformance"
)

// NHSNumberSystem is the identifier system of the NHS Number.
const NHSNumberSystem = "https://fhir.nhs.uk/Id/nhs-number"

// ValidNHSNumber reports whether s is ten digits whose last is the Modulus 11
// check digit of the first nine.
func ValidNHSNumber(s string) bool {
	if len(s) != 10 {
		return false
	}
	sum := 0
	for i := 0; i < 10; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		if i < 9 {
			sum += int(s[i]-'0') * (10 - i)
		}
	}
	check := 11 - sum%11
	if check == 11 {
		check = 0
	}
	if check == 10 {
		return false
	}
	return check == int(s[9]-'0')
}

// relativeRef reports whether ref is Type/id or Type/id/_history/vid.
func relativeRef(ref string) bool {
	typ, rest, ok := strings.Cut(ref, "/")
	if !ok || len(typ) < 2 || typ[0] < 'A' || typ[0] > 'Z' {
		return false
	}
	for i := 1; i < len(typ); i++ {
		if c := typ[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	id, hist, hasHist := strings.Cut(rest, "/_history/")
	if !validID(id) {
		return false
	}
	return !hasHist || validID(hist)
}

func (r *run) typeChecks(n *node, typ string, obj map[string]any) {
	switch typ {
	case "Reference":
		r.reference(n, obj)
	case "Identifier":
		r.identifier(obj)
	case "Attachment":
		r.attachment(obj)
	case "Coding":
		r.coding(obj)
	case "CodeableConcept":
		for i, c := range slist(obj, "coding") {
			cm, ok := c.(map[string]any)
			if !ok {
				continue
			}
			r.push("coding", "coding", i, "")
			r.coding(cm)
			r.pop()
		}
	}
}

func (r *run) identifier(obj map[string]any) {
	if sys, _ := obj["system"].(string); sys != "" && !strings.Contains(sys, ":") {
		r.push("system", "system", -1, "")
		r.errorf("invalid", "identifier-system-relative", "Identifier.system must be an absolute reference, not a local reference")
		r.pop()
	}
	if sys, _ := obj["system"].(string); sys != NHSNumberSystem {
		return
	}
	val, _ := obj["value"].(string)
	if val == "" {
		return
	}
	if !ValidNHSNumber(val) {
		r.push("value", "value", -1, "")
		r.add(r.v.opts.NHSNumberSeverity, "value", "nhs-number-invalid", "The NHS Number '"+val+"' is not valid: it must be 10 digits with a correct Modulus 11 check digit")
		r.pop()
	}
}

func (r *run) coding(obj map[string]any) {
	sys, _ := obj["system"].(string)
	code, _ := obj["code"].(string)
	if sys == "" {
		return
	}
	if !strings.Contains(sys, ":") {
		r.push("system", "system", -1, "")
		r.errorf("invalid", "coding-system-relative", "Coding.system must be an absolute reference, not a local reference")
		r.pop()
		return
	}
	if r.v.systemKind(sys) == "ValueSet" {
		r.push("system", "system", -1, "")
		r.errorf("invalid", "coding-system-is-valueset", "The Coding references a value set, not a code system ('%s')", sys)
		r.pop()
		return
	}
	if code == "" {
		return
	}
	cs, known := r.v.tx.CodeSystem(sys)
	if !known {
		if !externalSystem(sys) {
			r.push("system", "system", -1, "")
			r.warnf("not-found", "codesystem-unknown", "A definition for CodeSystem '%s' could not be found, so the code cannot be validated", sys)
			r.pop()
		}
		return
	}
	if !cs.Complete() {
		return
	}
	c, found := cs.Lookup(code)
	if !found {
		r.push("code", "code", -1, "")
		r.errorf("code-invalid", "code-unknown", "Unknown code '%s' in the CodeSystem '%s' version '%s'", code, sys, cs.Version)
		r.pop()
		return
	}
	if disp, _ := obj["display"].(string); disp != "" && c.Display != "" && !displayMatches(c.Display, c.Designations, disp) {
		r.push("display", "display", -1, "")
		r.warnf("invalid", "display-wrong", "Wrong Display Name '%s' for %s#%s. Valid display is '%s'", disp, sys, code, c.Display)
		r.pop()
	}
}

func displayMatches(display string, designations []string, got string) bool {
	norm := func(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }
	g := norm(got)
	if norm(display) == g {
		return true
	}
	for _, d := range designations {
		if norm(d) == g {
			return true
		}
	}
	return false
}

// externalSystem reports whether a code system is defined outside FHIR
// packages (SNOMED CT, LOINC, UCUM ...): its codes need a terminology server.
func externalSystem(sys string) bool {
	switch sys {
	case "http://snomed.info/sct", "http://loinc.org", "http://unitsofmeasure.org", "http://www.nlm.nih.gov/research/umls/rxnorm",
		"urn:ietf:bcp:47", "urn:ietf:bcp:13", "urn:iso:std:iso:3166", "urn:iso:std:iso:4217", "http://hl7.org/fhir/sid/icd-10",
		"http://hl7.org/fhir/sid/icd-9-cm", "http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/cvx", "http://hl7.org/fhir/sid/ndc",
		"http://www.ama-assn.org/go/cpt", "urn:oid:1.2.36.1.2001.1005.17", "http://dicom.nema.org/resources/ontology/DCM",
		"http://www.whocc.no/atc", "http://hl7.org/fhir/sid/icd-9", "urn:iso:std:iso:11073:10101", "https://dmd.nhs.uk", "http://nucc.org/provider-taxonomy",
		"http://www.nubc.org/patient-discharge", "urn:ietf:rfc:3986", "http://hl7.org/fhir/sid/us-npi", "http://hl7.org/fhir/sid/us-ssn":
		return true
	}
	return strings.HasPrefix(sys, "urn:oid:") || strings.HasPrefix(sys, "http://snomed.info/") || strings.HasPrefix(sys, "urn:iso:")
}

func (r *run) reference(n *node, obj map[string]any) {
	ref, _ := obj["reference"].(string)
	if ref == "" {
		return
	}
	r.push("reference", "reference", -1, "")
	defer r.pop()
	var targetType string
	switch {
	case strings.HasPrefix(ref, "#"):
		if ref != "#" && !r.containedHas(ref[1:]) {
			r.errorf("structure", "reference-contained-missing", "Unable to resolve resource with reference '%s'", ref)
			return
		}
		targetType = r.containedType(ref[1:])
	case strings.HasPrefix(ref, "urn:"):
		if res := r.bundleResolve(ref); res != nil {
			targetType, _ = res["resourceType"].(string)
		}
	case strings.Contains(ref, "://"):
		if res := r.bundleResolve(ref); res != nil {
			targetType, _ = res["resourceType"].(string)
		} else {
			targetType = typeFromURL(ref)
		}
	default:
		if !relativeRef(ref) {
			if !strings.Contains(ref, "/") && !strings.Contains(ref, "?") {
				r.errorf("structure", "reference-format", "Relative URLs must be of the format [ResourceName]/[id]. Encountered %s", ref)
			}
			return
		}
		targetType = strings.SplitN(ref, "/", 2)[0]
		if res := r.bundleResolve(ref); res != nil {
			targetType, _ = res["resourceType"].(string)
		}
		if params := r.enclosingParameters(); params != nil && !parametersHold(slist(params, "parameter"), strings.SplitN(ref, "/_history/", 2)[0], 0) {
			r.errorf("structure", "reference-parameters-missing", "Unable to resolve resource with reference '%s'", ref)
		}
	}
	if t, _ := obj["type"].(string); t != "" && targetType != "" && t != targetType {
		r.errorf("structure", "reference-type-mismatch", "The type '%s' implied by the reference URL %s does not match the stated type %s", targetType, ref, t)
	}
	if targetType == "" || !r.isResourceType(targetType) {
		return
	}
	allowed, anyTarget := r.allowedTargets(n)
	if anyTarget || len(allowed) == 0 {
		return
	}
	for _, a := range allowed {
		if a == targetType {
			return
		}
	}
	r.errorf("structure", "reference-wrong-target", "The type '%s' implied by the reference URL %s is not a valid Target for this element (must be one of [%s])", targetType, ref, strings.Join(allowed, ", "))
}

func typeFromURL(ref string) string {
	parts := strings.Split(ref, "/")
	for i := len(parts) - 2; i >= 0; i-- {
		if parts[i] == "_history" {
			continue
		}
		if i+1 < len(parts) && len(parts[i]) > 0 && parts[i][0] >= 'A' && parts[i][0] <= 'Z' {
			return parts[i]
		}
		if i < len(parts)-3 {
			break
		}
	}
	return ""
}

func (r *run) allowedTargets(n *node) ([]string, bool) {
	if t := n.targetTypes.Load(); t != nil {
		return t.names, t.any
	}
	names, anyTarget := r.targetTypesOf(n)
	n.targetTypes.Store(&targetTypes{names: names, any: anyTarget})
	return names, anyTarget
}

// targetTypes are the resource types a Reference element allows; any is
// true when it allows every type.
type targetTypes struct {
	names []string
	any   bool
}

func (r *run) targetTypesOf(n *node) ([]string, bool) {
	var out []string
	for _, t := range n.types {
		if t.code != "Reference" {
			continue
		}
		if len(t.targets) == 0 {
			return nil, true
		}
		for _, tp := range t.targets {
			name := strings.TrimPrefix(tp, model(""))
			if name == tp || strings.Contains(name, "/") || !r.isResourceType(name) {
				if p, err := r.v.planFor(tp); err == nil {
					name = p.typeName
				} else {
					continue
				}
			}
			if name == "Resource" {
				return nil, true
			}
			out = append(out, name)
		}
	}
	return out, false
}

func (r *run) containedHas(id string) bool {
	return r.containedType(id) != "" || r.containedAnyID(id)
}

func (r *run) containedAnyID(id string) bool {
	for i := len(r.resources) - 1; i >= 0; i-- {
		if rid, _ := r.resources[i]["id"].(string); rid == id {
			return true
		}
	}
	return false
}

func (r *run) containedType(id string) string {
	for i := len(r.resources) - 1; i >= 0; i-- {
		for _, c := range slist(r.resources[i], "contained") {
			cm, _ := c.(map[string]any)
			if cid, _ := cm["id"].(string); cid == id {
				rt, _ := cm["resourceType"].(string)
				return rt
			}
		}
	}
	return ""
}

func severityOf(strength string) conformance.Severity {
	switch strength {
	case "required":
		return conformance.SeverityError
	case "extensible":
		return conformance.SeverityWarning
	}
	return conformance.SeverityInformation
}

func (r *run) attachment(obj map[string]any) {
	data, _ := obj["data"].(string)
	size, ok := obj["size"].(json.Number)
	if data == "" || !ok {
		return
	}
	want, err := strconv.ParseInt(string(size), 10, 64)
	if err != nil {
		return
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(data), ""))
	if err != nil {
		return
	}
	if int64(len(raw)) != want {
		r.errorf("structure", "attachment-size", "Stated Attachment Size %d does not match actual attachment size %d", want, len(raw))
	}
}

// enclosingParameters returns the Parameters resource whose parameter holds
// the resource being validated, when that is the innermost grouping resource.
func (r *run) enclosingParameters() map[string]any {
	for i := len(r.resources) - 2; i >= 0; i-- {
		switch rt, _ := r.resources[i]["resourceType"].(string); rt {
		case "Parameters":
			return r.resources[i]
		case "Bundle":
			return nil
		}
	}
	return nil
}

// maxPartDepth bounds the nesting of Parameters parts that is searched.
const maxPartDepth = 64

// parametersHold reports whether a resource of the parameters or their parts
// has the Type/id typeID.
func parametersHold(params []any, typeID string, depth int) bool {
	if depth > maxPartDepth {
		return false
	}
	for _, p := range params {
		pm, _ := p.(map[string]any)
		if res, ok := pm["resource"].(map[string]any); ok {
			rt, _ := res["resourceType"].(string)
			id, _ := res["id"].(string)
			if rt != "" && id != "" && len(typeID) == len(rt)+1+len(id) && strings.HasPrefix(typeID, rt) && typeID[len(rt)] == '/' && strings.HasSuffix(typeID, id) {
				return true
			}
		}
		if parametersHold(slist(pm, "part"), typeID, depth+1) {
			return true
		}
	}
	return false
}
