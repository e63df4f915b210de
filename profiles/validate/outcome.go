package validate

import (
	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/profiles/fhirxml"
	"github.com/nhsconform/conform/profiles/packages"
	"github.com/nhsconform/conform/profiles/snapshot"
)

// Extension URLs used on OperationOutcome issues and outcomes.
const (
	ExtIssueLine   = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line"
	ExtIssueCol    = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col"
	ExtMessageID   = "http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id"
	ExtOutcomeFile = "http://hl7.org/fhir/StructureDefinition/operationoutcome-file"
)

// FromPackages returns a Validator over a package set: definitions resolved
// through it, snapshots generated for differential-only profiles by the set's
// shared generator, XML input read with the set's R4 model. Fields of opts
// other than Resolve, Snapshot, Model, DecodeXML and DecodeXMLPositions are
// kept.
func FromPackages(set *packages.Set, opts Options) (*Validator, error) {
	opts.Resolve = set.ResolveJSON
	gen := snapshot.ForSet(set)
	opts.Snapshot = func(sd map[string]any) (map[string]any, error) {
		url := sstr(sd, "url")
		if v := sstr(sd, "version"); v != "" {
			url += "|" + v
		}
		full, _, err := gen.SnapshotFor(url)
		if err != nil {
			full, _, err = gen.Generate(sd)
		}
		return full, err
	}
	if m := set.Model(); m != nil {
		opts.Model = m
		dec := fhirxml.NewDecoder(m)
		opts.DecodeXML = dec.Decode
		opts.DecodeXMLPositions = func(data []byte) (map[string]any, SourceLocator, error) {
			res, pos, err := dec.DecodePositions(data)
			return res, pos, err
		}
	}
	return New(opts)
}

// OperationOutcome renders an outcome as a FHIR OperationOutcome resource,
// with line, column and message id extensions on each issue.
func OperationOutcome(o conformance.Outcome) map[string]any {
	issues := make([]any, 0, len(o.Issues))
	for _, is := range o.Issues {
		m := map[string]any{
			"severity": string(is.Severity),
			"code":     is.Code,
			"details":  map[string]any{"text": is.Message},
		}
		if is.Expression != "" {
			m["expression"] = []any{is.Expression}
		}
		var ext []any
		if is.Line > 0 {
			ext = append(ext, map[string]any{"url": ExtIssueLine, "valueInteger": is.Line}, map[string]any{"url": ExtIssueCol, "valueInteger": is.Column})
		}
		if is.MessageID != "" {
			ext = append(ext, map[string]any{"url": ExtMessageID, "valueString": is.MessageID})
		}
		if len(ext) > 0 {
			m["extension"] = ext
		}
		issues = append(issues, m)
	}
	if len(issues) == 0 {
		issues = append(issues, map[string]any{
			"severity": "information", "code": "informational", "details": map[string]any{"text": "No issues detected during validation"},
		})
	}
	oo := map[string]any{"resourceType": "OperationOutcome", "issue": issues}
	if o.Source != "" {
		oo["extension"] = []any{map[string]any{"url": ExtOutcomeFile, "valueString": o.Source}}
	}
	return oo
}

// OutcomeBundle renders several outcomes as a collection Bundle of
// OperationOutcomes, each naming its source with the operationoutcome-file
// extension.
func OutcomeBundle(outcomes []conformance.Outcome) map[string]any {
	entries := make([]any, 0, len(outcomes))
	for _, o := range outcomes {
		entries = append(entries, map[string]any{"resource": OperationOutcome(o)})
	}
	return map[string]any{"resourceType": "Bundle", "type": "collection", "entry": entries}
}
