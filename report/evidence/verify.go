package evidence

import (
	"archive/zip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Verification is the result of checking a bundle: which files changed, were
// added or were removed since it was sealed, and whether its signature holds.
type Verification struct {
	Bundle   string    `json:"bundle"`
	Manifest *Manifest `json:"-"`
	Changed  []string  `json:"changed"`
	Added    []string  `json:"added"`
	Removed  []string  `json:"removed"`
	// Signed is true when the bundle carries a signature file.
	Signed bool `json:"signed"`
	// SignatureValid is true when the signature verifies over the manifest.
	SignatureValid bool `json:"signatureValid"`
	// KeyFromBundle is true when no trusted key was given and the key recorded
	// in the manifest was used: that proves integrity, not who signed.
	KeyFromBundle bool `json:"keyFromBundle"`
	// KeyFingerprint is the SHA-256 of the public key that verified the signature.
	KeyFingerprint string `json:"keyFingerprint,omitempty"`
	// Problems explains every reason the bundle is not intact.
	Problems []string `json:"problems"`
}

// Intact reports whether nothing changed since sealing and the signature holds.
func (v *Verification) Intact() bool { return len(v.Problems) == 0 }

// VerifyOptions says what a verification trusts.
type VerifyOptions struct {
	// PublicKey, when set, is the only key whose signature is accepted.
	PublicKey ed25519.PublicKey
	// AllowUnsigned accepts a bundle without a signature (hashes still checked).
	AllowUnsigned bool
}

// Limits that bound the work of verifying a hostile bundle.
const (
	maxBundleFiles = 100000
	maxZipEntry    = 1 << 30
)

// bundleFS is the read side of a bundle: a folder or a zip archive.
type bundleFS interface {
	files() ([]string, error)
	read(name string, limit int64) ([]byte, error)
	hash(name string) (string, error)
}

// Verify checks the bundle at path, a folder or a .zip file.
func Verify(path string, opts VerifyOptions) (*Verification, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	var b bundleFS
	if st.IsDir() {
		b = dirBundle(path)
	} else {
		zr, err := zip.OpenReader(path)
		if err != nil {
			return nil, fmt.Errorf("verify %s: not a bundle folder or readable zip: %w", path, err)
		}
		defer zr.Close()
		zb, err := newZipBundle(&zr.Reader)
		if err != nil {
			return nil, fmt.Errorf("verify %s: %w", path, err)
		}
		b = zb
	}
	return verify(path, b, opts)
}

func verify(name string, b bundleFS, opts VerifyOptions) (*Verification, error) {
	v := &Verification{Bundle: name, Changed: []string{}, Added: []string{}, Removed: []string{}, Problems: []string{}}
	data, err := b.read(ManifestFile, maxManifest)
	if err != nil {
		return nil, fmt.Errorf("verify %s: read %s: %w", name, ManifestFile, err)
	}
	m, err := decodeManifest(data)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", name, err)
	}
	v.Manifest = m
	present, err := b.files()
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", name, err)
	}
	onDisk := make(map[string]bool, len(present))
	for _, p := range present {
		onDisk[p] = true
	}
	listed := make(map[string]bool, len(m.Files))
	for _, f := range m.Files {
		if listed[f.Path] {
			v.Problems = append(v.Problems, fmt.Sprintf("manifest lists %s twice", f.Path))
			continue
		}
		listed[f.Path] = true
		if !onDisk[f.Path] {
			v.Removed = append(v.Removed, f.Path)
			continue
		}
		sum, err := b.hash(f.Path)
		if err != nil {
			return nil, fmt.Errorf("verify %s: hash %s: %w", name, f.Path, err)
		}
		if sum != f.SHA256 {
			v.Changed = append(v.Changed, f.Path)
		}
	}
	for _, p := range present {
		if !listed[p] && p != ManifestFile && p != SignatureFile {
			v.Added = append(v.Added, p)
		}
	}
	sort.Strings(v.Added)
	for _, p := range v.Changed {
		v.Problems = append(v.Problems, "changed: "+p)
	}
	for _, p := range v.Added {
		v.Problems = append(v.Problems, "added: "+p)
	}
	for _, p := range v.Removed {
		v.Problems = append(v.Problems, "removed: "+p)
	}
	v.checkSignature(b, data, opts)
	return v, nil
}

func (v *Verification) checkSignature(b bundleFS, manifest []byte, opts VerifyOptions) {
	sigText, err := b.read(SignatureFile, 4096)
	if err != nil {
		switch {
		case v.Manifest.PublicKey != "":
			v.Problems = append(v.Problems, fmt.Sprintf("removed: %s (the manifest says the bundle was signed)", SignatureFile))
		case opts.PublicKey != nil || !opts.AllowUnsigned:
			v.Problems = append(v.Problems, "not signed: the bundle has no "+SignatureFile)
		}
		return
	}
	v.Signed = true
	sig, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(string(sigText)))
	if err != nil || len(sig) != ed25519.SignatureSize || base64.StdEncoding.EncodeToString(sig)+"\n" != string(sigText) {
		v.Problems = append(v.Problems, "changed: "+SignatureFile+" (not a valid Ed25519 signature)")
		return
	}
	key := opts.PublicKey
	if key == nil {
		raw, err := base64.StdEncoding.DecodeString(v.Manifest.PublicKey)
		if err != nil || len(raw) != ed25519.PublicKeySize {
			v.Problems = append(v.Problems, "changed: "+ManifestFile+" (its publicKey is not an Ed25519 key)")
			return
		}
		key = raw
		v.KeyFromBundle = true
	}
	fp := sha256.Sum256(key)
	v.KeyFingerprint = hex.EncodeToString(fp[:])
	if !ed25519.Verify(key, manifest, sig) {
		if opts.PublicKey != nil {
			v.Problems = append(v.Problems, "signature does not verify with the given public key: "+ManifestFile+" or "+SignatureFile+" changed, or another key signed it")
		} else {
			v.Problems = append(v.Problems, "signature does not verify: "+ManifestFile+" or "+SignatureFile+" changed")
		}
		return
	}
	v.SignatureValid = true
}

type dirBundle string

func (d dirBundle) files() ([]string, error) {
	var out []string
	err := filepath.WalkDir(string(d), func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(string(d), path)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		if len(out) > maxBundleFiles {
			return fmt.Errorf("more than %d files", maxBundleFiles)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

func (d dirBundle) read(name string, limit int64) ([]byte, error) {
	return readLimited(filepath.Join(string(d), filepath.FromSlash(name)), limit)
}

func (d dirBundle) hash(name string) (string, error) {
	p := filepath.Join(string(d), filepath.FromSlash(name))
	st, err := os.Lstat(p)
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", name)
	}
	sum, _, err := hashFile(p)
	return sum, err
}

type zipBundle struct {
	entries map[string]*zip.File
	names   []string
}

func newZipBundle(r *zip.Reader) (*zipBundle, error) {
	if len(r.File) > maxBundleFiles {
		return nil, fmt.Errorf("zip has more than %d entries", maxBundleFiles)
	}
	z := &zipBundle{entries: make(map[string]*zip.File, len(r.File))}
	for _, f := range r.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		if !safeRelPath(f.Name) {
			return nil, fmt.Errorf("zip entry %q: unsafe path", f.Name)
		}
		if _, dup := z.entries[f.Name]; dup {
			return nil, fmt.Errorf("zip entry %q appears twice", f.Name)
		}
		z.entries[f.Name] = f
		z.names = append(z.names, f.Name)
	}
	sort.Strings(z.names)
	return z, nil
}

func (z *zipBundle) files() ([]string, error) { return z.names, nil }

func (z *zipBundle) open(name string) (io.ReadCloser, error) {
	f, ok := z.entries[name]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return f.Open()
}

func (z *zipBundle) read(name string, limit int64) ([]byte, error) {
	rc, err := z.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return readAllLimited(rc, name, limit)
}

func (z *zipBundle) hash(name string) (string, error) {
	rc, err := z.open(name)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(rc, maxZipEntry+1))
	if err != nil {
		return "", err
	}
	if n > maxZipEntry {
		return "", fmt.Errorf("%s is larger than %d bytes", name, int64(maxZipEntry))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Zip writes the bundle folder dir as a zip archive at out, atomically.
func Zip(dir, out string) (err error) {
	files, err := dirBundle(dir).files()
	if err != nil {
		return fmt.Errorf("zip %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".conform-zip-*")
	if err != nil {
		return fmt.Errorf("zip %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	zw := zip.NewWriter(tmp)
	for _, name := range files {
		if err := addToZip(zw, dir, name); err != nil {
			return fmt.Errorf("zip %s: %w", dir, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("zip %s: %w", dir, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("zip %s: %w", dir, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("zip %s: %w", dir, err)
	}
	return nil
}

func addToZip(zw *zip.Writer, dir, name string) error {
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := zw.Create(name)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, f)
	return err
}
