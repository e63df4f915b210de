// Package packages owns how conform reads FHIR packages: npm-format package
// tarballs, unpacked package folders, IG source folders of loose JSON or XML
// resources, single resource files and the FHIR package cache; the canonical
// index over a set of packages; installing packages into the cache from files
// or from an npm-compatible FHIR package registry.
//
// Packages are indexed first (from .index.json where present) and each
// resource is parsed on first use, so loading large packages stays fast.
package packages

import (
	"errors"
	"fmt"
	"github.com/nhsconform/conform/profiles/fhirjson"
	"io"
	"os"
	"sync"
)

// Package is one FHIR package: its identity from package.json and its
// resources.
type Package struct {
	Name         string
	Version      string
	Dependencies map[string]string
	FHIRVersions []string
	// Source is where the package was read from (a file, a folder or a URL).
	Source    string
	Resources []*Resource
	// Warnings lists files that were skipped while reading the package.
	Warnings []Warning

	manifest []byte
	mu       sync.Mutex
	set      *Set
}

// ID returns the package identity as name#version.
func (p *Package) ID() string { return p.Name + "#" + p.Version }

func (p *Package) owner() *Set {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.set
}

func (p *Package) setOwner(s *Set) {
	p.mu.Lock()
	p.set = s
	p.mu.Unlock()
}

// Format is the serialisation of a resource file.
type Format int

// Resource file formats.
const (
	FormatJSON Format = iota
	FormatXML
)

// String returns "json" or "xml".
func (f Format) String() string {
	if f == FormatXML {
		return "xml"
	}
	return "json"
}

// Resource is one resource of a package, indexed by its top-level identity
// fields; its content is read and decoded on first use.
type Resource struct {
	Summary
	// File is the resource's path inside its package, with forward slashes.
	File    string
	Package *Package
	// Format is the serialisation of the file.
	Format Format

	data []byte
	path string

	once    sync.Once
	decoded map[string]any
	err     error
}

// Canonical returns url|version, or url alone when the resource has no version.
func (r *Resource) Canonical() string {
	if r.Version == "" {
		return r.URL
	}
	return r.URL + "|" + r.Version
}

// String names the resource for messages as name#version:file.
func (r *Resource) String() string {
	pkg := ""
	if r.Package != nil {
		pkg = r.Package.ID() + ":"
	}
	return pkg + r.File
}

// Bytes returns the raw content of the resource file (JSON or XML).
func (r *Resource) Bytes() ([]byte, error) {
	if r.data != nil {
		return r.data, nil
	}
	if r.path == "" {
		return nil, fmt.Errorf("read %s: no content", r.File)
	}
	data, err := readFileLimited(r.path, MaxFileSize)
	if err != nil {
		return nil, err
	}
	return data, nil
}

// JSON returns the resource decoded into the shared in-memory shape
// (map[string]any with json.Number numbers). It is decoded once and cached;
// it is safe for concurrent use. An XML resource is converted with the XML
// decoder of the Set its package belongs to. Callers must not modify the map.
func (r *Resource) JSON() (map[string]any, error) {
	r.once.Do(func() {
		r.decoded, r.err = r.decode()
	})
	return r.decoded, r.err
}

func (r *Resource) decode() (map[string]any, error) {
	data, err := r.Bytes()
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if r.Format == FormatXML {
		var s *Set
		if r.Package != nil {
			s = r.Package.owner()
		}
		if s == nil {
			return nil, &FileError{Path: r.String(), Err: ErrNoXMLDecoder}
		}
		m, err = s.decodeXML(data)
		if err != nil {
			return nil, &FileError{Path: r.String(), Err: fmt.Errorf("convert xml: %w", err)}
		}
	} else {
		m, err = DecodeJSON(data)
		if err != nil {
			return nil, &FileError{Path: r.String(), Err: err}
		}
	}
	if rt, _ := m["resourceType"].(string); rt != r.ResourceType {
		return nil, &FileError{Path: r.String(), Err: fmt.Errorf("resourceType is %q, index says %q", rt, r.ResourceType)}
	}
	return m, nil
}

// DecodeJSON decodes one JSON object (after an optional UTF-8 byte order
// mark) into the shared in-memory shape with profiles/fhirjson, rejecting
// trailing data, duplicate keys and invalid UTF-8.
func DecodeJSON(data []byte) (map[string]any, error) {
	m, err := fhirjson.DecodeObject(data)
	if errors.Is(err, fhirjson.ErrNotObject) {
		return nil, errors.New("malformed json: not an object")
	}
	var se *fhirjson.SyntaxError
	if errors.As(err, &se) && se.Kind == fhirjson.KindTrailingData {
		return nil, fmt.Errorf("malformed json: data after the object at line %d, column %d", se.Line, se.Column)
	}
	if err != nil {
		return nil, fmt.Errorf("malformed json: %w", err)
	}
	return m, nil
}

func readFileLimited(path string, limit int64) ([]byte, error) {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return nil, &FileError{Path: path, Err: errors.New("not a regular file")}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	if !st.Mode().IsRegular() {
		return nil, &FileError{Path: path, Err: errors.New("not a regular file")}
	}
	if st.Size() > limit {
		return nil, &FileError{Path: path, Err: &TooLargeError{Size: st.Size(), Limit: limit}}
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	if int64(len(data)) > limit {
		return nil, &FileError{Path: path, Err: &TooLargeError{Size: int64(len(data)), Limit: limit}}
	}
	return data, nil
}
