package validate

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDocumentBundleRules(t *testing.T) {
	v := newCoreValidator(t)
	composition := func(subject, entry string) string {
		return `{"fullUrl":"http://example.org/fhir/Composition/c1","resource":{"resourceType":"Composition","id":"c1","status":"final","type":{"text":"x"},"date":"2024-01-01","title":"t",` +
			`"subject":{"reference":"` + subject + `"},"author":[{"reference":"Patient/p1"}],"section":[{"title":"s","entry":[{"reference":"` + entry + `"}]}]}}`
	}
	patient := `{"fullUrl":"http://example.org/fhir/Patient/p1","resource":{"resourceType":"Patient","id":"p1"}}`
	observation := func(version string) string {
		return `{"fullUrl":"http://example.org/fhir/Observation/o1","resource":{"resourceType":"Observation","id":"o1","meta":{"versionId":"` + version + `"},"status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"}}}`
	}
	document := func(entries ...string) string {
		s := `{"resourceType":"Bundle","identifier":{"system":"urn:ietf:rfc:3986","value":"urn:uuid:0c3e1c57-3d0b-4a6e-9d1e-0f5d0c1b2a3c"},"type":"document","timestamp":"2024-01-01T00:00:00Z","entry":[`
		for i, e := range entries {
			if i > 0 {
				s += ","
			}
			s += e
		}
		return s + `]}`
	}
	tests := []struct {
		name     string
		resource string
		want     []string
	}{
		{name: "every reference resolves", resource: document(composition("Patient/p1", "Observation/o1"), patient, observation("1"))},
		{name: "versioned reference matching meta.versionId", resource: document(composition("Patient/p1", "Observation/o1/_history/2"), patient, observation("2"))},
		{name: "section entry missing", resource: document(composition("Patient/p1", "Observation/o2"), patient), want: []string{"bundle-entry-not-found"}},
		{name: "versioned reference to another version", resource: document(composition("Patient/p1", "Observation/o1/_history/3"), patient, observation("1")), want: []string{"bundle-entry-not-found"}},
		{name: "two entries with one fullUrl", resource: document(composition("Patient/p1", "Observation/o1"), patient, observation("1"), observation("2")), want: []string{"bundle-multiple-matches"}},
		{name: "relative reference from a urn:uuid entry", resource: document(
			`{"fullUrl":"urn:uuid:6f1d2c3b-0000-4000-8000-000000000001","resource":{"resourceType":"Composition","status":"final","type":{"text":"x"},"date":"2024-01-01","title":"t","author":[{"reference":"Patient/p1"}]}}`,
			`{"fullUrl":"urn:uuid:6f1d2c3b-0000-4000-8000-000000000002","resource":{"resourceType":"Patient","id":"p1"}}`), want: []string{"bundle-entry-not-found", "bundle-entry-orphan"}},
		{name: "entry reached backwards", resource: document(composition("Patient/p1", "Patient/p1"), patient,
			`{"fullUrl":"http://example.org/fhir/Provenance/v1","resource":{"resourceType":"Provenance","id":"v1","target":[{"reference":"Composition/c1"}],"recorded":"2024-01-01T00:00:00Z","agent":[{"who":{"reference":"Patient/p1"}}]}}`)},
		{name: "collection bundles are not documents", resource: `{"resourceType":"Bundle","type":"collection","entry":[` + patient + `,` + observation("1") + `,` + observation("2") + `]}`},
	}
	documentIDs := map[string]bool{"bundle-entry-not-found": true, "bundle-multiple-matches": true, "bundle-entry-orphan": true}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := v.Validate(context.Background(), []byte(tc.resource))
			require.NoError(t, err)
			var got []string
			for _, id := range findings(out, "error") {
				if documentIDs[id] && !contains(got, id) {
					got = append(got, id)
				}
			}
			assert.ElementsMatch(t, tc.want, got, "issues: %+v", out.Issues)
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
