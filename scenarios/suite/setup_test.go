package suite

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/packages"
)

var (
	engineOnce sync.Once
	engineSet  *packages.Set
	engineErr  error
)

// packageSet loads hl7.fhir.r4.core, hl7.terminology.r4 and UK Core 2.0.2
// from the shared data once per test binary.
func packageSet(t testing.TB) *packages.Set {
	t.Helper()
	engineOnce.Do(func() {
		var pkgs []*packages.Package
		for _, f := range []string{
			"fhir/packages/hl7.fhir.r4.core-4.0.1.tgz",
			"fhir/packages/hl7.terminology.r4-7.0.1.tgz",
			"fhir/sources/uk-core-2.0.2",
		} {
			p, err := packages.Open(conformancetest.Shared(t, f))
			if err != nil {
				engineErr = err
				return
			}
			pkgs = append(pkgs, p)
		}
		engineSet = packages.NewSet(pkgs...)
	})
	require.NoError(t, engineErr)
	return engineSet
}

func referenceOptions(t testing.TB) Options {
	t.Helper()
	set := packageSet(t)
	v, err := NewValidator(set)
	require.NoError(t, err)
	return Options{Validator: v, FHIRPath: NewFHIRPath(set)}
}
