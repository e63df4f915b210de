package snapshot

import (
	"bytes"
	"encoding/json"
	"testing"
)

func FuzzGenerate(f *testing.F) {
	seeds := []string{
		`[{"path":"Patient"},{"path":"Patient.name.family","min":1}]`,
		`[{"path":"Observation.valueQuantity"},{"path":"Observation.valueQuantity.value","min":1}]`,
		`[{"path":"Observation.component","slicing":{"discriminator":[{"type":"value","path":"code"}],"rules":"open"}},{"path":"Observation.component","sliceName":"a"},{"path":"Observation.component.code","min":1}]`,
		`[{"path":"Observation.extension","sliceName":"x","type":[{"code":"Extension","profile":["http://hl7.org/fhir/StructureDefinition/patient-birthPlace"]}]},{"path":"Observation.extension.value[x]"}]`,
		`[{"path":"Questionnaire.item.item.item.linkId","max":"0"}]`,
		`[{"path":"Observation.referenceRange.low.value","max":"1"},{"path":"Observation.component.referenceRange.high"}]`,
		`[{"path":"Observation.code.coding","sliceName":"a/b"},{"path":"Observation.status","min":"x"}]`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	g0 := &Generator{Resolve: coreSet(f).ResolveJSON}
	f.Fuzz(func(t *testing.T, diff string) {
		dec := json.NewDecoder(bytes.NewReader([]byte(diff)))
		dec.UseNumber()
		var elems []any
		if dec.Decode(&elems) != nil {
			return
		}
		for _, base := range []string{"Observation", "Questionnaire"} {
			sd := profile(testSD+"fuzz", fhirSD+base, base)
			sd["differential"] = map[string]any{"element": elems}
			g := &Generator{Resolve: g0.Resolve}
			got, _, err := g.Generate(sd)
			if err == nil && len(elementsOf(got, "snapshot")) == 0 {
				t.Fatalf("no error and no snapshot for %s", diff)
			}
		}
	})
}
