package validate

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/profiles/packages"
)

func TestEmbeddedResourceTypeFromTypeProfile(t *testing.T) {
	set := loadCore(t)
	const profileURL = "http://example.org/fhir/StructureDefinition/manifest-bundle"
	v := profiledValidator(t, set, "Bundle", profileURL, func(em map[string]any) {
		if em["path"] == "Bundle.entry.resource" {
			em["type"] = []any{map[string]any{"code": "Resource", "profile": []any{model("DocumentManifest")}}}
		}
	})
	tests := []struct {
		name  string
		entry string
		want  bool
	}{
		{name: "resource of the profile's type", entry: `{"resourceType":"DocumentManifest","status":"current","content":[{"reference":"http://example.org/fhir/Binary/1"}]}`},
		{name: "resource of another type", entry: `{"resourceType":"Patient","id":"p1"}`, want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"http://example.org/fhir/X/1","resource":` + tc.entry + `}]}`
			out, err := v.Validate(context.Background(), []byte(doc), profileURL)
			require.NoError(t, err)
			assert.Equal(t, tc.want, contains(findings(out, "error"), "resource-type-not-profiled"), "issues: %+v", out.Issues)
		})
	}
}

// profiledValidator returns a validator that also knows the profile url: the
// core definition of typ with edit applied to each snapshot element.
func profiledValidator(t *testing.T, set *packages.Set, typ, url string, edit func(element map[string]any)) *Validator {
	t.Helper()
	base, ok := set.ResolveJSON(model(typ))
	require.True(t, ok)
	raw, err := json.Marshal(base)
	require.NoError(t, err)
	var sd map[string]any
	require.NoError(t, json.Unmarshal(raw, &sd))
	sd["url"], sd["derivation"], sd["baseDefinition"] = url, "constraint", model(typ)
	for _, e := range sd["snapshot"].(map[string]any)["element"].([]any) {
		edit(e.(map[string]any))
	}
	v, err := New(Options{Resolve: func(c string) (map[string]any, bool) {
		if c == url {
			return sd, true
		}
		return set.ResolveJSON(c)
	}})
	require.NoError(t, err)
	return v
}

func TestValueAlternatives(t *testing.T) {
	const profileURL = "http://example.org/fhir/StructureDefinition/active-or-absent"
	v := profiledValidator(t, loadCore(t), "Patient", profileURL, func(em map[string]any) {
		if em["path"] == "Patient.active" {
			em["min"] = 1
			em["extension"] = []any{map[string]any{"url": extValueAlternatives, "valueCanonical": "http://hl7.org/fhir/StructureDefinition/data-absent-reason"}}
		}
	})
	tests := []struct {
		name    string
		patient string
		want    bool
	}{
		{name: "value present", patient: `{"resourceType":"Patient","active":true}`},
		{name: "listed alternative", patient: `{"resourceType":"Patient","_active":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"masked"}]}}`},
		{name: "other extension instead of the value", patient: `{"resourceType":"Patient","_active":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/iso21090-nullFlavor","valueCode":"MSK"}]}}`, want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := v.Validate(context.Background(), []byte(tc.patient), profileURL)
			require.NoError(t, err)
			assert.Equal(t, tc.want, contains(findings(out, "error"), "value-alternative-missing"), "issues: %+v", out.Issues)
		})
	}
}
