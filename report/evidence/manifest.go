package evidence

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Names of the files an evidence bundle adds beside the run's outputs.
const (
	ManifestFile  = "manifest.json"
	SignatureFile = "manifest.sig"
)

// ManifestSchemaVersion is the version of the manifest's JSON shape.
const ManifestSchemaVersion = "1"

// Manifest lists every file of an evidence bundle with its SHA-256.
type Manifest struct {
	SchemaVersion string `json:"schemaVersion"`
	Tool          string `json:"tool"`
	Created       string `json:"created"`
	// Target is the base URL of the system under test; runs are chained per target.
	Target string      `json:"target,omitempty"`
	Files  []FileEntry `json:"files"`
	// Previous links to the last earlier run for the same target in the same
	// folder of runs; a run deleted from the chain is then detectable.
	Previous *RunLink `json:"previous,omitempty"`
	// Algorithm and PublicKey describe the signature in SignatureFile, when signed.
	Algorithm string `json:"algorithm,omitempty"`
	PublicKey string `json:"publicKey,omitempty"`
}

// FileEntry is one file of a bundle, its path relative to the bundle root
// with forward slashes.
type FileEntry struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// RunLink names an earlier run by its folder name and the SHA-256 of its manifest.
type RunLink struct {
	Run            string `json:"run"`
	ManifestSHA256 string `json:"manifestSha256"`
	Created        string `json:"created,omitempty"`
}

// SealOptions says how to seal a bundle folder.
type SealOptions struct {
	Tool    string
	Target  string
	Created time.Time
	// Key signs the manifest when set.
	Key ed25519.PrivateKey
	// Previous is recorded as the link to the previous run (see FindPrevious).
	Previous *RunLink
}

// Seal writes the manifest of every file under dir, and its signature when a
// key is given. Files named like the manifest or the signature are replaced.
func Seal(dir string, opts SealOptions) (*Manifest, error) {
	m := &Manifest{
		SchemaVersion: ManifestSchemaVersion,
		Tool:          opts.Tool,
		Created:       opts.Created.UTC().Format(time.RFC3339),
		Target:        opts.Target,
		Previous:      opts.Previous,
		Files:         []FileEntry{},
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() || rel == ManifestFile || rel == SignatureFile {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", rel)
		}
		sum, size, err := hashFile(path)
		if err != nil {
			return err
		}
		m.Files = append(m.Files, FileEntry{Path: rel, SHA256: sum, Size: size})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", dir, err)
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	if opts.Key != nil {
		m.Algorithm = "Ed25519"
		m.PublicKey = base64.StdEncoding.EncodeToString(opts.Key.Public().(ed25519.PublicKey))
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", dir, err)
	}
	data = append(data, '\n')
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), data, 0o644); err != nil {
		return nil, fmt.Errorf("seal %s: %w", dir, err)
	}
	sigPath := filepath.Join(dir, SignatureFile)
	if opts.Key == nil {
		if err := os.Remove(sigPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("seal %s: %w", dir, err)
		}
		return m, nil
	}
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(opts.Key, data)) + "\n"
	if err := os.WriteFile(sigPath, []byte(sig), 0o644); err != nil {
		return nil, fmt.Errorf("seal %s: %w", dir, err)
	}
	return m, nil
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// ManifestHash returns the SHA-256 of a bundle's manifest file, in hex.
func ManifestHash(dir string) (string, error) {
	sum, _, err := hashFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return "", fmt.Errorf("hash manifest of %s: %w", dir, err)
	}
	return sum, nil
}

// ReadManifest reads and decodes a bundle folder's manifest.
func ReadManifest(dir string) (*Manifest, []byte, error) {
	data, err := readLimited(filepath.Join(dir, ManifestFile), maxManifest)
	if err != nil {
		return nil, nil, fmt.Errorf("read manifest of %s: %w", dir, err)
	}
	m, err := decodeManifest(data)
	if err != nil {
		return nil, nil, fmt.Errorf("read manifest of %s: %w", dir, err)
	}
	return m, data, nil
}

const maxManifest = 64 << 20

func decodeManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode manifest: %w", err)
	}
	if m.SchemaVersion == "" {
		return nil, errors.New("decode manifest: no schemaVersion: not a conform evidence manifest")
	}
	for _, f := range m.Files {
		if !safeRelPath(f.Path) {
			return nil, fmt.Errorf("decode manifest: unsafe file path %q", f.Path)
		}
	}
	return &m, nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAllLimited(f, path, limit)
}

// readAllLimited reads r to its end, failing when it holds more than limit
// bytes; name says what r is in the error.
func readAllLimited(r io.Reader, name string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	return data, nil
}

// safeRelPath reports whether p is a relative, clean, forward-slash path
// that stays inside the bundle.
func safeRelPath(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || strings.ContainsRune(p, 0) {
		return false
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
	}
	return true
}

// FindPrevious returns the link to the most recent sealed run for target among
// the sibling folders of bundleDir (the folder of runs), or nil when there is none.
func FindPrevious(bundleDir, target string) (*RunLink, error) {
	parent := filepath.Dir(filepath.Clean(bundleDir))
	self := filepath.Base(filepath.Clean(bundleDir))
	entries, err := os.ReadDir(parent)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("find previous run: %w", err)
	}
	var best *RunLink
	for _, e := range entries {
		if !e.IsDir() || e.Name() == self {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		m, _, err := ReadManifest(dir)
		if err != nil || m.Target != target {
			continue
		}
		if best != nil && m.Created <= best.Created {
			continue
		}
		sum, err := ManifestHash(dir)
		if err != nil {
			return nil, err
		}
		best = &RunLink{Run: e.Name(), ManifestSHA256: sum, Created: m.Created}
	}
	return best, nil
}
