package suite

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/profiles/packages"
	"github.com/nhsconform/conform/profiles/packages/packagestest"
)

// packageSet returns hl7.fhir.r4.core, hl7.terminology.r4 and UK Core 2.0.2
// from the shared data, opened once per test binary.
func packageSet(t testing.TB) *packages.Set {
	t.Helper()
	return packagestest.Set(t, packagestest.Core, packagestest.Terminology, packagestest.UKCore202)
}

func referenceOptions(t testing.TB) Options {
	t.Helper()
	set := packageSet(t)
	v, err := NewValidator(set)
	require.NoError(t, err)
	return Options{Validator: v, FHIRPath: NewFHIRPath(set)}
}
