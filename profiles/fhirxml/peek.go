package fhirxml

import (
	"errors"
	"fmt"
	"slices"
)

// Summary is the identity of a resource read from its root element and
// top-level values.
type Summary struct{ ResourceType, ID, URL, Version, Name, Kind, Type, Derivation string }

// ErrNotResource means the XML root element is not in the FHIR namespace.
var ErrNotResource = errors.New("not a fhir resource")

// stopAt names, per resource type, top-level elements that come after every
// identity value, where Peek stops reading.
var stopAt = map[string][]string{
	"StructureDefinition": {"snapshot", "differential"},
	"CodeSystem":          {"concept"},
	"ValueSet":            {"compose", "expansion"},
	"ConceptMap":          {"group"},
}

// Peek reads the root element and the top-level values of a FHIR XML
// resource without a type model. It reads no further than it needs, so it
// does not check the rest of the document.
//
// Like Decode, it reads a root element in no namespace as FHIR; it returns
// ErrNotResource for a root in another namespace.
func Peek(data []byte) (Summary, error) {
	var sum Summary
	begin, err := prolog(data)
	if err != nil {
		return sum, err
	}
	s := newScanner(data, begin)
	ns := Namespace
	for {
		if err := s.next(); err != nil {
			return sum, err
		}
		switch s.kind {
		case tokEOF:
			if sum.ResourceType == "" {
				return sum, &Error{Msg: "no resource element"}
			}
			return sum, nil
		case tokText:
			if len(s.open) == 0 && !isSpace(s.text) {
				line, col := s.position(s.pos)
				return sum, &Error{Line: line, Column: col, Msg: "text outside the resource element"}
			}
		case tokStart:
			switch len(s.open) {
			case 1:
				if s.space != Namespace && s.space != "" {
					return sum, fmt.Errorf("root element <%s> in namespace %q: %w", s.local, s.space, ErrNotResource)
				}
				ns = s.space
				sum.ResourceType = s.local
			case 2:
				if slices.Contains(stopAt[sum.ResourceType], s.local) {
					return sum, nil
				}
				if s.space == ns {
					sum.set(s.local, s.attrs)
				}
				for len(s.open) >= 2 {
					if err := s.next(); err != nil {
						return sum, err
					}
				}
			}
		case tokEnd:
			if len(s.open) == 0 {
				return sum, nil
			}
		}
	}
}

func (s *Summary) set(name string, attrs []attr) {
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
		if a.local == "value" && a.space == "" {
			*field = a.value
		}
	}
}
