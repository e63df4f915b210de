// Package fhirxml owns conform's FHIR XML support: reading any R4 resource in
// XML into the same JSON shape as the official JSON form (map[string]any,
// []any, json.Number, string, bool), driven by the R4 type model, writing that
// shape back as XML in FHIR element order, and peeking at a resource's
// identity without a model. Hostile input is bounded: DOCTYPE and entity
// declarations are refused and nesting is limited to MaxDepth.
package fhirxml

import "fmt"

// Namespace is the XML namespace of FHIR resources.
const Namespace = "http://hl7.org/fhir"

// XHTMLNamespace is the XML namespace of the narrative div.
const XHTMLNamespace = "http://www.w3.org/1999/xhtml"

// MaxDepth is the deepest element nesting the reader accepts.
const MaxDepth = 256

// Error is a problem found while reading or writing a FHIR XML resource: its
// location (the line and column in the XML, or the element path) and what is
// wrong.
type Error struct {
	// Line and Column locate the problem in the XML input (1-based); zero when writing.
	Line, Column int
	// Path is the FHIR element path where the problem was found, when known.
	Path string
	// Msg says what is wrong.
	Msg string
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Path != "":
		return fmt.Sprintf("line %d column %d: %s: %s", e.Line, e.Column, e.Path, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("line %d column %d: %s", e.Line, e.Column, e.Msg)
	case e.Path != "":
		return fmt.Sprintf("%s: %s", e.Path, e.Msg)
	}
	return e.Msg
}
