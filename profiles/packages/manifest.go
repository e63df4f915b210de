package packages

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Manifest is the part of package.json that conform uses.
type Manifest struct {
	Name         string            `json:"name"`
	Version      string            `json:"version"`
	FHIRVersions []string          `json:"fhirVersions,omitempty"`
	Dependencies map[string]string `json:"dependencies,omitempty"`
}

var (
	namePattern    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._\-]{0,213}$`)
	versionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._\-+]{0,127}$`)
)

// ValidName reports whether name is a package name conform accepts: letters,
// digits, '.', '_' and '-', starting with a letter or digit.
func ValidName(name string) bool {
	return namePattern.MatchString(name) && !strings.Contains(name, "..")
}

// ValidVersion reports whether version is a package version conform accepts.
func ValidVersion(version string) bool {
	return versionPattern.MatchString(version) && !strings.Contains(version, "..")
}

// ParseManifest parses package.json content and checks the package identity.
func ParseManifest(data []byte) (Manifest, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(trimBOM(data), &fields); err != nil {
		return Manifest{}, fmt.Errorf("malformed package.json: %w", err)
	}
	raw := struct{ FHIRVersions, Dependencies json.RawMessage }{fields["fhirVersions"], fields["dependencies"]}
	m := Manifest{Name: rawString(fields["name"]), Version: rawString(fields["version"])}
	if m.Name == "" {
		return Manifest{}, errors.New("package.json has no name")
	}
	if !ValidName(m.Name) {
		return Manifest{}, fmt.Errorf("package.json name %q is not a valid package name", m.Name)
	}
	if m.Version == "" {
		return Manifest{}, fmt.Errorf("package.json of %s has no version", m.Name)
	}
	if !ValidVersion(m.Version) {
		return Manifest{}, fmt.Errorf("package.json version %q of %s is not a valid version", m.Version, m.Name)
	}
	if len(raw.FHIRVersions) > 0 && string(raw.FHIRVersions) != "null" {
		if err := json.Unmarshal(raw.FHIRVersions, &m.FHIRVersions); err != nil {
			return Manifest{}, fmt.Errorf("package.json fhirVersions: %w", err)
		}
	}
	if len(raw.Dependencies) > 0 && string(raw.Dependencies) != "null" {
		if err := json.Unmarshal(raw.Dependencies, &m.Dependencies); err != nil {
			return Manifest{}, fmt.Errorf("package.json dependencies: %w", err)
		}
		for name, version := range m.Dependencies {
			if !ValidName(name) {
				return Manifest{}, fmt.Errorf("package.json dependency name %q is not a valid package name", name)
			}
			if version == "" {
				return Manifest{}, fmt.Errorf("package.json dependency %s has no version", name)
			}
		}
	}
	return m, nil
}

// IndexEntry is one entry of a package's .index.json.
type IndexEntry struct {
	Filename string `json:"filename"`
	Summary
}

// Index is the content of a package's .index.json.
type Index struct {
	IndexVersion int          `json:"index-version"`
	Files        []IndexEntry `json:"files"`
}

type rawIndex struct {
	IndexVersion int `json:"index-version"`
	Files        []struct {
		Filename     json.RawMessage `json:"filename"`
		ResourceType json.RawMessage `json:"resourceType"`
		ID           json.RawMessage `json:"id"`
		URL          json.RawMessage `json:"url"`
		Version      json.RawMessage `json:"version"`
		Name         json.RawMessage `json:"name"`
		Kind         json.RawMessage `json:"kind"`
		Type         json.RawMessage `json:"type"`
		Derivation   json.RawMessage `json:"derivation"`
	} `json:"files"`
}

// ParseIndex parses .index.json content; every filename must be a plain file
// name inside the package folder. Non-string values of identity fields are
// read as empty; a filename listed again is ignored.
func ParseIndex(data []byte) (Index, error) {
	var raw rawIndex
	if err := json.Unmarshal(data, &raw); err != nil {
		return Index{}, fmt.Errorf("malformed .index.json: %w", err)
	}
	idx := Index{IndexVersion: raw.IndexVersion, Files: make([]IndexEntry, 0, len(raw.Files))}
	seen := make(map[string]bool, len(raw.Files))
	for _, f := range raw.Files {
		filename := rawString(f.Filename)
		if seen[filename] {
			continue
		}
		seen[filename] = true
		idx.Files = append(idx.Files, IndexEntry{Filename: filename, Summary: Summary{
			ResourceType: rawString(f.ResourceType), ID: rawString(f.ID), URL: rawString(f.URL), Version: rawString(f.Version),
			Name: rawString(f.Name), Kind: rawString(f.Kind), Type: rawString(f.Type), Derivation: rawString(f.Derivation),
		}})
	}
	if len(idx.Files) > MaxEntries {
		return Index{}, fmt.Errorf(".index.json lists %d files, over the limit of %d", len(idx.Files), MaxEntries)
	}
	for _, e := range idx.Files {
		if !plainFileName(e.Filename) {
			return Index{}, fmt.Errorf(".index.json filename %q is not a plain file name", e.Filename)
		}
		if e.ResourceType == "" {
			return Index{}, fmt.Errorf(".index.json entry %q has no resourceType", e.Filename)
		}
	}
	return idx, nil
}

func plainFileName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\\\x00") && !strings.HasPrefix(name, "..")
}

func (e IndexEntry) resource(format Format) *Resource {
	return e.Summary.resource(e.Filename, format)
}
