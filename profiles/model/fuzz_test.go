package model_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/nhsconform/conform/profiles/model"
)

// FuzzType checks that building a type from any StructureDefinition-shaped
// JSON never panics and yields a consistent element tree.
func FuzzType(f *testing.F) {
	f.Add([]byte(`{"type":"X","kind":"resource","snapshot":{"element":[{"path":"X"},{"path":"X.a","max":"*","type":[{"code":"string"}]},{"path":"X.b[x]","type":[{"code":"Quantity"},{"code":"boolean"}]},{"path":"X.c","contentReference":"#X"}]}}`))
	f.Add([]byte(`{"type":"decimal","kind":"primitive-type","snapshot":{"element":[{"path":"decimal"},{"path":"decimal.value","representation":["xmlAttr"],"type":[{"code":"http://hl7.org/fhirpath/System.Decimal","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type","valueUrl":""}]}]}]}}`))
	f.Add([]byte(`{"snapshot":{"element":[{"path":"X"},{"path":"X.y.z","min":1.5},{"id":"X.a:s","path":"X.a"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		var sd map[string]any
		if d.Decode(&sd) != nil {
			return
		}
		m := model.New(func(string) (map[string]any, bool) { return sd, true })
		typ, ok := m.Type("X")
		if !ok {
			return
		}
		root := typ.Root()
		for i, e := range typ.Elements {
			if e.Order != i {
				t.Fatalf("element %s has order %d at %d", e.Path, e.Order, i)
			}
			for _, c := range e.Children() {
				for _, ch := range c.Choices {
					if _, _, ok := e.Child(ch.Name); !ok {
						t.Fatalf("child %s of %s not found by its JSON name", ch.Name, e.Path)
					}
				}
			}
			m.Children(e, e.TypeCode())
			e.Target()
		}
		root.Child("a")
	})
}
