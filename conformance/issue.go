package conformance

import "context"

// Severity is an OperationOutcome issue severity.
type Severity string

// OperationOutcome issue severities.
const (
	SeverityFatal       Severity = "fatal"
	SeverityError       Severity = "error"
	SeverityWarning     Severity = "warning"
	SeverityInformation Severity = "information"
)

// Rank orders severities, most severe first: fatal 0, error 1, warning 2,
// information (and anything else) 3.
func (s Severity) Rank() int {
	switch s {
	case SeverityFatal:
		return 0
	case SeverityError:
		return 1
	case SeverityWarning:
		return 2
	}
	return 3
}

// Issue is one finding about a resource, shaped like OperationOutcome.issue.
type Issue struct {
	Severity Severity `json:"severity"`
	// Code is the FHIR issue-type code (structure, required, value, invariant,
	// code-invalid, not-found, processing, informational ...).
	Code string `json:"code"`
	// Expression is the FHIRPath location with indices, as the HL7 validator
	// writes it: Patient.identifier[0].system.
	Expression string `json:"expression,omitempty"`
	// Message is the human-readable text (OperationOutcome.issue.details.text).
	Message string `json:"message"`
	// MessageID is a stable identifier of the kind of finding.
	MessageID string `json:"messageId,omitempty"`
	Line      int    `json:"line,omitempty"`
	Column    int    `json:"column,omitempty"`
}

// Outcome is the result of validating one resource.
type Outcome struct {
	// Source names what was validated (a file, a response, a Bundle entry).
	Source string `json:"source,omitempty"`
	// Profiles lists the canonical URLs (url|version) the resource was judged against.
	Profiles []string `json:"profiles,omitempty"`
	Issues   []Issue  `json:"issues"`
}

// HasErrors reports whether any issue is an error or fatal.
func (o Outcome) HasErrors() bool {
	for _, is := range o.Issues {
		if is.Severity == SeverityError || is.Severity == SeverityFatal {
			return true
		}
	}
	return false
}

// Validator judges a FHIR resource (JSON or XML bytes) against its base
// definition, its meta.profile entries and the given profile URLs. A returned
// error means the validation could not be made; findings are in the Outcome.
type Validator interface {
	Validate(ctx context.Context, resource []byte, profiles ...string) (Outcome, error)
}
