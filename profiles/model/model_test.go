package model_test

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/model"
	"github.com/nhsconform/conform/profiles/model/modeltest"
)

func TestTypes(t *testing.T) {
	m := modeltest.Core(t)
	tests := []struct {
		name     string
		kind     model.Kind
		base     string
		abstract bool
		json     model.JSONKind
		system   string
	}{
		{name: "Patient", kind: model.KindResource, base: "DomainResource"},
		{name: "Resource", kind: model.KindResource, abstract: true},
		{name: "HumanName", kind: model.KindComplex, base: "Element"},
		{name: "decimal", kind: model.KindPrimitive, base: "Element", json: model.JSONNumber, system: "System.Decimal"},
		{name: "unsignedInt", kind: model.KindPrimitive, base: "integer", json: model.JSONNumber, system: "System.Integer"},
		{name: "boolean", kind: model.KindPrimitive, base: "Element", json: model.JSONBoolean, system: "System.Boolean"},
		{name: "dateTime", kind: model.KindPrimitive, base: "Element", json: model.JSONString, system: "System.DateTime"},
		{name: "code", kind: model.KindPrimitive, base: "string", json: model.JSONString, system: "System.String"},
		{name: "instant", kind: model.KindPrimitive, base: "Element", json: model.JSONString, system: "System.DateTime"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			typ, ok := m.Type(tc.name)
			require.True(t, ok)
			assert.Equal(t, tc.name, typ.Name)
			assert.Equal(t, model.CanonicalBase+tc.name, typ.URL)
			assert.Equal(t, tc.kind, typ.Kind)
			assert.Equal(t, tc.base, typ.Base)
			assert.Equal(t, tc.abstract, typ.Abstract)
			assert.Equal(t, tc.json, typ.JSON)
			assert.Equal(t, tc.system, typ.System)
			assert.Equal(t, tc.name, typ.Root().Path)
		})
	}
}

func TestUnknownType(t *testing.T) {
	m := modeltest.Core(t)
	_, ok := m.Type("Frobnicator")
	assert.False(t, ok)
	_, ok = m.Type("Frobnicator")
	assert.False(t, ok)
}

func TestChildLookup(t *testing.T) {
	m := modeltest.Core(t)
	tests := []struct {
		name     string
		typ      string
		parent   string
		child    string
		wantPath string
		wantType string
		array    bool
		min      int
		max      string
	}{
		{name: "plain", typ: "Patient", parent: "Patient", child: "birthDate", wantPath: "Patient.birthDate", wantType: "date", max: "1"},
		{name: "array", typ: "Patient", parent: "Patient", child: "name", wantPath: "Patient.name", wantType: "HumanName", array: true, max: "*"},
		{name: "choice", typ: "Observation", parent: "Observation", child: "valueQuantity", wantPath: "Observation.value[x]", wantType: "Quantity", max: "1"},
		{name: "choice primitive", typ: "Patient", parent: "Patient", child: "deceasedBoolean", wantPath: "Patient.deceased[x]", wantType: "boolean", max: "1"},
		{name: "backbone", typ: "Patient", parent: "Patient.contact", child: "relationship", wantPath: "Patient.contact.relationship", wantType: "CodeableConcept", array: true, max: "*"},
		{name: "inherited", typ: "Patient", parent: "Patient", child: "meta", wantPath: "Patient.meta", wantType: "Meta", max: "1"},
		{name: "required", typ: "Observation", parent: "Observation", child: "status", wantPath: "Observation.status", wantType: "code", min: 1, max: "1"},
		{name: "content reference", typ: "Observation", parent: "Observation.component.referenceRange", child: "low", wantPath: "Observation.referenceRange.low", wantType: "Quantity", max: "1"},
		{name: "system typed id", typ: "Patient", parent: "Patient", child: "id", wantPath: "Patient.id", wantType: "string", max: "1"},
		{name: "extension url", typ: "Extension", parent: "Extension", child: "url", wantPath: "Extension.url", wantType: "uri", min: 1, max: "1"},
		{name: "recursive questionnaire item", typ: "Questionnaire", parent: "Questionnaire.item.item", child: "linkId", wantPath: "Questionnaire.item.linkId", wantType: "string", min: 1, max: "1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			typ, ok := m.Type(tc.typ)
			require.True(t, ok)
			parent, ok := typ.Element(tc.parent)
			require.True(t, ok, "parent %s", tc.parent)
			el, code, ok := parent.Child(tc.child)
			require.True(t, ok)
			assert.Equal(t, tc.wantPath, el.Path)
			assert.Equal(t, tc.wantType, code)
			assert.Equal(t, tc.array, el.Array)
			assert.Equal(t, tc.min, el.Min)
			assert.Equal(t, tc.max, el.Max)
		})
	}
}

func TestChildNotFound(t *testing.T) {
	m := modeltest.Core(t)
	typ, ok := m.Type("Observation")
	require.True(t, ok)
	for _, name := range []string{"value", "value[x]", "valueFrobnicator", "_status", "frobnicate"} {
		_, _, ok := typ.Root().Child(name)
		assert.False(t, ok, name)
	}
}

func TestModelChildFollowsDataTypes(t *testing.T) {
	m := modeltest.Core(t)
	patient, _ := m.Type("Patient")
	name, code, ok := patient.Root().Child("name")
	require.True(t, ok)
	given, code, ok := m.Child(name, code, "given")
	require.True(t, ok)
	assert.Equal(t, "HumanName.given", given.Path)
	assert.Equal(t, "string", code)
	assert.True(t, given.Array)
	children := m.Children(name, "HumanName")
	require.NotEmpty(t, children)
	assert.Equal(t, "HumanName.id", children[0].Path)
	assert.Equal(t, "HumanName.period", children[len(children)-1].Path)
}

func TestElementOrderAndAttributes(t *testing.T) {
	m := modeltest.Core(t)
	ext, ok := m.Type("Extension")
	require.True(t, ok)
	var names []string
	for _, c := range ext.Root().Children() {
		names = append(names, c.Name)
	}
	assert.Equal(t, []string{"id", "extension", "url", "value[x]"}, names)
	id, _, _ := ext.Root().Child("id")
	assert.True(t, id.XMLAttr)
	assert.Equal(t, "System.String", id.SystemType)
	url, _, _ := ext.Root().Child("url")
	assert.True(t, url.XMLAttr)
	value, _, _ := ext.Root().Child("valueCodeableConcept")
	assert.True(t, value.Choice)
	assert.Len(t, value.Choices, 50)
	for i, e := range ext.Elements {
		assert.Equal(t, i, e.Order)
	}
}

func TestEveryBaseTypeBuilds(t *testing.T) {
	m := modeltest.Core(t)
	names := []string{"Bundle", "Parameters", "Questionnaire", "QuestionnaireResponse", "StructureDefinition", "ValueSet", "Narrative", "xhtml", "Element", "BackboneElement", "Quantity", "Timing", "Dosage"}
	for _, n := range names {
		typ, ok := m.Type(n)
		require.True(t, ok, n)
		for _, e := range typ.Elements[1:] {
			if e.ContentReference != "" {
				assert.NotSame(t, e, e.Target(), e.Path)
				continue
			}
			assert.NotEmpty(t, e.Types, e.Path)
		}
	}
}

func TestConcurrentFirstUse(t *testing.T) {
	m := modeltest.Core(t)
	var wg sync.WaitGroup
	got := make([]*model.Type, 16)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = m.Type("Encounter")
		}()
	}
	wg.Wait()
	for _, typ := range got {
		assert.Same(t, got[0], typ)
	}
}

func TestResolveFailuresAreNotTypes(t *testing.T) {
	tests := []struct {
		name string
		sd   map[string]any
	}{
		{name: "no snapshot", sd: map[string]any{"type": "X", "kind": "resource"}},
		{name: "empty snapshot", sd: map[string]any{"type": "X", "snapshot": map[string]any{"element": []any{}}}},
		{name: "wrong shapes", sd: map[string]any{"type": 3, "snapshot": map[string]any{"element": []any{"x", 1, nil}}}},
		{name: "root with a dot", sd: map[string]any{"type": "X", "snapshot": map[string]any{"element": []any{map[string]any{"path": "X.y"}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := model.New(func(string) (map[string]any, bool) { return tc.sd, true })
			_, ok := m.Type("X")
			assert.False(t, ok)
		})
	}
}

func BenchmarkBuildType(b *testing.B) {
	dir, err := conformancetest.FindShared()
	require.NoError(b, err)
	resolve, err := modeltest.Resolver(filepath.Join(dir, filepath.FromSlash(modeltest.CorePackage)))
	require.NoError(b, err)
	sd, ok := resolve(model.CanonicalBase + "Observation")
	require.True(b, ok)
	b.ReportAllocs()
	for b.Loop() {
		m := model.New(func(string) (map[string]any, bool) { return sd, true })
		if _, ok := m.Type("Observation"); !ok {
			b.Fatal("no Observation")
		}
	}
}

func BenchmarkChildLookup(b *testing.B) {
	m, err := modeltest.LoadCore()
	require.NoError(b, err)
	obs, _ := m.Type("Observation")
	root := obs.Root()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := root.Child("valueQuantity"); !ok {
			b.Fatal("no valueQuantity")
		}
	}
}

// BenchmarkBuildAllTypes builds every type of the R4 core package from its
// decoded StructureDefinition, as a start-up that touches them all would.
func BenchmarkBuildAllTypes(b *testing.B) {
	dir, err := conformancetest.FindShared()
	require.NoError(b, err)
	path := filepath.Join(dir, filepath.FromSlash(modeltest.CorePackage))
	files, err := modeltest.ReadPackage(path, "StructureDefinition-")
	require.NoError(b, err)
	resolve, err := modeltest.Resolver(path)
	require.NoError(b, err)
	sds := map[string]map[string]any{}
	var names []string
	for name := range files {
		id := strings.TrimSuffix(strings.TrimPrefix(name, "StructureDefinition-"), ".json")
		sd, ok := resolve(model.CanonicalBase + id)
		if !ok || sd["derivation"] == "constraint" {
			continue
		}
		sds[model.CanonicalBase+id] = sd
		names = append(names, id)
	}
	require.Greater(b, len(names), 200)
	b.ReportAllocs()
	for b.Loop() {
		m := model.New(func(url string) (map[string]any, bool) {
			sd, ok := sds[url]
			return sd, ok
		})
		for _, n := range names {
			if _, ok := m.Type(n); !ok {
				b.Fatalf("no type %s", n)
			}
		}
	}
	b.ReportMetric(float64(len(names)), "types/op")
}
