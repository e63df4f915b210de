package fhirjson

// commonKeys are FHIR property names frequent enough that the decoder shares
// one string for each rather than allocating it per occurrence.
var commonKeys = func() map[string]string {
	m := make(map[string]string, len(keyList))
	for _, k := range keyList {
		m[k] = k
	}
	return m
}()

var keyList = []string{
	"_birthDate", "_event", "_gender", "accept", "accessionIdentifier", "achievementStatus", "action", "active",
	"activity", "actor", "additionalInstruction", "address", "addresses", "adjudication", "ageAge", "agent",
	"allergyIntolerance", "allowedBoolean", "allowedMoney", "altId", "amount", "answer", "answerBoolean",
	"answerValueSet", "approvalDate", "asNeededCodeableConcept", "assert", "asserter", "assigner", "author",
	"authoredOn", "authority", "authorizingPrescription", "autocreate", "autodelete", "basedOn", "batch",
	"beneficiary", "benefit", "birthDate", "bodySite", "boundsPeriod", "capabilities", "capability", "careTeam",
	"careTeamSequence", "category", "characteristic", "cigar", "citation", "city", "class", "clinicalStatus",
	"code", "codeFilter", "coding", "collectedDateTime", "collection", "collector", "comment", "comparator",
	"component", "condition", "connectionType", "contact", "contained", "container", "content",
	"contentAttachment", "contentType", "context", "coordinateSystem", "copyright", "count", "country",
	"coverage", "created", "creation", "criteria", "currency", "data", "dataRequirement", "date",
	"dateAsserted", "dateTime", "daysOfWeek", "daysSupply", "deceasedBoolean", "definition",
	"definitionCanonical", "denominator", "derivedFrom", "description", "destination", "detail",
	"detailSequence", "details", "device", "diagnosis", "diagnosisCodeableConcept", "direction",
	"dispenseRequest", "display", "disposition", "district", "div", "doNotPerform", "document", "documentation",
	"dosage", "dosageInstruction", "dose", "doseAndRate", "doseQuantity", "doseRange", "duration",
	"durationUnit", "dynamicValue", "effectiveDateTime", "effectivePeriod", "enableWhen", "encodeRequestUrl",
	"encounter", "end", "endpoint", "enterer", "entity", "entry", "etag", "event", "evidence",
	"excludeFoodModifier", "expectedSupplyDuration", "experimental", "expirationDate", "expression",
	"extension", "facility", "factor", "family", "focal", "focus", "followUp", "foodPreferenceModifier", "for",
	"form", "frequency", "fullUrl", "function", "gender", "given", "goal", "group", "groupIdentifier",
	"groupingBehavior", "hasMember", "headerField", "high", "hospitalization", "id", "identifier", "individual",
	"informationSource", "ingredient", "initiator", "instance", "instantiatesUri", "insurance", "insurer",
	"intent", "interpretation", "issue", "issued", "item", "itemCodeableConcept", "itemReference",
	"itemSequence", "jurisdiction", "kind", "label", "language", "lastModified", "lastReviewDate",
	"lastUpdated", "legal", "library", "lifecycleStatus", "line", "link", "linkId", "location", "lotNumber",
	"low", "managingOrganization", "manufacturer", "measure", "measureScore", "medicationCodeableConcept",
	"medicationReference", "member", "message", "meta", "metadata", "method", "modality", "mode", "modifier",
	"name", "net", "network", "note", "noteNumber", "number", "numberOfRepeatsAllowed", "numerator",
	"observedAllele", "observedSeq", "observer", "occurrenceDateTime", "offer", "onsetAge", "onsetDateTime",
	"operation", "operator", "oralDiet", "orderer", "organization", "origin", "other", "outcome", "owner",
	"parameter", "params", "partOf", "participant", "party", "path", "patient", "pause", "payee", "payload",
	"payloadMimeType", "payloadType", "payor", "performedDateTime", "performer", "performerType", "period",
	"periodUnit", "photo", "physicalType", "policyRule", "population", "postalCode", "practitioner", "prefix",
	"priority", "probabilityDecimal", "procedure", "process", "processNote", "productOrService",
	"productReference", "profile", "progress", "provider", "provision", "publisher", "purpose", "quantity",
	"question", "rank", "rateQuantity", "rateRatio", "reason", "reasonCode", "reasonReference", "receiver",
	"recipient", "recorded", "recordedDate", "recorder", "reference", "referenceAllele", "referenceRange",
	"referenceSeq", "referenceSeqId", "related", "relatedArtifact", "relation", "relationship", "repeat",
	"repeats", "request", "requester", "requestor", "required", "resource", "resourceId", "resourceType",
	"response", "responseCode", "result", "revenue", "role", "route", "schedule", "scheduledPeriod", "scope",
	"scoring", "search", "securityLabel", "selectionBehavior", "sequence", "series", "serviceCategory",
	"serviceProvider", "serviceType", "servicedDate", "severity", "sigFormat", "signature", "site", "source",
	"sourceAttachment", "sourceId", "specialty", "specimen", "start", "state", "status", "statusReason", "step",
	"strand", "stratifier", "stratum", "strength", "subDetail", "subType", "subject", "subjectResults",
	"subjectType", "subscriber", "substitution", "subtype", "suffix", "supportingInfo", "supportingInformation",
	"system", "target", "targetFormat", "telecom", "term", "test", "text", "textEquivalent", "time", "timing",
	"timingTiming", "title", "topic", "total", "trigger", "type", "udi", "unit", "unitPrice", "url", "usage",
	"use", "useContext", "validated", "validityPeriod", "value", "valueCode", "valueCodeableConcept",
	"valueCoding", "valueDate", "valueDateTime", "valueDecimal", "valueExpression", "valueInteger",
	"valueQuantity", "valueReference", "valueSet", "valueString", "variable", "variant", "verificationStatus",
	"version", "versionId", "warningOnly", "what", "when", "whenHandedOver", "whenPrepared", "whenRange", "who",
	"windowEnd", "windowStart",
}
