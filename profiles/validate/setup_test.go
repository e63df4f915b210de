package validate

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/packages"
	"github.com/nhsconform/conform/profiles/packages/packagestest"
)

// loadCore returns hl7.fhir.r4.core and hl7.terminology.r4, opened once per test binary.
func loadCore(t testing.TB) *packages.Set {
	t.Helper()
	return packagestest.Set(t, packagestest.Core, packagestest.Terminology)
}

func newCoreValidator(t testing.TB) *Validator {
	t.Helper()
	set := loadCore(t)
	v, err := New(Options{Resolve: set.ResolveJSON})
	require.NoError(t, err)
	return v
}

// readExamples returns the named files of the R4 examples package (all when
// names is nil), keyed by file name.
func readExamples(t testing.TB, names map[string]bool) map[string][]byte {
	t.Helper()
	f, err := os.Open(conformancetest.Shared(t, "fhir/packages/hl7.fhir.r4.examples-4.0.1.tgz"))
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	require.NoError(t, err)
	tr := tar.NewReader(gz)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		name := strings.TrimPrefix(h.Name, "package/")
		if !strings.HasSuffix(name, ".json") || strings.Contains(name, "/") || name == "package.json" || strings.HasPrefix(name, ".") {
			continue
		}
		if names != nil && !names[name] {
			continue
		}
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		out[name] = b
	}
	return out
}
