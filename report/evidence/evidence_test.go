package evidence

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var sealed = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func newBundle(t *testing.T) (dir, keyPath string) {
	t.Helper()
	root := t.TempDir()
	keyPath = filepath.Join(root, "signing.key")
	_, err := GenerateKeyPair(keyPath)
	require.NoError(t, err)
	dir = filepath.Join(root, "runs", "run-1")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "exchanges"), 0o755))
	for name, body := range map[string]string{
		"record.json":            `{"schemaVersion":"1"}`,
		"report.html":            "<html><body>pass</body></html>",
		"exchanges/0001-GET.txt": "GET /metadata\n\n200 OK",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), []byte(body), 0o644))
	}
	key, err := LoadPrivateKey(keyPath)
	require.NoError(t, err)
	_, err = Seal(dir, SealOptions{Tool: "conform test", Target: "http://example.org/fhir", Created: sealed, Key: key})
	require.NoError(t, err)
	return dir, keyPath
}

func trusted(t *testing.T, keyPath string) VerifyOptions {
	pub, err := LoadPublicKey(keyPath + ".pub")
	require.NoError(t, err)
	return VerifyOptions{PublicKey: pub}
}

func TestVerifyIntactBundle(t *testing.T) {
	dir, keyPath := newBundle(t)
	v, err := Verify(dir, trusted(t, keyPath))
	require.NoError(t, err)
	assert.True(t, v.Intact(), v.Problems)
	assert.True(t, v.SignatureValid)
	assert.False(t, v.KeyFromBundle)

	v, err = Verify(dir, VerifyOptions{})
	require.NoError(t, err)
	assert.True(t, v.Intact(), v.Problems)
	assert.True(t, v.KeyFromBundle)
}

func TestEveryFlippedByteIsNamed(t *testing.T) {
	dir, keyPath := newBundle(t)
	files, err := dirBundle(dir).files()
	require.NoError(t, err)
	require.Len(t, files, 5)
	for _, name := range files {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, filepath.FromSlash(name))
			orig, err := os.ReadFile(path)
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, os.WriteFile(path, orig, 0o644)) })
			for _, at := range []int{0, len(orig) / 2, len(orig) - 1} {
				flipped := append([]byte(nil), orig...)
				flipped[at] ^= 0x01
				require.NoError(t, os.WriteFile(path, flipped, 0o644))
				v, err := Verify(dir, trusted(t, keyPath))
				if err != nil {
					// A manifest that no longer decodes is an error naming it.
					assert.Equal(t, ManifestFile, name)
					assert.Contains(t, err.Error(), "manifest")
					continue
				}
				assert.False(t, v.Intact(), "byte %d of %s flipped", at, name)
				assert.Contains(t, strings.Join(v.Problems, "\n"), nameInProblems(name), "byte %d", at)
			}
		})
	}
}

func nameInProblems(name string) string {
	if name == SignatureFile {
		return SignatureFile
	}
	return name
}

func TestAddedRemovedAndMissingSignature(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(t *testing.T, dir string)
		want   string
	}{
		{
			name: "added file",
			mutate: func(t *testing.T, dir string) {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "extra.txt"), []byte("x"), 0o644))
			},
			want: "added: extra.txt",
		},
		{
			name:   "removed file",
			mutate: func(t *testing.T, dir string) { require.NoError(t, os.Remove(filepath.Join(dir, "report.html"))) },
			want:   "removed: report.html",
		},
		{
			name:   "missing signature",
			mutate: func(t *testing.T, dir string) { require.NoError(t, os.Remove(filepath.Join(dir, SignatureFile))) },
			want:   "removed: " + SignatureFile,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, keyPath := newBundle(t)
			tc.mutate(t, dir)
			v, err := Verify(dir, trusted(t, keyPath))
			require.NoError(t, err)
			assert.False(t, v.Intact())
			assert.Contains(t, strings.Join(v.Problems, "\n"), tc.want)
		})
	}
}

func TestWrongPublicKey(t *testing.T) {
	dir, _ := newBundle(t)
	other := filepath.Join(t.TempDir(), "other.key")
	_, err := GenerateKeyPair(other)
	require.NoError(t, err)
	v, err := Verify(dir, trusted(t, other))
	require.NoError(t, err)
	assert.False(t, v.Intact())
	assert.Contains(t, strings.Join(v.Problems, "\n"), "given public key")
}

func TestUnsignedBundle(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "record.json"), []byte("{}"), 0o644))
	_, err := Seal(dir, SealOptions{Tool: "conform test", Created: sealed})
	require.NoError(t, err)
	v, err := Verify(dir, VerifyOptions{})
	require.NoError(t, err)
	assert.False(t, v.Intact(), "an unsigned bundle is not accepted by default")
	v, err = Verify(dir, VerifyOptions{AllowUnsigned: true})
	require.NoError(t, err)
	assert.True(t, v.Intact(), v.Problems)
}

func TestZipBundle(t *testing.T) {
	dir, keyPath := newBundle(t)
	out := filepath.Join(t.TempDir(), "run.zip")
	require.NoError(t, Zip(dir, out))
	v, err := Verify(out, trusted(t, keyPath))
	require.NoError(t, err)
	assert.True(t, v.Intact(), v.Problems)

	data, err := os.ReadFile(out)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(out, data[:len(data)/2], 0o644))
	_, err = Verify(out, trusted(t, keyPath))
	require.Error(t, err, "a truncated zip is an error")
}

func TestHostileZipEntry(t *testing.T) {
	out := filepath.Join(t.TempDir(), "evil.zip")
	f, err := os.Create(out)
	require.NoError(t, err)
	zw := zip.NewWriter(f)
	w, err := zw.Create("../escape.txt")
	require.NoError(t, err)
	_, err = w.Write([]byte("x"))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
	_, err = Verify(out, VerifyOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "../escape.txt")
}

func TestFindPreviousChainsRunsPerTarget(t *testing.T) {
	dir, _ := newBundle(t)
	next := filepath.Join(filepath.Dir(dir), "run-2")
	require.NoError(t, os.MkdirAll(next, 0o755))
	link, err := FindPrevious(next, "http://example.org/fhir")
	require.NoError(t, err)
	require.NotNil(t, link)
	assert.Equal(t, "run-1", link.Run)
	sum, err := ManifestHash(dir)
	require.NoError(t, err)
	assert.Equal(t, sum, link.ManifestSHA256)

	link, err = FindPrevious(next, "http://other.example/fhir")
	require.NoError(t, err)
	assert.Nil(t, link)
}

func TestKeyErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadPublicKey(filepath.Join(dir, "missing.pub"))
	require.Error(t, err)
	junk := filepath.Join(dir, "junk.pub")
	require.NoError(t, os.WriteFile(junk, []byte("not a key"), 0o644))
	_, err = LoadPublicKey(junk)
	require.ErrorContains(t, err, "junk.pub")
	key := filepath.Join(dir, "k")
	_, err = GenerateKeyPair(key)
	require.NoError(t, err)
	_, err = GenerateKeyPair(key)
	require.Error(t, err, "keygen never overwrites a key")
	_, err = LoadPublicKey(key)
	require.ErrorContains(t, err, "PRIVATE KEY", "a private key given as a public key is named")
}
