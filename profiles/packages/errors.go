package packages

import (
	"errors"
	"fmt"
)

// Size limits applied to every package source. A file or package over a limit
// is rejected with a TooLargeError naming it.
const (
	// MaxFileSize is the largest single file read from a package (64 MiB).
	MaxFileSize int64 = 64 << 20
	// MaxPackageSize is the largest total uncompressed size of a package (1 GiB).
	MaxPackageSize int64 = 1 << 30
	// MaxTarballSize is the largest compressed tarball accepted, from a file or a registry (256 MiB).
	MaxTarballSize int64 = 256 << 20
	// MaxEntries is the largest number of files in one package.
	MaxEntries = 200_000
	// MaxManifestSize is the largest package.json or .index.json accepted (32 MiB).
	MaxManifestSize int64 = 32 << 20
)

// ErrNoManifest means a package has no package.json.
var ErrNoManifest = errors.New("no package.json")

// ErrNoXMLDecoder means an XML resource cannot be converted because its
// package is not in a Set holding the FHIR base definitions (hl7.fhir.r4.core)
// or another XML decoder.
var ErrNoXMLDecoder = errors.New("convert xml: no hl7.fhir.r4.core base definitions in the package set")

// FileError is a failure to read or parse one file; Path names the file.
type FileError struct {
	Path string
	Err  error
}

// Error implements error.
func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

// UnsafeEntryError is a tarball entry that would escape the package or is not
// a regular file or folder (symlink, hard link, device, fifo).
type UnsafeEntryError struct {
	Entry  string
	Reason string
}

// Error implements error.
func (e *UnsafeEntryError) Error() string {
	return fmt.Sprintf("unsafe tarball entry %q: %s", e.Entry, e.Reason)
}

// TooLargeError is a file or package over a size limit.
type TooLargeError struct {
	Size  int64
	Limit int64
}

// Error implements error.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("too large: %d bytes, over the limit of %d bytes", e.Size, e.Limit)
}

// NotInstalledError means a package is not in the FHIR package cache.
type NotInstalledError struct {
	Name, Version string
	Dir           string
}

// Error implements error.
func (e *NotInstalledError) Error() string {
	return fmt.Sprintf("package %s#%s is not installed in %s (run 'conform packages install %s#%s')", e.Name, e.Version, e.Dir, e.Name, e.Version)
}

// WarningKind classifies a Warning.
type WarningKind string

// Warning kinds.
const (
	// WarnDuplicateCanonical: the same canonical URL is defined more than once.
	WarnDuplicateCanonical WarningKind = "duplicate-canonical"
	// WarnUnresolvedDependency: a dependency named in package.json is not available.
	WarnUnresolvedDependency WarningKind = "unresolved-dependency"
	// WarnSkippedFile: a file in a package is not a FHIR resource and was skipped.
	WarnSkippedFile WarningKind = "skipped-file"
	// WarnDuplicatePackage: the same name#version was added twice; the second is ignored.
	WarnDuplicatePackage WarningKind = "duplicate-package"
	// WarnSkippedDependency: a dependency was found but not loaded (another FHIR version).
	WarnSkippedDependency WarningKind = "skipped-dependency"
)

// Warning is a finding about a package set that does not stop loading.
type Warning struct {
	Kind WarningKind `json:"kind"`
	// Package is name#version of the package concerned.
	Package string `json:"package,omitempty"`
	// Subject names what the warning is about: a file, a canonical URL or a
	// dependency as name#version.
	Subject string `json:"subject"`
	Message string `json:"message"`
}

// String returns the warning as one line: kind, package (when known),
// subject and message.
func (w Warning) String() string {
	s := string(w.Kind)
	if w.Package != "" {
		s += " in " + w.Package
	}
	return s + ": " + w.Subject + ": " + w.Message
}
