//go:build unix

package packages

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCacheFileThatIsNotRegular(t *testing.T) {
	dir := writeFiles(t, t.TempDir(), map[string]string{
		"p#1.0.0/package/package.json": `{"name":"p","version":"1.0.0"}`,
		"p#1.0.0/package/.index.json":  `{"index-version":1,"files":[{"filename":"Patient-a.json","resourceType":"Patient"}]}`,
	})
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "p#1.0.0", "package", "Patient-a.json"), 0o644))
	p, err := Cache{Dir: dir}.Open("p", "1.0.0")
	require.NoError(t, err)
	_, err = p.Resources[0].JSON()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Patient-a.json: not a regular file")
}
