package suite

import (
	"fmt"

	"github.com/nhsconform/conform/profiles/fhirpath"
	"github.com/nhsconform/conform/profiles/packages"
	"github.com/nhsconform/conform/profiles/validate"
	"github.com/nhsconform/conform/runner/steps"
)

// NewValidator returns conform's validator over set (validate.FromPackages),
// generating snapshots for profiles published as differentials only (UK Core
// and BaRS sources).
func NewValidator(set *packages.Set) (*validate.Validator, error) {
	v, err := validate.FromPackages(set, validate.Options{})
	if err != nil {
		return nil, fmt.Errorf("build validator: %w", err)
	}
	return v, nil
}

// NewFHIRPath returns the packs' FHIRPath engine, typed by the
// hl7.fhir.r4.core definitions in set, with path checks on so that a pack
// naming an element its type does not have is an error, not a silent false.
func NewFHIRPath(set *packages.Set) *steps.Engine {
	m := fhirpath.FromModel(set.Model())
	return steps.NewEngine(fhirpath.NewEngine(fhirpath.Options{Model: m, CollectionAs: true}))
}
