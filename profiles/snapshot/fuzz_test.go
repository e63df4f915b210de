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

func FuzzGenerateOnHostileBase(f *testing.F) {
	f.Add(`[{"path":"X"},{"path":"X.a","type":[{"code":"Quantity"}]},{"path":"X.b","contentReference":"#X.b"},{"path":"X.c","slicing":{"rules":"closed"}},{"path":"X.c","sliceName":"s"}]`,
		`[{"path":"X.a.value","min":1},{"path":"X.b.b.b"},{"path":"X.c","sliceName":"t"},{"path":"X.c","sliceName":"s/u"}]`)
	f.Add(`[{"path":"X"},{"path":"X.a","contentReference":"#X"},{"path":"Y.z"}]`, `[{"path":"X.a.a.a.a"},{"path":"X.valueString"}]`)
	g0 := &Generator{Resolve: coreSet(f).ResolveJSON}
	f.Fuzz(func(t *testing.T, baseElems, diffElems string) {
		var be, de []any
		if decodeNumbers(baseElems, &be) != nil || decodeNumbers(diffElems, &de) != nil {
			return
		}
		base := profile(testSD+"base", fhirSD+"Basic", "X")
		base["snapshot"] = map[string]any{"element": be}
		sd := profile(testSD+"fuzz", testSD+"base", "X")
		sd["differential"] = map[string]any{"element": de}
		g := &Generator{Resolve: func(url string) (map[string]any, bool) {
			if stripVersion(url) == testSD+"base" {
				return base, true
			}
			return g0.Resolve(url)
		}}
		_, _, _ = g.Generate(sd)
	})
}

func decodeNumbers(s string, v any) error {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	return dec.Decode(v)
}
