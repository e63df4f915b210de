package refserver

import (
	"fmt"
	"sort"
	"strings"
)

// Fault is a named way of breaking exactly one behaviour of the server, so
// that a workflow pack can be shown to notice it.
type Fault struct {
	// Name is the switch given to `conform serve --fault`.
	Name string
	// Breaks says in one line which behaviour stops holding.
	Breaks string
}

// Fault names.
const (
	FaultNoETag                  = "no-etag"
	FaultNoLocation              = "no-location"
	FaultCreateStatus200         = "create-status-200"
	FaultWrongContentType        = "wrong-content-type"
	FaultIgnoreIfNoneExist       = "ignore-if-none-exist"
	FaultIgnoreConditionalUpdate = "ignore-conditional-update"
	FaultIgnoreIfMatch           = "ignore-if-match"
	FaultNoVersionIncrement      = "no-version-increment"
	FaultAcceptInvalid           = "accept-invalid"
	FaultValidateAlwaysOK        = "validate-always-ok"
	FaultSearchIgnoresIdentifier = "search-ignores-identifier"
	FaultSearchIgnoresPatient    = "search-ignores-patient"
	FaultDropRequestID           = "drop-request-id"
	FaultDropCorrelationID       = "drop-correlation-id"
	FaultAcceptMissingHeaders    = "accept-missing-headers"
	FaultWrongErrorCode          = "wrong-error-code"
	FaultNoReplayConflict        = "no-replay-conflict"
	FaultIgnoreCancellation      = "ignore-cancellation"
	FaultNoAsyncResponse         = "no-async-response"
	FaultWrongResponseIdentifier = "wrong-response-identifier"
	FaultNoDischargeNotification = "no-discharge-notification"
	FaultDeleteKeepsResource     = "delete-keeps-resource"
	FaultNoHistory               = "no-history"
	FaultTransactionKeepsURN     = "transaction-keeps-urn"
	FaultCapabilityWrongVersion  = "capability-wrong-version"

	FaultCapabilityNoSearch         = "capability-no-search"
	FaultCapabilityNoProfiles       = "capability-no-profiles"
	FaultCapabilityNoMessaging      = "capability-no-messaging"
	FaultDropNestedExtensions       = "drop-nested-extensions"
	FaultBirthDateAsDateTime        = "birthdate-as-datetime"
	FaultInvalidLengthOfStay        = "invalid-length-of-stay"
	FaultDocumentStripsSectionText  = "document-strips-section-text"
	FaultDocumentRewritesReferences = "document-rewrites-references"
	FaultDocumentWithTotal          = "document-with-total"
	FaultDocumentPreliminary        = "document-preliminary"
	FaultIgnoreMessageCounts        = "ignore-message-counts"
	FaultStoreFocusOnly             = "store-focus-only"
	FaultEmptyAcknowledgement       = "empty-acknowledgement"
)

var faultList = []Fault{
	{FaultNoETag, "responses to read, create and update carry no ETag header"},
	{FaultNoLocation, "a create answers 201 without a Location header"},
	{FaultCreateStatus200, "a create answers 200 instead of 201 Created"},
	{FaultWrongContentType, "FHIR responses are labelled application/json instead of application/fhir+json"},
	{FaultIgnoreIfNoneExist, "a conditional create (If-None-Exist) creates a duplicate instead of answering 200 with the match"},
	{FaultIgnoreConditionalUpdate, "a conditional update (PUT Type?search) always creates a new resource instead of updating the match"},
	{FaultIgnoreIfMatch, "If-Match is ignored: an update naming a stale version succeeds instead of answering 412"},
	{FaultNoVersionIncrement, "an update keeps meta.versionId and the ETag unchanged"},
	{FaultAcceptInvalid, "writes skip profile validation: invalid resources are stored instead of rejected with 422"},
	{FaultValidateAlwaysOK, "$validate reports no issues whatever the resource"},
	{FaultSearchIgnoresIdentifier, "search by identifier returns every resource of the type"},
	{FaultSearchIgnoresPatient, "search by patient or subject returns every resource of the type"},
	{FaultDropRequestID, "responses do not echo the X-Request-Id header"},
	{FaultDropCorrelationID, "responses do not echo the X-Correlation-Id header"},
	{FaultAcceptMissingHeaders, "$process-message accepts a BaRS message without its required NHSD headers instead of 400"},
	{FaultWrongErrorCode, "a rejected BaRS request's OperationOutcome is coded BAD_REQUEST instead of REC_BAD_REQUEST"},
	{FaultNoReplayConflict, "a replayed X-Request-Id is processed again instead of answering 409 REC_CONFLICT"},
	{FaultIgnoreCancellation, "a BaRS cancellation (reason update, status revoked) leaves the stored ServiceRequest unchanged"},
	{FaultNoAsyncResponse, "no servicerequest-response message is pushed back after a BaRS referral"},
	{FaultWrongResponseIdentifier, "the servicerequest-response's response.identifier is not the original Bundle.id"},
	{FaultNoDischargeNotification, "finishing an Encounter pushes no discharge notification message"},
	{FaultDeleteKeepsResource, "a delete answers success but the resource stays readable"},
	{FaultNoHistory, "_history lists only the current version"},
	{FaultTransactionKeepsURN, "a transaction leaves urn:uuid references unresolved instead of pointing them at the created resources"},
	{FaultCapabilityWrongVersion, "the CapabilityStatement claims fhirVersion 3.0.2"},
	{FaultCapabilityNoSearch, "the CapabilityStatement omits the search-type interaction, though every type can be searched"},
	{FaultCapabilityNoProfiles, "the CapabilityStatement names no supportedProfile, though writes are validated against UK Core"},
	{FaultCapabilityNoMessaging, "the CapabilityStatement lists no supported messages, though $process-message takes BaRS referrals"},
	{FaultDropNestedExtensions, "extensions inside a resource's elements (e.g. Encounter.hospitalization's admission method) are dropped on store; root extensions are kept"},
	{FaultBirthDateAsDateTime, "a stored Patient's birthDate comes back as a dateTime (midnight UTC) instead of a date"},
	{FaultInvalidLengthOfStay, "a finished Encounter is stored with a computed length whose unit is coded in SNOMED CT instead of UCUM (breaks drt-1)"},
	{FaultDocumentStripsSectionText, "a stored document's Composition sections lose their narrative text"},
	{FaultDocumentRewritesReferences, "a stored document's urn:uuid references are rewritten to Type/id as in a transaction, so they no longer match the entries' fullUrls"},
	{FaultDocumentWithTotal, "a stored document Bundle carries a total, which only searchset and history Bundles may (bdl-1)"},
	{FaultDocumentPreliminary, "a stored document's Composition is filed as preliminary instead of keeping the final status it was sent with"},
	{FaultIgnoreMessageCounts, "a BaRS message is not checked against its MessageDefinition's resource counts: a referral without its CarePlan is accepted"},
	{FaultStoreFocusOnly, "a BaRS message stores only its ServiceRequest; the Patient and the other entries are not stored"},
	{FaultEmptyAcknowledgement, "a BaRS message is acknowledged with 200 and an empty body instead of an OperationOutcome"},
}

// Faults returns every fault the server knows, sorted by name.
func Faults() []Fault {
	out := append([]Fault(nil), faultList...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// UnknownFaultError reports a fault name the server does not know.
type UnknownFaultError struct {
	Name string
}

func (e *UnknownFaultError) Error() string {
	names := make([]string, 0, len(faultList))
	for _, f := range Faults() {
		names = append(names, f.Name)
	}
	return fmt.Sprintf("unknown fault %q (known: %s)", e.Name, strings.Join(names, ", "))
}

// CheckFaults returns an *UnknownFaultError for the first name that is not a
// known fault.
func CheckFaults(names []string) error {
	for _, n := range names {
		if !knownFault(n) {
			return &UnknownFaultError{Name: n}
		}
	}
	return nil
}

func knownFault(name string) bool {
	for _, f := range faultList {
		if f.Name == name {
			return true
		}
	}
	return false
}

type faultSet map[string]bool

func (fs faultSet) on(name string) bool { return fs[name] }
