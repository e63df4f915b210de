package packs

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/nhsconform/conform/profiles/model"
)

// RequiresTag prefixes a scenario tag naming what the server must declare
// in its CapabilityStatement for the scenario to run: @requires:Encounter.update.
const RequiresTag = "@requires:"

// Requirement is one capability a scenario relies on, in one of the forms
//
//	TYPE.INTERACTION        Encounter.update, Patient.create, Encounter.history-instance
//	TYPE.conditional-create Patient.conditional-create (also conditional-update)
//	TYPE.search.PARAM       Encounter.search.identifier
//	TYPE.$OPERATION         Encounter.$validate
//	system.INTERACTION      system.transaction
//	system.$OPERATION       system.$process-message
type Requirement string

var requirementForm = regexp.MustCompile(`^([A-Z][A-Za-z]+|system)\.(\$?[a-z][a-z-]*|search\.[a-z_][a-z_-]*)$`)

// ParseRequirement checks a requirement written after @requires:.
func ParseRequirement(s string) (Requirement, error) {
	m := requirementForm.FindStringSubmatch(s)
	if m == nil {
		return "", fmt.Errorf("%q is not a requirement (write TYPE.INTERACTION, TYPE.search.PARAM, TYPE.$OPERATION or system.INTERACTION)", s)
	}
	if m[1] != "system" && !model.IsR4ResourceType(m[1]) {
		return "", fmt.Errorf("%q names %s, not a FHIR R4 resource type", s, m[1])
	}
	return Requirement(s), nil
}

// Type returns the resource type of the requirement, or "system".
func (r Requirement) Type() string {
	t, _, _ := strings.Cut(string(r), ".")
	return t
}

// What returns the part after the type: an interaction, "search.PARAM" or "$OPERATION".
func (r Requirement) What() string {
	_, w, _ := strings.Cut(string(r), ".")
	return w
}
