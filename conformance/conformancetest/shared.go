// Package conformancetest holds helpers for conform's own tests: locating the
// shared data folder (FHIR packages, IG sources, external test suites) that
// sits beside the repository as ../shared, or where CONFORM_SHARED points.
package conformancetest

import (
	"os"
	"path/filepath"
	"testing"
)

// SharedDir returns the absolute path of the shared data folder. It fails the
// test when the folder cannot be found: tests that need it must not pass
// silently without it.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir, err := FindShared()
	if err != nil {
		t.Fatalf("shared data folder: %v (set CONFORM_SHARED or place it at ../shared beside the repository)", err)
	}
	return dir
}

// Shared returns the absolute path of a file or folder inside the shared data
// folder, e.g. Shared(t, "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz").
func Shared(t testing.TB, rel string) string {
	t.Helper()
	return filepath.Join(SharedDir(t), filepath.FromSlash(rel))
}

// FindShared locates the shared data folder without a testing.TB, for
// benchmarks' setup and fuzz seeds.
func FindShared() (string, error) {
	if d := os.Getenv("CONFORM_SHARED"); d != "" {
		return filepath.Abs(d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			cand := filepath.Join(filepath.Dir(dir), "shared")
			if _, err := os.Stat(cand); err != nil {
				return "", err
			}
			return cand, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
