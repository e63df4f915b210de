package packages

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance/conformancetest"
)

// tarEntry is one entry of a tarball built by a test.
type tarEntry struct {
	name     string
	body     string
	typeflag byte
	size     int64 // header size when it differs from len(body)
	linkname string
}

func buildTarball(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: e.typeflag, Linkname: e.linkname, Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if e.size != 0 {
			h.Size = e.size
		}
		require.NoError(t, tw.WriteHeader(h))
		if e.size != 0 {
			break
		}
		if e.body != "" {
			_, err := tw.Write([]byte(e.body))
			require.NoError(t, err)
		}
	}
	_ = tw.Flush()
	_ = tw.Close()
	require.NoError(t, gz.Close())
	return buf.Bytes()
}

func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path
}

func writeFiles(t testing.TB, dir string, files map[string]string) string {
	t.Helper()
	for name, body := range files {
		writeFile(t, filepath.Join(dir, filepath.FromSlash(name)), []byte(body))
	}
	return dir
}

const testManifest = `{"name": "example.test", "version": "1.0.0", "fhirVersions": ["4.0.1"], "dependencies": {"hl7.fhir.r4.core": "4.0.1"}}`

var (
	coreOnce sync.Once
	corePkg  *Package
	coreErr  error
)

// sharedCore opens the R4 core tarball once for the whole test binary.
func sharedCore(t testing.TB) *Package {
	t.Helper()
	src := conformancetest.Shared(t, "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz")
	coreOnce.Do(func() { corePkg, coreErr = Open(src) })
	require.NoError(t, coreErr)
	return corePkg
}

var (
	cacheOnce sync.Once
	cacheDir  string
	cacheErr  error
)

// installedCache returns a cache, shared by the tests of this binary, with
// hl7.fhir.r4.core#4.0.1 and the UK Core source folder installed. Tests must
// not modify it.
func installedCache(t testing.TB) Cache {
	t.Helper()
	shared := conformancetest.SharedDir(t)
	cacheOnce.Do(func() {
		cacheDir, cacheErr = os.MkdirTemp("", "conform-packages-cache-")
		if cacheErr != nil {
			return
		}
		cacheErr = populateCache(Cache{Dir: cacheDir}, shared)
	})
	require.NoError(t, cacheErr)
	return Cache{Dir: cacheDir}
}

func populateCache(c Cache, shared string) error {
	core, err := Open(filepath.Join(shared, "fhir", "packages", "hl7.fhir.r4.core-4.0.1.tgz"))
	if err != nil {
		return err
	}
	if _, err := c.Install(core, InstallOptions{}); err != nil {
		return err
	}
	installedCore, err := c.Open(CoreName, CoreVersion)
	if err != nil {
		return err
	}
	uk, err := Open(filepath.Join(shared, "fhir", "sources", "uk-core"))
	if err != nil {
		return err
	}
	NewSet(installedCore, uk)
	_, err = c.Install(uk, InstallOptions{})
	return err
}

func TestMain(m *testing.M) {
	code := m.Run()
	if cacheDir != "" {
		os.RemoveAll(cacheDir)
	}
	os.Exit(code)
}
