package packages

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance/conformancetest"
)

// TestSweepSharedSources decodes every resource of R4 core and of every IG
// source folder under the shared data, XML converted through the set.
func TestSweepSharedSources(t *testing.T) {
	s := NewSet(sharedCore(t))
	for _, dir := range []string{"uk-core", "uk-core-2.0.2", "bars"} {
		p, err := Open(conformancetest.Shared(t, "fhir/sources/"+dir))
		require.NoError(t, err)
		s.Add(p)
	}
	nhse := conformancetest.Shared(t, "fhir/sources/nhs-england")
	files, err := filepath.Glob(filepath.Join(nhse, "*.xml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		p, err := Open(f)
		require.NoError(t, err)
		s.Add(p)
	}
	total, xml := 0, 0
	for _, p := range s.Packages() {
		for _, r := range p.Resources {
			m, err := r.JSON()
			if !assert.NoError(t, err, r.String()) {
				continue
			}
			total++
			if r.Format == FormatXML {
				xml++
			}
			assert.Equal(t, r.ResourceType, m["resourceType"], r.String())
			if r.URL != "" {
				assert.Equal(t, r.URL, m["url"], r.String())
			}
			if r.ID != "" {
				assert.Equal(t, r.ID, m["id"], r.String())
			}
		}
	}
	entries, err := os.ReadDir(nhse)
	require.NoError(t, err)
	assert.Greater(t, len(entries), len(files), "MANIFEST.txt is not a resource")
	t.Logf("%d resources decoded, %d of them converted from XML", total, xml)
	assert.Equal(t, 4580+594+338+109+5, total, "core, UK Core, UK Core 2.0.2, BaRS (105 XML, 4 JSON), NHS England")
	assert.Equal(t, 594+338+105+5, xml)
}
