package packages

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

const (
	manifestFile = "package.json"
	indexFile    = ".index.json"
)

// Open reads a package from src: an npm-format package tarball (.tgz), an
// unpacked package folder (holding package/package.json, or package.json
// with .index.json), an IG source folder (package.json at the top and JSON or
// XML resources in any sub-folder layout) or a single resource file.
func Open(src string) (*Package, error) {
	p, err := open(src)
	if err != nil {
		return nil, fmt.Errorf("open package %s: %w", src, err)
	}
	return p, nil
}

func open(src string) (*Package, error) {
	st, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return openDir(src)
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file or folder")
	}
	f, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		if st.Size() > MaxTarballSize {
			return nil, &TooLargeError{Size: st.Size(), Limit: MaxTarballSize}
		}
		return readTarball(br, src)
	}
	if st.Size() > MaxFileSize {
		return nil, &TooLargeError{Size: st.Size(), Limit: MaxFileSize}
	}
	return openFile(src, br)
}

// OpenTarball reads an npm-format package tarball (gzip-compressed tar with
// package/package.json) from r; source names it in the Package and errors.
func OpenTarball(r io.Reader, source string) (*Package, error) {
	p, err := readTarball(r, source)
	if err != nil {
		return nil, fmt.Errorf("open package %s: %w", source, err)
	}
	return p, nil
}

func openFile(src string, r io.Reader) (*Package, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > MaxFileSize {
		return nil, &TooLargeError{Size: int64(len(data)), Limit: MaxFileSize}
	}
	name := filepath.Base(src)
	format := formatOf(name, data)
	s, err := peek(format, data)
	if err != nil {
		return nil, err
	}
	p := &Package{Name: name, Version: "local", Source: src}
	res := s.resource(name, format)
	res.data = data
	res.Package = p
	p.Resources = []*Resource{res}
	return p, nil
}

func formatOf(name string, data []byte) Format {
	switch strings.ToLower(path.Ext(name)) {
	case ".xml":
		return FormatXML
	case ".json":
		return FormatJSON
	}
	return sniffFormat(data)
}

func resourceFileName(name string) bool {
	if strings.HasPrefix(name, ".") || name == manifestFile || name == "fhirpkg.lock.json" {
		return false
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".json", ".xml":
		return true
	}
	return false
}

func openDir(dir string) (*Package, error) {
	if fileExists(filepath.Join(dir, "package", manifestFile)) {
		return openPackageDir(filepath.Join(dir, "package"), dir)
	}
	if !fileExists(filepath.Join(dir, manifestFile)) {
		return nil, ErrNoManifest
	}
	if fileExists(filepath.Join(dir, indexFile)) {
		return openPackageDir(dir, dir)
	}
	return openSourceDir(dir)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func readManifestFile(p, source string) (*Package, error) {
	data, err := readFileLimited(p, MaxManifestSize)
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, &FileError{Path: p, Err: err}
	}
	return newPackage(m, data, source), nil
}

func newPackage(m Manifest, raw []byte, source string) *Package {
	return &Package{Name: m.Name, Version: m.Version, Dependencies: m.Dependencies, FHIRVersions: m.FHIRVersions, Source: source, manifest: raw}
}

// openPackageDir reads an unpacked package whose package.json, .index.json
// and resources sit directly in root.
func openPackageDir(root, source string) (*Package, error) {
	p, err := readManifestFile(filepath.Join(root, manifestFile), source)
	if err != nil {
		return nil, err
	}
	indexPath := filepath.Join(root, indexFile)
	if fileExists(indexPath) {
		data, err := readFileLimited(indexPath, MaxManifestSize)
		if err != nil {
			return nil, err
		}
		idx, err := ParseIndex(data)
		if err != nil {
			return nil, &FileError{Path: indexPath, Err: err}
		}
		p.Resources = make([]*Resource, 0, len(idx.Files))
		for _, e := range idx.Files {
			r := e.resource(formatOf(e.Filename, nil))
			r.path = filepath.Join(root, e.Filename)
			r.Package = p
			p.Resources = append(p.Resources, r)
		}
		return p, nil
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	if len(entries) > MaxEntries {
		return nil, fmt.Errorf("%s holds %d entries, over the limit of %d", root, len(entries), MaxEntries)
	}
	var total int64
	for _, de := range entries {
		if de.IsDir() || !resourceFileName(de.Name()) {
			continue
		}
		if err := p.addFile(root, de.Name(), de, &total); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// publisherOutputDirs are the top-level folders of an IG Publisher project
// (one with ig.ini or sushi-config.yaml) that hold its output, caches and
// template rather than the guide's sources.
var publisherOutputDirs = map[string]bool{"output": true, "temp": true, "template": true, "input-cache": true}

// openSourceDir reads an IG source folder: package.json at the top and
// resources in any sub-folder.
func openSourceDir(dir string) (*Package, error) {
	p, err := readManifestFile(filepath.Join(dir, manifestFile), dir)
	if err != nil {
		return nil, err
	}
	return p, p.addFolder(dir)
}

// OpenFolder reads every JSON and XML resource under dir, in any sub-folder
// layout, as a local package named after the folder (name#local), for
// resources kept loose rather than as a package (a set of code systems, a
// folder of profiles). A folder that is a package is read as Open reads it.
func OpenFolder(dir string) (*Package, error) {
	p, err := Open(dir)
	if !errors.Is(err, ErrNoManifest) {
		return p, err
	}
	if st, serr := os.Stat(dir); serr != nil || !st.IsDir() {
		return p, err
	}
	p = &Package{Name: filepath.Base(filepath.Clean(dir)), Version: "local", Source: dir}
	if err := p.addFolder(dir); err != nil {
		return nil, fmt.Errorf("open folder %s: %w", dir, err)
	}
	if len(p.Resources) == 0 {
		return nil, fmt.Errorf("open folder %s: no package.json and no FHIR resources", dir)
	}
	return p, nil
}

// addFolder adds every resource file under dir to p, skipping hidden
// folders, node_modules and an IG Publisher project's output folders.
func (p *Package) addFolder(dir string) error {
	var total int64
	count := 0
	publisher := fileExists(filepath.Join(dir, "ig.ini")) || fileExists(filepath.Join(dir, "sushi-config.yaml"))
	return filepath.WalkDir(dir, func(full string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, rerr := filepath.Rel(dir, full)
		if rerr != nil {
			return rerr
		}
		rel = filepath.ToSlash(rel)
		if de.IsDir() {
			if rel != "." && (strings.HasPrefix(de.Name(), ".") || de.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if publisher && publisherOutputDirs[rel] {
				return filepath.SkipDir
			}
			return nil
		}
		if !resourceFileName(de.Name()) {
			return nil
		}
		count++
		if count > MaxEntries {
			return fmt.Errorf("%s holds more than %d files", dir, MaxEntries)
		}
		return p.addFile(dir, rel, de, &total)
	})
}

// addFile reads, peeks and adds one resource file of a folder package; rel is
// relative to root with forward slashes.
func (p *Package) addFile(root, rel string, de fs.DirEntry, total *int64) error {
	full := filepath.Join(root, filepath.FromSlash(rel))
	if !de.Type().IsRegular() {
		p.Warnings = append(p.Warnings, Warning{Kind: WarnSkippedFile, Package: p.ID(), Subject: rel, Message: "not a regular file"})
		return nil
	}
	data, err := readFileLimited(full, MaxFileSize)
	if err != nil {
		return err
	}
	*total += int64(len(data))
	if *total > MaxPackageSize {
		return &FileError{Path: full, Err: fmt.Errorf("package %w", &TooLargeError{Size: *total, Limit: MaxPackageSize})}
	}
	r, err := p.addPeeked(rel, full, data)
	if r != nil {
		r.path = full
	}
	return err
}

// addPeeked indexes data, the content of the package file rel, as a resource
// of p; a well-formed file that is not a resource is skipped with a warning.
// at names the file in errors.
func (p *Package) addPeeked(rel, at string, data []byte) (*Resource, error) {
	format := formatOf(rel, data)
	s, err := peek(format, data)
	if errors.Is(err, ErrNotResource) {
		p.Warnings = append(p.Warnings, Warning{Kind: WarnSkippedFile, Package: p.ID(), Subject: rel, Message: err.Error()})
		return nil, nil
	}
	if err != nil {
		return nil, &FileError{Path: at, Err: err}
	}
	r := s.resource(rel, format)
	r.Package = p
	p.Resources = append(p.Resources, r)
	return r, nil
}

// tarFile is a file kept from a tarball: one in the package's root folder.
type tarFile struct {
	name string
	data []byte
}

func readTarball(r io.Reader, source string) (*Package, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("read tarball: %w", err)
	}
	defer gz.Close()
	tr := tar.NewReader(io.LimitReader(gz, MaxPackageSize+1<<20))
	var files []tarFile
	var total int64
	entries := 0
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read tarball: %w", err)
		}
		entries++
		if entries > MaxEntries {
			return nil, fmt.Errorf("read tarball: more than %d entries", MaxEntries)
		}
		name, err := checkEntry(h)
		if err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeDir {
			continue
		}
		if seen[name] {
			return nil, &UnsafeEntryError{Entry: h.Name, Reason: "duplicate entry"}
		}
		seen[name] = true
		if h.Size < 0 {
			return nil, &UnsafeEntryError{Entry: h.Name, Reason: "negative size"}
		}
		if h.Size > MaxFileSize {
			return nil, &FileError{Path: h.Name, Err: &TooLargeError{Size: h.Size, Limit: MaxFileSize}}
		}
		total += h.Size
		if total > MaxPackageSize {
			return nil, &FileError{Path: h.Name, Err: fmt.Errorf("package %w", &TooLargeError{Size: total, Limit: MaxPackageSize})}
		}
		keep := name == "package/"+manifestFile || name == "package/"+indexFile || name == manifestFile || name == indexFile ||
			(strings.Count(name, "/") <= 1 && resourceFileName(path.Base(name)))
		if !keep {
			if _, err := io.Copy(io.Discard, tr); err != nil {
				return nil, fmt.Errorf("read tarball entry %s: %w", h.Name, err)
			}
			continue
		}
		data := make([]byte, h.Size)
		if _, err := io.ReadFull(tr, data); err != nil {
			return nil, fmt.Errorf("read tarball entry %s: %w", h.Name, err)
		}
		files = append(files, tarFile{name: name, data: data})
	}
	return packageFromTarFiles(files, source)
}

// checkEntry rejects entries that escape the package or are not regular
// files or folders, and returns the cleaned entry name.
func checkEntry(h *tar.Header) (string, error) {
	raw := h.Name
	if raw == "" {
		return "", &UnsafeEntryError{Entry: raw, Reason: "empty name"}
	}
	if strings.ContainsRune(raw, 0) {
		return "", &UnsafeEntryError{Entry: raw, Reason: "name contains NUL"}
	}
	slashed := strings.ReplaceAll(raw, "\\", "/")
	if strings.HasPrefix(slashed, "/") || (len(slashed) > 1 && slashed[1] == ':') {
		return "", &UnsafeEntryError{Entry: raw, Reason: "absolute path"}
	}
	for _, el := range strings.Split(slashed, "/") {
		if el == ".." {
			return "", &UnsafeEntryError{Entry: raw, Reason: "path contains .."}
		}
	}
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeDir:
	case tar.TypeSymlink:
		return "", &UnsafeEntryError{Entry: raw, Reason: "symbolic link"}
	case tar.TypeLink:
		return "", &UnsafeEntryError{Entry: raw, Reason: "hard link"}
	case tar.TypeChar, tar.TypeBlock:
		return "", &UnsafeEntryError{Entry: raw, Reason: "device file"}
	case tar.TypeFifo:
		return "", &UnsafeEntryError{Entry: raw, Reason: "named pipe"}
	default:
		return "", &UnsafeEntryError{Entry: raw, Reason: fmt.Sprintf("unsupported entry type %q", h.Typeflag)}
	}
	clean := path.Clean(slashed)
	if clean == "." {
		return clean, nil
	}
	return strings.TrimPrefix(clean, "./"), nil
}

func packageFromTarFiles(files []tarFile, source string) (*Package, error) {
	root := "package/"
	byName := make(map[string][]byte, len(files))
	for _, f := range files {
		byName[f.name] = f.data
	}
	if _, ok := byName[root+manifestFile]; !ok {
		if _, ok := byName[manifestFile]; !ok {
			return nil, fmt.Errorf("%w in package/ or at the top of the tarball", ErrNoManifest)
		}
		root = ""
	}
	m, err := ParseManifest(byName[root+manifestFile])
	if err != nil {
		return nil, &FileError{Path: root + manifestFile, Err: err}
	}
	p := newPackage(m, byName[root+manifestFile], source)
	if idxData, ok := byName[root+indexFile]; ok {
		idx, err := ParseIndex(idxData)
		if err != nil {
			return nil, &FileError{Path: root + indexFile, Err: err}
		}
		p.Resources = make([]*Resource, 0, len(idx.Files))
		for _, e := range idx.Files {
			data, ok := byName[root+e.Filename]
			if !ok {
				p.Warnings = append(p.Warnings, Warning{Kind: WarnSkippedFile, Package: p.ID(), Subject: e.Filename, Message: "listed in .index.json but not in the tarball"})
				continue
			}
			r := e.resource(formatOf(e.Filename, data))
			r.data = data
			r.Package = p
			p.Resources = append(p.Resources, r)
		}
		return p, nil
	}
	names := make([]string, 0, len(files))
	for _, f := range files {
		if strings.HasPrefix(f.name, root) && !strings.Contains(f.name[len(root):], "/") && resourceFileName(path.Base(f.name)) {
			names = append(names, f.name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		data := byName[name]
		r, err := p.addPeeked(name[len(root):], name, data)
		if err != nil {
			return nil, err
		}
		if r != nil {
			r.data = data
		}
	}
	return p, nil
}
