package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/nhsconform/conform/profiles/packages"
)

// MaxPackageBytes bounds the bytes read to hash one FHIR package.
const MaxPackageBytes int64 = 1 << 30

// PackageIdentities returns name#version and content hash of each package.
func PackageIdentities(pkgs []*packages.Package) ([]Package, error) {
	out := make([]Package, 0, len(pkgs))
	for _, p := range pkgs {
		sum, err := PackageHash(p.Source)
		if err != nil {
			return nil, fmt.Errorf("hash package %s: %w", p.ID(), err)
		}
		out = append(out, Package{ID: p.ID(), Hash: sum})
	}
	return out, nil
}

// PackageHash returns the content hash of a package source: the SHA-256 of a
// tarball or single file, or of a folder's sorted list of "sha256  path"
// lines (one per regular file), as "sha256:" and hex. A source that is not
// on disk (a registry URL) has no hash: the result is empty.
func PackageHash(src string) (string, error) {
	st, err := os.Stat(src)
	if err != nil {
		return "", nil
	}
	budget := MaxPackageBytes
	if !st.IsDir() {
		sum, err := hashFile(src, &budget)
		if err != nil {
			return "", err
		}
		return "sha256:" + sum, nil
	}
	var lines []string
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		sum, err := hashFile(path, &budget)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		lines = append(lines, sum+"  "+filepath.ToSlash(rel)+"\n")
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		io.WriteString(h, l)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(path string, budget *int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, *budget+1))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	*budget -= n
	if *budget < 0 {
		return "", fmt.Errorf("read %s: the package is larger than %d bytes", path, MaxPackageBytes)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
