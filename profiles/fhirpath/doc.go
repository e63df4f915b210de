// Package fhirpath owns conform's FHIRPath engine: parsing and checking
// expressions once, evaluating them many times over decoded FHIR JSON
// (map[string]any, []any, json.Number, string, bool) typed by the FHIR model,
// with exact decimals, partial-precision dates and times, UCUM quantities and
// the FHIR functions and variables of R4. Terminology, profile and reference
// resolution plug in through interfaces.
package fhirpath
