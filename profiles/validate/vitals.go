package validate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nhsconform/conform/conformance"
)

// vitalSignsProfile is the base of the FHIR R4 vital signs profiles.
const vitalSignsProfile = "http://hl7.org/fhir/StructureDefinition/vitalsigns"

// relaxedBinding returns the strength a binding is checked with. The FHIR
// vital signs profiles bind Observation.component.value[x] to the common
// UCUM units as required, which would forbid any component value that is
// not a vital-sign quantity; the HL7 validator reads it as extensible, as
// later FHIR versions define it, and so does conform.
func relaxedBinding(p *plan, path, strength, valueSet string) string {
	if p.vitalSigns && strength == "required" && path == "Observation.component.value[x]" &&
		strings.HasPrefix(valueSet, "http://hl7.org/fhir/ValueSet/ucum-vitals-common") {
		return "extensible"
	}
	return strength
}

// impliedProfile is a FHIR vital signs profile that applies to every
// Observation whose code carries one of its codes.
type impliedProfile struct {
	url, name string
	loinc     []string
	snomed    []string
}

// vitalSignsByCode lists, in the order they are tried, the vital signs
// profiles the FHIR specification requires of Observations by their code:
// the first listing a LOINC code among the Observation's codings applies,
// else the first listing a SNOMED CT code. The codes are those the HL7 validator
// recognises.
var vitalSignsByCode = []impliedProfile{
	{url: "http://hl7.org/fhir/StructureDefinition/vitalspanel", name: "Vital Signs Panel",
		loinc: []string{"85353-1"}, snomed: []string{"46680005"}},
	{url: "http://hl7.org/fhir/StructureDefinition/resprate", name: "Respiratory Rate",
		loinc:  []string{"9279-1", "76170-0", "76172-6", "76171-8", "19840-8", "33438-3", "76270-8", "11291-2"},
		snomed: []string{"86290005", "271625008", "271306003"}},
	{url: "http://hl7.org/fhir/StructureDefinition/heartrate", name: "Heart rate",
		loinc:  []string{"8867-4", "60978-4", "73795-7", "73799-9", "76476-1", "76477-9", "8889-8", "8890-6", "8891-4", "8892-2", "8893-0", "40443-4", "55425-3", "68999-2", "11328-2", "69000-8", "8886-4"},
		snomed: []string{"249043002", "444981005", "399017001", "251670001", "429525003", "429614003"}},
	{url: "http://hl7.org/fhir/StructureDefinition/oxygensat", name: "Oxygen saturation",
		loinc:  []string{"2708-6", "19224-5", "20564-1", "2709-4", "2710-2", "2713-6", "51733-4", "59408-5", "59417-6", "89276-0", "97549-0"},
		snomed: []string{"442476006", "431314004"}},
	{url: "http://hl7.org/fhir/StructureDefinition/bodytemp", name: "Body temperature",
		loinc:  []string{"8310-5", "60834-9", "60835-6", "60836-4", "60838-0", "60955-2", "61009-7", "75539-7", "75987-8", "76010-8", "76011-6", "76278-1", "8309-7", "8328-7", "8329-5", "8330-3", "8331-1", "8332-9", "8333-7", "8334-5", "91371-5", "98657-0", "98663-8"},
		snomed: []string{"386725007", "276885007", "300076005", "1222808002", "364246006", "307047009", "708499008", "431598003", "698831002", "698832009", "415882003", "415974002", "415929009", "415945006"}},
	{url: "http://hl7.org/fhir/StructureDefinition/bodyheight", name: "Body height",
		loinc:  []string{"8302-2", "3137-7", "3138-5", "8306-3", "8308-9"},
		snomed: []string{"1153637007", "1162419008", "50373000", "1162418000", "1230278008", "1162392001", "1162417005"}},
	{url: "http://hl7.org/fhir/StructureDefinition/headcircum", name: "Head circumference",
		loinc:  []string{"9843-4", "8287-5"},
		snomed: []string{"363812007", "169876006", "1269262007", "363811000"}},
	{url: "http://hl7.org/fhir/StructureDefinition/bodyweight", name: "Body weight",
		loinc:  []string{"29463-7", "3141-9", "3142-7", "75292-3", "79348-9", "8350-1", "8351-9"},
		snomed: []string{"735395000", "425024002", "424927000", "784399000", "1162416001", "1162415002"}},
	{url: "http://hl7.org/fhir/StructureDefinition/bmi", name: "Body mass index",
		loinc: []string{"39156-5", "89270-3"}, snomed: []string{"60621009"}},
	{url: "http://hl7.org/fhir/StructureDefinition/bp", name: "Blood pressure systolic and diastolic",
		loinc:  []string{"85354-9", "35094-2", "8459-0", "76534-7", "55284-4", "8480-6"},
		snomed: []string{"251076008", "163033001", "163035008", "386534000", "386536003", "271649006", "271650006", "407556006", "407554009", "716579001", "399304008"}},
}

// vitalSignsLOINC and vitalSignsSNOMED index vitalSignsByCode by code: the
// position of the first profile listing it.
var vitalSignsLOINC, vitalSignsSNOMED = func() (map[string]int, map[string]int) {
	loinc, snomed := map[string]int{}, map[string]int{}
	for i := len(vitalSignsByCode) - 1; i >= 0; i-- {
		for _, c := range vitalSignsByCode[i].loinc {
			loinc[c] = i
		}
		for _, c := range vitalSignsByCode[i].snomed {
			snomed[c] = i
		}
	}
	return loinc, snomed
}()

// impliedVitalSigns returns the vital signs profile an Observation's code
// calls for, with the code system's name and the code that called for it.
func impliedVitalSigns(obs map[string]any) (ip *impliedProfile, systemName, code string) {
	codings := slist(sobj(obs, "code"), "coding")
	find := func(system string, index map[string]int) (*impliedProfile, string) {
		best, bestCode := len(vitalSignsByCode), ""
		for _, c := range codings {
			cm, _ := c.(map[string]any)
			if sstr(cm, "system") != system {
				continue
			}
			if i, ok := index[sstr(cm, "code")]; ok && i < best {
				best, bestCode = i, sstr(cm, "code")
			}
		}
		if best == len(vitalSignsByCode) {
			return nil, ""
		}
		return &vitalSignsByCode[best], bestCode
	}
	if p, c := find("http://loinc.org", vitalSignsLOINC); p != nil {
		return p, "LOINC", c
	}
	if p, c := find("http://snomed.info/sct", vitalSignsSNOMED); p != nil {
		return p, "SNOMED CT", c
	}
	return nil, "", ""
}

// impliedPlans returns the plans an Observation must also conform to because
// of its code, beyond those in have, saying so with an information issue at
// the current path. It returns nil for other resources.
func (r *run) impliedPlans(res map[string]any, rt string, have []*plan) []*plan {
	if rt != "Observation" {
		return nil
	}
	ip, systemName, code := impliedVitalSigns(res)
	if ip == nil {
		return nil
	}
	p, err := r.v.planFor(ip.url)
	if err != nil || p.typeName != rt || slices.Contains(have, p) {
		return nil
	}
	r.add(conformance.SeverityInformation, "informational", "vital-signs-profile",
		fmt.Sprintf("Validate Observation against the %s profile (%s) which is required by the FHIR specification because the %s code %s was found", ip.name, ip.url, systemName, code))
	return []*plan{p}
}
