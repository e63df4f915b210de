package snapshot

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/packages"
)

// openSources returns a Set of hl7.fhir.r4.core and the given IG source
// folders from the shared data, and the IG packages.
func openSources(t *testing.T, folders ...string) (*packages.Set, []*packages.Package) {
	t.Helper()
	core, err := packages.Open(conformancetest.Shared(t, "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz"))
	require.NoError(t, err)
	set := packages.NewSet(core)
	var igs []*packages.Package
	for _, f := range folders {
		p, err := packages.Open(conformancetest.Shared(t, f))
		require.NoError(t, err, f)
		set.Add(p)
		igs = append(igs, p)
	}
	return set, igs
}

func structureDefinitions(t *testing.T, p *packages.Package) []*packages.Resource {
	t.Helper()
	var out []*packages.Resource
	for _, r := range p.Resources {
		if r.ResourceType == "StructureDefinition" {
			out = append(out, r)
		}
	}
	return out
}

func TestEveryUKCoreDefinitionGetsASnapshot(t *testing.T) {
	tests := []struct {
		name   string
		folder string
		count  int
	}{
		{name: "development build", folder: "fhir/sources/uk-core", count: 153},
		{name: "STU2 release", folder: "fhir/sources/uk-core-2.0.2", count: 78},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, igs := openSources(t, tc.folder)
			g := &Generator{Resolve: set.ResolveJSON}
			sds := structureDefinitions(t, igs[0])
			require.Len(t, sds, tc.count)
			var elements int
			var warnings []string
			for _, r := range sds {
				got, ws, err := g.SnapshotFor(r.URL)
				if !assert.NoError(t, err, r.URL) {
					continue
				}
				snap := elementsOf(got, "snapshot")
				if !assert.NotEmpty(t, snap, r.URL) {
					continue
				}
				elements += len(snap)
				ids := map[string]bool{}
				for _, e := range snap {
					assert.False(t, ids[str(e, "id")], "%s: duplicate element id %s", r.URL, str(e, "id"))
					ids[str(e, "id")] = true
				}
				for _, w := range ws {
					warnings = append(warnings, w.String())
				}
			}
			t.Logf("%s: %d definitions, %d snapshot elements, %d warnings", tc.folder, len(sds), elements, len(warnings))
			if len(warnings) > 0 {
				t.Logf("warnings:\n%s", strings.Join(warnings, "\n"))
			}
		})
	}
}

func TestUKCorePatientClosure(t *testing.T) {
	set, _ := openSources(t, "fhir/sources/uk-core")
	g := &Generator{Resolve: set.ResolveJSON}
	sds, warnings, err := g.Closure(ukCorePatient)
	require.NoError(t, err)
	assert.Empty(t, warnings)
	urls := map[string]bool{}
	for _, sd := range sds {
		assert.False(t, urls[str(sd, "url")], "listed once: %s", str(sd, "url"))
		urls[str(sd, "url")] = true
		assert.NotEmpty(t, elementsOf(sd, "snapshot"), str(sd, "url"))
	}
	assert.Equal(t, ukCorePatient, str(sds[0], "url"))
	for _, want := range []string{
		"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-BirthSex",
		"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
		"http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
		"http://hl7.org/fhir/StructureDefinition/HumanName",
		"http://hl7.org/fhir/StructureDefinition/Address",
		"http://hl7.org/fhir/StructureDefinition/string",
	} {
		assert.True(t, urls[want], want)
	}
	t.Logf("UKCore-Patient needs %d definitions", len(sds))
}
