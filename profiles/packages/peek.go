package packages

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/nhsconform/conform/profiles/fhirjson"
	"unicode/utf8"

	"github.com/nhsconform/conform/profiles/fhirxml"
)

// Summary is the top-level identity of a resource.
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

// PeekJSON checks that data is one JSON object DecodeJSON accepts (well
// formed, valid UTF-8, no duplicate keys) and returns its top-level identity
// fields. It returns ErrNotResource when the object has no
// string resourceType.
func PeekJSON(data []byte) (Summary, error) {
	v, err := fhirjson.Decode(data)
	if err != nil {
		return Summary{}, fmt.Errorf("malformed json: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return Summary{}, ErrNotResource
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	s := Summary{
		ResourceType: str("resourceType"),
		ID:           str("id"),
		URL:          str("url"),
		Version:      str("version"),
		Name:         str("name"),
		Kind:         str("kind"),
		Type:         str("type"),
		Derivation:   str("derivation"),
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
