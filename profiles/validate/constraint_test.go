package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/profiles/fhirpath"
)

// TestPlainlyHoldsAgreesWithFHIRPath checks that every invariant
// plainlyHolds skips is one the FHIRPath engine finds true.
func TestPlainlyHoldsAgreesWithFHIRPath(t *testing.T) {
	v := newCoreValidator(t)
	expressions := []string{
		"contained.contained.empty()",
		"contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()",
		"contained.meta.security.empty()",
		"text.`div`.exists()",
	}
	resources := []string{
		`{"resourceType": "Patient"}`,
		`{"resourceType": "Patient", "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}}`,
		`{"resourceType": "Patient", "text": {"status": "generated"}}`,
		`{"resourceType": "Patient", "contained": [{"resourceType": "Patient", "meta": {"versionId": "1"}, "contained": [{"resourceType": "Patient"}]}]}`,
		`{"resourceType": "Patient", "contained": [{"resourceType": "Patient", "meta": {"security": [{"code": "R"}]}}]}`,
	}
	skipped := 0
	for _, src := range resources {
		var res map[string]any
		require.NoError(t, json.Unmarshal([]byte(src), &res))
		for _, expr := range expressions {
			if !plainlyHolds(expr, res) {
				continue
			}
			skipped++
			e, err := v.fp.Compile(expr)
			require.NoError(t, err)
			out, err := e.Evaluate(context.Background(), v.fp.Resource(res), nil)
			require.NoError(t, err)
			ok, _ := fhirpath.Truth(out)
			assert.True(t, ok, "%s skipped on %s but is false", expr, src)
		}
	}
	assert.Equal(t, 10, skipped, "the three resources without contained resources skip dom-2, dom-4 and dom-5; one narrative skips dom-6")
	assert.False(t, plainlyHolds("text.`div`.exists()", map[string]any{"text": map[string]any{}}))
	assert.False(t, plainlyHolds("contained.meta.security.empty()", map[string]any{"contained": []any{}}))
	assert.False(t, plainlyHolds("name.exists()", map[string]any{}))
}

func TestBoundedCacheStopsAtItsLimit(t *testing.T) {
	var c boundedCache
	for i := 0; i < maxCacheEntries+10; i++ {
		got := c.loadOrStore(fmt.Sprintf("http://example.org/StructureDefinition/p%d", i), i)
		assert.Equal(t, i, got)
	}
	assert.Equal(t, int64(maxCacheEntries), c.n.Load())
	_, kept := c.load(fmt.Sprintf("http://example.org/StructureDefinition/p%d", maxCacheEntries+5))
	assert.False(t, kept, "entries past the limit are not kept")
	v, kept := c.load("http://example.org/StructureDefinition/p7")
	assert.True(t, kept)
	assert.Equal(t, 7, v)
	assert.Equal(t, 7, c.loadOrStore("http://example.org/StructureDefinition/p7", 99), "the value kept first stays")
}

func TestDuplicateElementIDs(t *testing.T) {
	v := newCoreValidator(t)
	tests := []struct {
		name string
		doc  string
		dup  bool
	}{
		{name: "two elements with one id", doc: `{"resourceType": "Patient", "id": "p", "identifier": [{"id": "x", "value": "1"}, {"id": "x", "value": "2"}]}`, dup: true},
		{name: "escaped key spelling id", doc: `{"resourceType": "Patient", "identifier": [{"id": "x", "value": "1"}, {"\u0069d": "x", "value": "2"}]}`, dup: true},
		{name: "element id equal to the resource id", doc: `{"resourceType": "Patient", "id": "x", "identifier": [{"id": "x", "value": "1"}]}`},
		{name: "distinct element ids", doc: `{"resourceType": "Patient", "identifier": [{"id": "x", "value": "1"}, {"id": "y", "value": "2"}]}`},
		{name: "no element ids", doc: `{"resourceType": "Patient", "id": "p", "gender": "male"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := v.Validate(context.Background(), []byte(tc.doc))
			require.NoError(t, err)
			found := false
			for _, is := range out.Issues {
				found = found || is.MessageID == "element-id-duplicate"
			}
			assert.Equal(t, tc.dup, found, "%v", out.Issues)
		})
	}
}
