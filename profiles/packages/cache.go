package packages

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Cache is a FHIR package cache folder laid out as Dir/name#version/package/.
type Cache struct{ Dir string }

// DefaultCache returns the cache named by CONFORM_FHIR_CACHE, else
// ~/.fhir/packages.
func DefaultCache(getenv func(string) string) Cache {
	if d := getenv("CONFORM_FHIR_CACHE"); d != "" {
		return Cache{Dir: d}
	}
	home := getenv("HOME")
	if home == "" {
		home = getenv("USERPROFILE")
	}
	if home == "" {
		if h, err := os.UserHomeDir(); err == nil {
			home = h
		}
	}
	return Cache{Dir: filepath.Join(home, ".fhir", "packages")}
}

// ParseRef splits name#version, checking both parts.
func ParseRef(ref string) (name, version string, err error) {
	name, version, ok := strings.Cut(ref, "#")
	if !ok {
		return "", "", fmt.Errorf("package reference %q is not name#version", ref)
	}
	if !ValidName(name) {
		return "", "", fmt.Errorf("package reference %q: invalid package name", ref)
	}
	if !ValidVersion(version) {
		return "", "", fmt.Errorf("package reference %q: invalid version", ref)
	}
	return name, version, nil
}

func (c Cache) folder(name, version string) string {
	return filepath.Join(c.Dir, name+"#"+version)
}

// Has reports whether name#version is installed.
func (c Cache) Has(name, version string) bool {
	if !ValidName(name) || !ValidVersion(version) {
		return false
	}
	return fileExists(filepath.Join(c.folder(name, version), "package", manifestFile))
}

// Open reads the installed package name#version.
func (c Cache) Open(name, version string) (*Package, error) {
	if !ValidName(name) || !ValidVersion(version) {
		return nil, fmt.Errorf("open package %s#%s: invalid package name or version", name, version)
	}
	if !c.Has(name, version) {
		return nil, &NotInstalledError{Name: name, Version: version, Dir: c.Dir}
	}
	dir := c.folder(name, version)
	p, err := openPackageDir(filepath.Join(dir, "package"), dir)
	if err != nil {
		return nil, fmt.Errorf("open package %s#%s: %w", name, version, err)
	}
	if p.Name != name || p.Version != version {
		return nil, fmt.Errorf("open package %s#%s: %s holds %s", name, version, dir, p.ID())
	}
	return p, nil
}

// Ref is an installed package's identity.
type Ref struct{ Name, Version string }

// String returns name#version.
func (r Ref) String() string { return r.Name + "#" + r.Version }

// List returns the installed packages, sorted by name then version.
func (c Cache) List() ([]Ref, error) {
	entries, err := os.ReadDir(c.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list package cache: %w", err)
	}
	var refs []Ref
	for _, de := range entries {
		if !de.IsDir() || strings.HasPrefix(de.Name(), ".") {
			continue
		}
		name, version, err := ParseRef(de.Name())
		if err != nil || !c.Has(name, version) {
			continue
		}
		refs = append(refs, Ref{Name: name, Version: version})
	}
	sort.Slice(refs, func(i, j int) bool {
		if refs[i].Name != refs[j].Name {
			return refs[i].Name < refs[j].Name
		}
		return CompareVersions(refs[i].Version, refs[j].Version) < 0
	})
	return refs, nil
}

// Versions returns the installed versions of a package, oldest first.
func (c Cache) Versions(name string) ([]string, error) {
	refs, err := c.List()
	if err != nil {
		return nil, err
	}
	var vs []string
	for _, r := range refs {
		if r.Name == name {
			vs = append(vs, r.Version)
		}
	}
	return vs, nil
}

// InstallOptions controls Cache.Install.
type InstallOptions struct {
	// Replace overwrites an installed package of the same name#version.
	Replace bool
}

// InstallResult says what Install wrote.
type InstallResult struct {
	Ref Ref
	// Dir is the package's folder in the cache.
	Dir string
	// Resources is the number of resource files written.
	Resources int
	// Converted is the number of XML resources written as JSON.
	Converted int
	// KeptXML is the number of XML resources written as XML because no XML
	// decoder was available.
	KeptXML int
	// AlreadyInstalled is set when the package was present and not replaced.
	AlreadyInstalled bool
}

// Install writes p into the cache as name#version/package with its
// package.json, one file per resource and a generated .index.json. XML
// resources are converted to JSON when p belongs to a Set with an XML
// decoder, and kept as XML otherwise. It writes into a temporary folder in
// the cache and renames it into place.
func (c Cache) Install(p *Package, opts InstallOptions) (InstallResult, error) {
	res, err := c.install(p, opts)
	if err != nil {
		return res, fmt.Errorf("install %s into %s: %w", p.ID(), c.Dir, err)
	}
	return res, nil
}

func (c Cache) install(p *Package, opts InstallOptions) (InstallResult, error) {
	res := InstallResult{Ref: Ref{Name: p.Name, Version: p.Version}}
	if !ValidName(p.Name) || !ValidVersion(p.Version) {
		return res, errors.New("invalid package name or version")
	}
	final := c.folder(p.Name, p.Version)
	res.Dir = final
	if c.Has(p.Name, p.Version) && !opts.Replace {
		res.AlreadyInstalled = true
		return res, nil
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return res, err
	}
	tmp, err := os.MkdirTemp(c.Dir, ".install-"+p.Name+"-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(tmp)
	pkgDir := filepath.Join(tmp, "package")
	if err := os.Mkdir(pkgDir, 0o755); err != nil {
		return res, err
	}
	manifest := p.manifest
	if manifest == nil {
		manifest, err = json.MarshalIndent(Manifest{Name: p.Name, Version: p.Version, FHIRVersions: p.FHIRVersions, Dependencies: p.Dependencies}, "", "  ")
		if err != nil {
			return res, err
		}
	}
	if err := os.WriteFile(filepath.Join(pkgDir, manifestFile), manifest, 0o644); err != nil {
		return res, err
	}
	canConvert := p.owner() != nil && p.owner().hasXMLDecoder()
	used := map[string]bool{manifestFile: true, indexFile: true}
	jobs := make([]installJob, len(p.Resources))
	for i, r := range p.Resources {
		format := r.Format
		if format == FormatXML && canConvert {
			format = FormatJSON
		}
		jobs[i] = installJob{r: r, format: format, name: installName(r, format, used)}
		switch {
		case r.Format == FormatXML && format == FormatJSON:
			res.Converted++
		case r.Format == FormatXML:
			res.KeptXML++
		}
	}
	idx := Index{IndexVersion: 2, Files: make([]IndexEntry, len(jobs))}
	err = forEach(len(jobs), installWorkers, func(i int) error {
		entry, err := jobs[i].write(pkgDir)
		idx.Files[i] = entry
		return err
	})
	if err != nil {
		return res, err
	}
	res.Resources = len(jobs)
	idxData, err := json.MarshalIndent(idx, "", " ")
	if err != nil {
		return res, err
	}
	if err := os.WriteFile(filepath.Join(pkgDir, indexFile), idxData, 0o644); err != nil {
		return res, err
	}
	if _, err := os.Stat(final); err == nil {
		old := tmp + ".old"
		if err := os.Rename(final, old); err != nil {
			return res, err
		}
		if err := os.Rename(tmp, final); err != nil {
			_ = os.Rename(old, final)
			return res, err
		}
		return res, os.RemoveAll(old)
	}
	if err := os.Rename(tmp, final); err != nil {
		return res, err
	}
	return res, nil
}

// installWorkers is how many resources Install converts and writes at once;
// writing many small files is bound by file-system latency.
const installWorkers = 8

type installJob struct {
	r      *Resource
	format Format
	name   string
}

// write writes one resource file and returns its index entry. The entry
// comes from the package's index or peek, except that a StructureDefinition
// indexed without derivation is peeked again so the new index carries it.
func (j installJob) write(dir string) (IndexEntry, error) {
	r := j.r
	var data []byte
	var err error
	if r.Format == j.format {
		data, err = r.Bytes()
	} else {
		var m map[string]any
		if m, err = r.JSON(); err == nil {
			if data, err = MarshalResource(m); err != nil {
				err = &FileError{Path: r.String(), Err: err}
			}
		}
	}
	if err != nil {
		return IndexEntry{}, err
	}
	entry := IndexEntry{Filename: j.name, Summary: r.Summary}
	if j.format == FormatJSON && r.ResourceType == "StructureDefinition" && r.Derivation == "" {
		s, err := PeekJSON(data)
		if err != nil {
			return IndexEntry{}, &FileError{Path: r.String(), Err: err}
		}
		entry = IndexEntry{Filename: j.name, Summary: s}
	}
	if err := os.WriteFile(filepath.Join(dir, j.name), data, 0o644); err != nil {
		return IndexEntry{}, err
	}
	return entry, nil
}

// forEach runs fn(0..n-1) on up to workers goroutines and returns the first
// error; after an error no new index is started.
func forEach(n, workers int, fn func(i int) error) error {
	var (
		mu       sync.Mutex
		firstErr error
		next     int
		wg       sync.WaitGroup
	)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if firstErr != nil || next >= n {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				if err := fn(i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// MarshalResource encodes a resource as indented JSON with resourceType first.
func MarshalResource(m map[string]any) ([]byte, error) {
	rest := make(map[string]any, len(m))
	for k, v := range m {
		if k != "resourceType" {
			rest[k] = v
		}
	}
	body, err := json.MarshalIndent(rest, "", "  ")
	if err != nil {
		return nil, err
	}
	rt, err := json.Marshal(m["resourceType"])
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("{\n  \"resourceType\": ")
	b.Write(rt)
	if len(body) > 2 {
		b.WriteString(",")
		b.Write(body[1:])
	} else {
		b.WriteString("\n}")
	}
	b.WriteString("\n")
	return b.Bytes(), nil
}

func installName(r *Resource, format Format, used map[string]bool) string {
	ext := "." + format.String()
	base := path.Base(r.File)
	if strings.Contains(r.File, "/") || r.Format != format {
		stem := r.ResourceType
		if r.ID != "" {
			stem += "-" + r.ID
		} else {
			stem += "-" + strings.TrimSuffix(base, path.Ext(base))
		}
		base = stem + ext
	}
	base = sanitizeFileName(base)
	name := base
	for i := 2; used[strings.ToLower(name)]; i++ {
		name = fmt.Sprintf("%s-%d%s", strings.TrimSuffix(base, path.Ext(base)), i, path.Ext(base))
	}
	used[strings.ToLower(name)] = true
	return name
}

func sanitizeFileName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	s := strings.TrimLeft(b.String(), ".")
	if s == "" {
		s = "resource"
	}
	return s
}
