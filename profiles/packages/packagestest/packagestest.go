// Package packagestest opens FHIR packages from the shared data folder for
// the tests and benchmarks of packages that need a loaded package set.
package packagestest

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/packages"
)

// Paths of packages inside the shared data folder.
const (
	Core        = "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz"
	Terminology = "fhir/packages/hl7.terminology.r4-7.0.1.tgz"
	UKCore202   = "fhir/sources/uk-core-2.0.2"
)

type loaded struct {
	once sync.Once
	set  *packages.Set
	err  error
}

var sets sync.Map // joined paths -> *loaded

// Set returns a package set holding the packages at the given paths inside
// the shared data folder, opened once per test binary for each list of paths.
// It fails the test when one cannot be opened.
func Set(t testing.TB, paths ...string) *packages.Set {
	t.Helper()
	set, err := Load(paths...)
	if err != nil {
		t.Fatalf("open shared packages: %v", err)
	}
	return set
}

// Load is Set without a testing.TB, for benchmarks' and fuzz targets' setup.
func Load(paths ...string) (*packages.Set, error) {
	v, _ := sets.LoadOrStore(strings.Join(paths, "\n"), &loaded{})
	l := v.(*loaded)
	l.once.Do(func() {
		dir, err := conformancetest.FindShared()
		if err != nil {
			l.err = fmt.Errorf("find shared folder: %w", err)
			return
		}
		pkgs := make([]*packages.Package, 0, len(paths))
		for _, p := range paths {
			pkg, err := packages.Open(filepath.Join(dir, filepath.FromSlash(p)))
			if err != nil {
				l.err = err
				return
			}
			pkgs = append(pkgs, pkg)
		}
		l.set = packages.NewSet(pkgs...)
	})
	return l.set, l.err
}
