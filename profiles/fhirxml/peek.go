package fhirxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Summary is the identity of a resource read from its root element and
// top-level values.
type Summary struct{ ResourceType, ID, URL, Version, Name, Kind, Type, Derivation string }

// ErrNotResource means the XML root element is not in the FHIR namespace.
var ErrNotResource = errors.New("not a fhir resource")

// stopAt names, per resource type, the first top-level element after every
// identity value, where Peek stops reading.
var stopAt = map[string]string{
	"StructureDefinition": "snapshot",
	"CodeSystem":          "concept",
	"ValueSet":            "compose",
	"ConceptMap":          "group",
}

// Peek reads the root element and the top-level values of a FHIR XML
// resource without a type model. It reads no further than it needs, so it
// does not check the rest of the document.
//
// Like Decode, it reads a root element in no namespace as FHIR; it returns
// ErrNotResource for a root in another namespace.
func Peek(data []byte) (Summary, error) {
	var s Summary
	begin, err := prolog(data)
	if err != nil {
		return s, err
	}
	x := xml.NewDecoder(bytes.NewReader(data[begin:]))
	x.Strict = true
	ns := Namespace
	depth := 0
	for {
		tok, err := x.Token()
		if err == io.EOF {
			if s.ResourceType == "" {
				return s, &Error{Msg: "no resource element"}
			}
			return s, nil
		}
		if err != nil {
			return s, syntaxError(x, err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			line, col := x.InputPos()
			word, _, _ := strings.Cut(strings.TrimSpace(string(t)), " ")
			return s, &Error{Line: line, Column: col, Msg: fmt.Sprintf("xml declaration <!%s> not allowed", word)}
		case xml.StartElement:
			depth++
			switch depth {
			case 1:
				if t.Name.Space != Namespace && t.Name.Space != "" {
					return s, fmt.Errorf("root element <%s> in namespace %q: %w", t.Name.Local, t.Name.Space, ErrNotResource)
				}
				ns = t.Name.Space
				s.ResourceType = t.Name.Local
			case 2:
				if t.Name.Local == stopAt[s.ResourceType] {
					return s, nil
				}
				if t.Name.Space == ns {
					s.set(t.Name.Local, t.Attr)
				}
				if err := x.Skip(); err != nil {
					return s, syntaxError(x, err)
				}
				depth--
			}
		case xml.EndElement:
			depth--
			if depth == 0 {
				return s, nil
			}
		}
	}
}

func (s *Summary) set(name string, attrs []xml.Attr) {
	var field *string
	switch name {
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
	default:
		return
	}
	for _, a := range attrs {
		if a.Name.Local == "value" && a.Name.Space == "" {
			*field = a.Value
		}
	}
}

func syntaxError(x *xml.Decoder, err error) *Error {
	line, col := x.InputPos()
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return &Error{Line: se.Line, Column: col, Msg: "malformed xml: " + se.Msg}
	}
	return &Error{Line: line, Column: col, Msg: "malformed xml: " + err.Error()}
}
