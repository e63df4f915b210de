package packages

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// Summary is the top-level identity of a resource, read without decoding the
// whole resource into memory.
type Summary struct {
	ResourceType string
	ID           string
	URL          string
	Version      string
	Name         string
	Kind         string
	Type         string
	Derivation   string
}

// ErrNotResource means a well-formed file is not a FHIR resource (no
// resourceType, or an XML root outside the FHIR namespace).
var ErrNotResource = errors.New("not a fhir resource")

// FHIRNamespace is the XML namespace of FHIR resources.
const FHIRNamespace = "http://hl7.org/fhir"

type jsonSummary struct {
	ResourceType json.RawMessage `json:"resourceType"`
	ID           json.RawMessage `json:"id"`
	URL          json.RawMessage `json:"url"`
	Version      json.RawMessage `json:"version"`
	Name         json.RawMessage `json:"name"`
	Kind         json.RawMessage `json:"kind"`
	Type         json.RawMessage `json:"type"`
	Derivation   json.RawMessage `json:"derivation"`
}

func rawString(r json.RawMessage) string {
	if len(r) == 0 || r[0] != '"' {
		return ""
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
	data = bytes.TrimLeft(data, "\ufeff \t\r\n")
	if len(data) == 0 || data[0] != '{' {
		if len(data) > 0 && json.Valid(data) {
			return Summary{}, ErrNotResource
		}
		return Summary{}, errors.New("malformed json: not an object")
	}
	var js jsonSummary
	if err := json.Unmarshal(data, &js); err != nil {
		return Summary{}, fmt.Errorf("malformed json: %w", err)
	}
	s := Summary{
		ResourceType: rawString(js.ResourceType),
		ID:           rawString(js.ID),
		URL:          rawString(js.URL),
		Version:      rawString(js.Version),
		Name:         rawString(js.Name),
		Kind:         rawString(js.Kind),
		Type:         rawString(js.Type),
		Derivation:   rawString(js.Derivation),
	}
	if s.ResourceType == "" {
		return Summary{}, ErrNotResource
	}
	return s, nil
}

// PeekXML checks that data is one well-formed XML document and returns the
// root element name as resourceType with the value attributes of the
// top-level id, url, version, name, kind, type and derivation elements. It
// returns ErrNotResource when the root is not in the FHIR namespace.
func PeekXML(data []byte) (Summary, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var s Summary
	depth := 0
	rootSeen := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Summary{}, fmt.Errorf("malformed xml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				if rootSeen {
					return Summary{}, errors.New("malformed xml: more than one root element")
				}
				rootSeen = true
				if t.Name.Space != FHIRNamespace {
					return Summary{}, ErrNotResource
				}
				s.ResourceType = t.Name.Local
				continue
			}
			if depth != 2 {
				continue
			}
			var field *string
			switch t.Name.Local {
			case "id":
				field = &s.ID
			case "url":
				field = &s.URL
			case "version":
				field = &s.Version
			case "name":
				field = &s.Name
			case "kind":
				field = &s.Kind
			case "type":
				field = &s.Type
			case "derivation":
				field = &s.Derivation
			}
			if field == nil || *field != "" {
				continue
			}
			for _, a := range t.Attr {
				if a.Name.Local == "value" && a.Name.Space == "" {
					*field = a.Value
				}
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return Summary{}, errors.New("malformed xml: text outside the root element")
			}
		}
	}
	if !rootSeen {
		return Summary{}, errors.New("malformed xml: no root element")
	}
	return s, nil
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
	return &Resource{
		ResourceType: s.ResourceType,
		ID:           s.ID,
		URL:          s.URL,
		Version:      s.Version,
		Name:         s.Name,
		Kind:         s.Kind,
		Type:         s.Type,
		Derivation:   s.Derivation,
		File:         file,
		Format:       format,
	}
}
