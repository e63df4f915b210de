package packages

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/nhsconform/conform/profiles/fhirxml"
)

// Summary is the top-level identity of a resource, read without decoding the
// whole resource into memory.
type Summary struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id,omitempty"`
	URL          string `json:"url,omitempty"`
	Version      string `json:"version,omitempty"`
	Name         string `json:"name,omitempty"`
	Kind         string `json:"kind,omitempty"`
	Type         string `json:"type,omitempty"`
	Derivation   string `json:"derivation,omitempty"`
}

// ErrNotResource means a well-formed file is not a FHIR resource (no
// resourceType, or an XML root outside the FHIR namespace).
var ErrNotResource = errors.New("not a fhir resource")

// rawString returns the string a raw JSON value holds, or "" when it holds
// anything else.
func rawString(r json.RawMessage) string {
	if len(r) < 2 || r[0] != '"' {
		return ""
	}
	if inner := r[1 : len(r)-1]; bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var s string
	if json.Unmarshal(r, &s) != nil {
		return ""
	}
	return s
}

// PeekJSON checks that data is one well-formed JSON object and returns its
// top-level identity fields. It returns ErrNotResource when the object has no
// string resourceType.
func PeekJSON(data []byte) (Summary, error) {
	data = bytes.TrimLeft(trimBOM(data), " \t\r\n")
	if len(data) == 0 || data[0] != '{' {
		if len(data) > 0 && json.Valid(data) {
			return Summary{}, ErrNotResource
		}
		return Summary{}, errors.New("malformed json: not an object")
	}
	var js map[string]json.RawMessage
	if err := json.Unmarshal(data, &js); err != nil {
		return Summary{}, fmt.Errorf("malformed json: %w", err)
	}
	s := Summary{
		ResourceType: rawString(js["resourceType"]),
		ID:           rawString(js["id"]),
		URL:          rawString(js["url"]),
		Version:      rawString(js["version"]),
		Name:         rawString(js["name"]),
		Kind:         rawString(js["kind"]),
		Type:         rawString(js["type"]),
		Derivation:   rawString(js["derivation"]),
	}
	if s.ResourceType == "" {
		return Summary{}, ErrNotResource
	}
	return s, nil
}

// PeekXML returns the identity of a FHIR XML resource (see fhirxml.Peek);
// it returns ErrNotResource when the root is not in the FHIR namespace.
func PeekXML(data []byte) (Summary, error) {
	fs, err := fhirxml.Peek(xml10(data))
	if errors.Is(err, fhirxml.ErrNotResource) {
		return Summary{}, ErrNotResource
	}
	if err != nil {
		return Summary{}, err
	}
	return Summary(fs), nil
}

func sniffFormat(data []byte) Format {
	trimmed := bytes.TrimLeft(data, "\ufeff \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '<' {
		return FormatXML
	}
	return FormatJSON
}

func peek(format Format, data []byte) (Summary, error) {
	if format == FormatXML {
		return PeekXML(data)
	}
	return PeekJSON(data)
}

func (s Summary) resource(file string, format Format) *Resource {
	return &Resource{Summary: s, File: file, Format: format}
}

// xml10 returns data with an XML 1.1 declaration read as XML 1.0, which
// encoding/xml refuses; FHIR resources use nothing that differs between them.
func xml10(data []byte) []byte {
	trimmed := bytes.TrimLeft(data, "\ufeff \t\r\n")
	for _, decl := range []string{`<?xml version="1.1"`, `<?xml version='1.1'`} {
		if bytes.HasPrefix(trimmed, []byte(decl)) {
			out := make([]byte, 0, len(trimmed))
			out = append(out, decl[:len(decl)-4]...)
			out = append(out, "1.0"...)
			out = append(out, decl[len(decl)-1])
			return append(out, trimmed[len(decl):]...)
		}
	}
	return data
}

func trimBOM(data []byte) []byte { return bytes.TrimPrefix(data, []byte("\ufeff")) }
