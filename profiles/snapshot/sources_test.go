package snapshot

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/packages"
)

// barsDefinitions adds BaRS's StructureDefinitions to set, file by file, and
// returns their URLs.
func barsDefinitions(t *testing.T, set *packages.Set) []string {
	t.Helper()
	files, err := filepath.Glob(conformancetest.Shared(t, "fhir/sources/bars/StructureDefinition/*.xml"))
	require.NoError(t, err)
	top, err := filepath.Glob(conformancetest.Shared(t, "fhir/sources/bars/*.xml"))
	require.NoError(t, err)
	var urls []string
	for _, f := range append(files, top...) {
		p, err := packages.Open(f)
		require.NoError(t, err, f)
		set.Add(p)
		for _, r := range p.Resources {
			if r.ResourceType == "StructureDefinition" {
				urls = append(urls, r.URL)
			}
		}
	}
	require.Len(t, urls, 10)
	return urls
}

func TestBaRSMissingDependenciesAreWarnings(t *testing.T) {
	set, _ := openSources(t)
	urls := barsDefinitions(t, set)
	g := &Generator{Resolve: set.ResolveJSON}
	got, warnings, err := g.All(urls)
	require.NoError(t, err)
	var missing []string
	for _, w := range warnings {
		if strings.HasPrefix(w.Message, "no snapshot: ") {
			missing = append(missing, w.Profile)
			assert.Contains(t, w.Message, "https://fhir.hl7.org.uk/StructureDefinition/UKCore-", "only UK Core bases are missing")
		}
	}
	t.Logf("bars without its dependencies: %d snapshots, %d definitions reported missing a dependency", len(got), len(missing))
	assert.Len(t, got, 4, "Extension, Flag and Location based definitions need only hl7.fhir.r4.core")
	assert.Len(t, missing, 6)
}

func TestBaRSWithUKCoreGetsSnapshots(t *testing.T) {
	set, _ := openSources(t, "fhir/sources/uk-core")
	urls := barsDefinitions(t, set)
	g := &Generator{Resolve: set.ResolveJSON}
	got, warnings, err := g.All(urls)
	require.NoError(t, err)
	assert.Len(t, got, 10)
	var multiType int
	for _, w := range warnings {
		t.Log(w)
		if strings.Contains(w.Message, "an element of several types") {
			multiType++
		}
	}
	assert.Equal(t, 3, multiType, "the three MessageHeader profiles constrain event[x].system")
	mh := got["https://fhir.nhs.uk/StructureDefinition/BARSMessageHeader-booking-request"]
	require.NotNil(t, mh)
	var fixed string
	for _, e := range elementsOf(mh, "snapshot") {
		if str(e, "id") == "MessageHeader.event[x].system" {
			fixed = str(e, "fixedUri")
		}
	}
	assert.Equal(t, "https://fhir.nhs.uk/CodeSystem/message-events-bars", fixed)
}
