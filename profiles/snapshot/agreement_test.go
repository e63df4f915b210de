package snapshot

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/packages"
)

var coreOnce struct {
	sync.Once
	set *packages.Set
	err error
}

func coreSet(t testing.TB) *packages.Set {
	t.Helper()
	path := conformancetest.Shared(t, "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz")
	coreOnce.Do(func() {
		p, err := packages.Open(path)
		if err != nil {
			coreOnce.err = err
			return
		}
		coreOnce.set = packages.NewSet(p)
	})
	require.NoError(t, coreOnce.err)
	return coreOnce.set
}

// minAgreement is the share of published hl7.fhir.r4.core snapshot elements
// that regenerated snapshots must reproduce identically.
const minAgreement = 0.98

func TestAgreementWithPublishedCoreSnapshots(t *testing.T) {
	set := coreSet(t)
	g := &Generator{Resolve: set.ResolveJSON}
	var defs, elements, identical int
	byProp := map[string]int{}
	perProfile := map[string]int{}
	var samples []string
	for _, r := range set.ByType("StructureDefinition") {
		sd, err := r.JSON()
		require.NoError(t, err, r.String())
		if str(sd, "derivation") != "constraint" {
			continue
		}
		if len(elementsOf(sd, "differential")) == 0 || len(elementsOf(sd, "snapshot")) == 0 {
			continue
		}
		defs++
		gen, _, err := g.Generate(sd)
		if err != nil {
			n := len(elementsOf(sd, "snapshot"))
			elements += n
			perProfile[r.URL] += n
			byProp["error"] += n
			samples = append(samples, fmt.Sprintf("%s: %v", r.URL, err))
			continue
		}
		c := Compare(sd, gen)
		elements += c.Elements
		identical += c.Identical
		if c.Elements != c.Identical {
			perProfile[r.URL] += c.Elements - c.Identical
		}
		for _, d := range c.Differences {
			byProp[d.Property]++
			samples = append(samples, fmt.Sprintf("%s %s %s: want %q got %q", r.URL, d.ID, d.Property, d.Want, d.Got))
		}
	}
	pct := 100 * float64(identical) / float64(elements)
	t.Logf("hl7.fhir.r4.core: %d definitions, %d/%d elements identical (%.2f%%)", defs, identical, elements, pct)
	t.Logf("differences by property: %v", byProp)
	var profs []string
	for u, n := range perProfile {
		profs = append(profs, fmt.Sprintf("%4d %s", n, u))
	}
	sort.Sort(sort.Reverse(sort.StringSlice(profs)))
	if len(profs) > 40 {
		profs = profs[:40]
	}
	t.Logf("profiles with most differing elements:\n%s", strings.Join(profs, "\n"))
	if len(samples) > 80 {
		samples = samples[:80]
	}
	t.Logf("differences:\n%s", strings.Join(samples, "\n"))
	require.Equal(t, 439, defs, "constraint definitions with a differential and a published snapshot")
	require.GreaterOrEqual(t, float64(identical)/float64(elements), minAgreement, "share of published elements regenerated identically")
}
