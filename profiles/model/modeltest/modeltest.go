// Package modeltest builds the FHIR R4 type model from the core package in the
// shared data folder, for the tests and benchmarks of packages that need it.
package modeltest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/model"
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

// Resolver reads the StructureDefinitions of a package tarball and returns a
// resolve function by canonical URL, decoding each definition on demand.
func Resolver(path string) (func(url string) (map[string]any, bool), error) {
	files, err := ReadPackage(path, "StructureDefinition-")
	if err != nil {
		return nil, err
	}
	byURL := map[string][]byte{}
	for _, data := range files {
		var head struct {
			URL string `json:"url"`
		}
		if err := json.Unmarshal(data, &head); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		byURL[head.URL] = data
	}
	var mu sync.Mutex
	return func(url string) (map[string]any, bool) {
		mu.Lock()
		data, ok := byURL[url]
		mu.Unlock()
		if !ok {
			return nil, false
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var sd map[string]any
		if err := dec.Decode(&sd); err != nil {
			return nil, false
		}
		return sd, true
	}, nil
}

// ReadPackage returns the JSON files of a package tarball whose base name
// starts with prefix (all when prefix is empty), by base name.
func ReadPackage(path, prefix string) (map[string][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open package: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read package %s: %w", path, err)
	}
	tr := tar.NewReader(gz)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read package %s: %w", path, err)
		}
		name := filepath.Base(h.Name)
		if h.Typeflag != tar.TypeReg || !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") || name == "package.json" || !strings.HasPrefix(name, prefix) {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("read %s in %s: %w", name, path, err)
		}
		out[name] = data
	}
}
