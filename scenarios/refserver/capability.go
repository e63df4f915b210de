package refserver

import (
	"net/http"
	"slices"
	"sort"

	"github.com/nhsconform/conform/profiles/model"
)

func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, s, http.StatusOK, s.capabilityStatement(baseURL(r)))
}

// capabilityStatement describes what this server does, and nothing more.
func (s *Server) capabilityStatement(base string) map[string]any {
	fhirVersion := "4.0.1"
	if s.faults.on(FaultCapabilityWrongVersion) {
		fhirVersion = "3.0.2"
	}
	types := slices.DeleteFunc(model.R4ResourceTypes(), func(t string) bool { return t == "Parameters" || t == "OperationOutcome" })
	interactions := []any{}
	for _, code := range []string{"read", "vread", "update", "delete", "history-instance", "history-type", "create", "search-type"} {
		if code == "search-type" && s.faults.on(FaultCapabilityNoSearch) {
			continue
		}
		interactions = append(interactions, map[string]any{"code": code})
	}
	resources := make([]any, 0, len(types))
	for _, t := range types {
		params := []any{
			map[string]any{"name": "_id", "type": "token"},
			map[string]any{"name": "_lastUpdated", "type": "date"},
		}
		names := make([]string, 0, len(searchParams[t]))
		for n := range searchParams[t] {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			params = append(params, map[string]any{"name": n, "type": searchParamType(n)})
		}
		res := map[string]any{
			"type":              t,
			"interaction":       interactions,
			"versioning":        "versioned-update",
			"readHistory":       true,
			"updateCreate":      true,
			"conditionalCreate": true,
			"conditionalRead":   "not-supported",
			"conditionalUpdate": true,
			"conditionalDelete": "single",
			"searchParam":       params,
			"operation": []any{map[string]any{
				"name": "validate", "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate",
			}},
		}
		if p := s.profiles[t]; p != "" && !s.faults.on(FaultCapabilityNoProfiles) {
			res["supportedProfile"] = []any{p}
		}
		resources = append(resources, res)
	}
	software := "conform reference server"
	doc := "In-memory reference server; writes are validated"
	if s.opts.Validator == nil {
		doc = "In-memory reference server; writes get structural checks only (no profile validator configured)"
	}
	supported := []any{
		map[string]any{"mode": "receiver", "definition": referralRequestDef},
		map[string]any{"mode": "receiver", "definition": cancelledRequestDef},
	}
	cs := map[string]any{
		"resourceType": "CapabilityStatement",
		"status":       "active",
		"date":         formatInstant(s.started),
		"publisher":    "conform",
		"kind":         "instance",
		"software":     map[string]any{"name": software},
		"implementation": map[string]any{
			"description": doc,
			"url":         base,
		},
		"fhirVersion": fhirVersion,
		"format":      []any{"application/fhir+json", "json"},
		"rest": []any{map[string]any{
			"mode":     "server",
			"resource": resources,
			"interaction": []any{
				map[string]any{"code": "transaction"},
				map[string]any{"code": "batch"},
				map[string]any{"code": "search-system"},
				map[string]any{"code": "history-system"},
			},
			"searchParam": []any{
				map[string]any{"name": "_id", "type": "token"},
				map[string]any{"name": "_lastUpdated", "type": "date"},
				map[string]any{"name": "_type", "type": "token"},
			},
			"operation": []any{map[string]any{
				"name": "process-message", "definition": "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message",
			}},
		}},
		"messaging": []any{map[string]any{"supportedMessage": supported}},
	}
	if s.faults.on(FaultCapabilityNoMessaging) {
		delete(cs, "messaging")
	}
	return cs
}

func searchParamType(name string) string {
	switch name {
	case "identifier", "status", "_id":
		return "token"
	case "_lastUpdated":
		return "date"
	default:
		return "reference"
	}
}
