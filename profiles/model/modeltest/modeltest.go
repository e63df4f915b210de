// Package modeltest builds the FHIR R4 type model from the core package in the
// shared data folder, for the tests and benchmarks of packages that need it.
package modeltest

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/model"
	"github.com/nhsconform/conform/profiles/packages"
)

// CorePackage is the path of the R4 core package inside the shared folder.
const CorePackage = "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz"

var (
	coreOnce  sync.Once
	coreModel *model.Model
	coreErr   error
)

// Core returns a Model over the R4 core StructureDefinitions, loaded once per
// test binary; it fails the test when the package cannot be read.
func Core(t testing.TB) *model.Model {
	t.Helper()
	m, err := LoadCore()
	if err != nil {
		t.Fatalf("load R4 core model: %v", err)
	}
	return m
}

// LoadCore is Core without a testing.TB, for benchmarks' and fuzz targets' setup.
func LoadCore() (*model.Model, error) {
	coreOnce.Do(func() {
		dir, err := conformancetest.FindShared()
		if err != nil {
			coreErr = fmt.Errorf("find shared folder: %w", err)
			return
		}
		resolve, err := Resolver(filepath.Join(dir, filepath.FromSlash(CorePackage)))
		if err != nil {
			coreErr = err
			return
		}
		coreModel = model.New(resolve)
	})
	return coreModel, coreErr
}

// Resolver opens a package (tarball or folder) and returns a resolve
// function over its resources by canonical URL.
func Resolver(path string) (func(url string) (map[string]any, bool), error) {
	p, err := packages.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open core package: %w", err)
	}
	return packages.NewSet(p).ResolveJSON, nil
}

// ReadPackage returns the raw content of a package's resources whose file
// name starts with prefix (all when prefix is empty), by file name.
func ReadPackage(path, prefix string) (map[string][]byte, error) {
	p, err := packages.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open package: %w", err)
	}
	out := make(map[string][]byte, len(p.Resources))
	for _, r := range p.Resources {
		name := r.File[strings.LastIndexByte(r.File, '/')+1:]
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		data, err := r.Bytes()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", r, err)
		}
		out[name] = data
	}
	return out, nil
}
