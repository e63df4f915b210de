package validate

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEmbeddedResourceTypeFromTypeProfile(t *testing.T) {
	set := loadCore(t)
	const profileURL = "http://example.org/fhir/StructureDefinition/manifest-bundle"
	base, ok := set.ResolveJSON(model("Bundle"))
	require.True(t, ok)
	raw, err := json.Marshal(base)
	require.NoError(t, err)
	var sd map[string]any
	require.NoError(t, json.Unmarshal(raw, &sd))
	sd["url"], sd["derivation"], sd["baseDefinition"] = profileURL, "constraint", model("Bundle")
	for _, e := range sd["snapshot"].(map[string]any)["element"].([]any) {
		em := e.(map[string]any)
		if em["path"] == "Bundle.entry.resource" {
			em["type"] = []any{map[string]any{"code": "Resource", "profile": []any{model("DocumentManifest")}}}
		}
	}
	resolve := func(url string) (map[string]any, bool) {
		if url == profileURL {
			return sd, true
		}
		return set.ResolveJSON(url)
	}
	v, err := New(Options{Resolve: resolve})
	require.NoError(t, err)
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
