package snapshot

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// profile builds a constraint StructureDefinition with the given differential.
func profile(url, base, typ string, diff ...map[string]any) map[string]any {
	list := make([]any, len(diff))
	for i, d := range diff {
		list[i] = d
	}
	return map[string]any{
		"resourceType": "StructureDefinition", "url": url, "name": tail(url), "status": "draft",
		"kind": "resource", "abstract": false, "type": typ, "baseDefinition": base, "derivation": "constraint",
		"differential": map[string]any{"element": list},
	}
}

// el builds a differential element from its id and extra properties; path
// and sliceName are derived from the id.
func el(id string, props ...any) map[string]any {
	e := map[string]any{"id": id}
	var segs []string
	for _, s := range strings.Split(id, ".") {
		name, slice, ok := strings.Cut(s, ":")
		segs = append(segs, name)
		if ok && !strings.Contains(id[strings.Index(id, s)+len(s):], ".") {
			e["sliceName"] = slice
		}
	}
	e["path"] = strings.Join(segs, ".")
	for i := 0; i+1 < len(props); i += 2 {
		e[props[i].(string)] = props[i+1]
	}
	return e
}

func typ(code string, profiles ...string) []any {
	t := map[string]any{"code": code}
	if len(profiles) > 0 {
		ps := make([]any, len(profiles))
		for i, p := range profiles {
			ps[i] = p
		}
		t["profile"] = ps
	}
	return []any{t}
}

// generatorWith returns a Generator over hl7.fhir.r4.core and the given
// definitions.
func generatorWith(t *testing.T, sds ...map[string]any) *Generator {
	t.Helper()
	set := coreSet(t)
	local := map[string]map[string]any{}
	for _, sd := range sds {
		local[str(sd, "url")] = sd
	}
	return &Generator{Resolve: func(url string) (map[string]any, bool) {
		if sd, ok := local[stripVersion(url)]; ok {
			return sd, true
		}
		return set.ResolveJSON(url)
	}}
}

func byID(t *testing.T, sd map[string]any) map[string]element {
	t.Helper()
	out := map[string]element{}
	for _, e := range elementsOf(sd, "snapshot") {
		id := str(e, "id")
		require.NotContains(t, out, id, "duplicate id")
		out[id] = e
	}
	return out
}

func ids(sd map[string]any) []string {
	var out []string
	for _, e := range elementsOf(sd, "snapshot") {
		out = append(out, str(e, "id"))
	}
	return out
}

const (
	fhirSD = "http://hl7.org/fhir/StructureDefinition/"
	testSD = "https://example.org/StructureDefinition/"
)

func TestGenerate(t *testing.T) {
	ext := profile(testSD+"ext-flag", fhirSD+"Extension", "Extension",
		el("Extension", "max", "1"), el("Extension.url", "fixedUri", testSD+"ext-flag"), el("Extension.value[x]", "type", typ("boolean")))
	ext["kind"] = "complex-type"
	sliced := profile(testSD+"sliced-patient", fhirSD+"Patient", "Patient",
		el("Patient"),
		el("Patient.identifier", "slicing", map[string]any{"discriminator": []any{map[string]any{"type": "value", "path": "system"}}, "rules": "open"}),
		el("Patient.identifier:nhs", "min", json.Number("0"), "max", "1"),
		el("Patient.identifier:nhs.system", "min", json.Number("1"), "fixedUri", "https://fhir.nhs.uk/Id/nhs-number"))
	tests := []struct {
		name  string
		sd    map[string]any
		extra []map[string]any
		check func(t *testing.T, got map[string]any, warnings []Warning)
	}{
		{
			name: "inherits every base element and constrains the named ones",
			sd: profile(testSD+"p", fhirSD+"Patient", "Patient", el("Patient"),
				el("Patient.gender", "min", json.Number("1"), "mustSupport", true),
				el("Patient.maritalStatus", "binding", map[string]any{"strength": "required", "valueSet": "https://example.org/vs"})),
			check: func(t *testing.T, got map[string]any, _ []Warning) {
				base, _, err := coreGen(t).SnapshotFor(fhirSD + "Patient")
				require.NoError(t, err)
				assert.Equal(t, ids(base), ids(got))
				es := byID(t, got)
				assert.Equal(t, "1", Summary(es["Patient.gender"], PropertyMin))
				assert.Equal(t, true, es["Patient.gender"]["mustSupport"])
				assert.Equal(t, "required https://example.org/vs", Summary(es["Patient.maritalStatus"], PropertyBinding))
				assert.Equal(t, "Patient.gender", str(es["Patient.gender"]["base"].(map[string]any), "path"))
			},
		},
		{
			name: "walks into a data type the base does not expand",
			sd: profile(testSD+"p", fhirSD+"Patient", "Patient", el("Patient"),
				el("Patient.name.family", "min", json.Number("1"))),
			check: func(t *testing.T, got map[string]any, _ []Warning) {
				es := byID(t, got)
				require.Contains(t, es, "Patient.name.given")
				assert.Equal(t, "1", Summary(es["Patient.name.family"], PropertyMin))
				assert.Equal(t, "string", Summary(es["Patient.name.family"], PropertyType))
			},
		},
		{
			name:  "slices an extension by url with the extension definition's elements and cardinality",
			extra: []map[string]any{ext},
			sd: profile(testSD+"p", fhirSD+"Patient", "Patient", el("Patient"),
				el("Patient.extension:flag", "type", typ("Extension", testSD+"ext-flag")),
				el("Patient.extension:flag.value[x]", "mustSupport", true)),
			check: func(t *testing.T, got map[string]any, _ []Warning) {
				es := byID(t, got)
				assert.Equal(t, "value:url open", Summary(es["Patient.extension"], PropertySlicing))
				assert.Equal(t, "Extension("+testSD+"ext-flag)", Summary(es["Patient.extension:flag"], PropertyType))
				assert.Equal(t, "0", Summary(es["Patient.extension:flag"], PropertyMin))
				assert.Equal(t, "1", Summary(es["Patient.extension:flag"], PropertyMax), "from the extension definition's root")
				assert.Equal(t, `fixedUri="`+testSD+`ext-flag"`, Summary(es["Patient.extension:flag.url"], PropertyValue))
				assert.Equal(t, "boolean", Summary(es["Patient.extension:flag.value[x]"], PropertyType))
			},
		},
		{
			name: "a type-named choice becomes a closed slicing by type",
			sd: profile(testSD+"o", fhirSD+"Observation", "Observation", el("Observation"),
				el("Observation.valueQuantity", "min", json.Number("1")),
				el("Observation.valueQuantity.system", "fixedUri", "http://unitsofmeasure.org")),
			check: func(t *testing.T, got map[string]any, _ []Warning) {
				es := byID(t, got)
				assert.Equal(t, "type:$this closed", Summary(es["Observation.value[x]"], PropertySlicing))
				assert.Equal(t, "Quantity", Summary(es["Observation.value[x]"], PropertyType))
				s := es["Observation.value[x]:valueQuantity"]
				require.NotNil(t, s)
				assert.Equal(t, "1", Summary(s, PropertyMin))
				assert.Equal(t, "Observation.value[x]", path(s))
				assert.Equal(t, `fixedUri="http://unitsofmeasure.org"`, Summary(es["Observation.value[x]:valueQuantity.system"], PropertyValue))
			},
		},
		{
			name:  "re-slices a slice of the base profile after it",
			extra: []map[string]any{sliced},
			sd: profile(testSD+"p2", testSD+"sliced-patient", "Patient", el("Patient"),
				el("Patient.identifier:nhs", "mustSupport", true),
				el("Patient.identifier:nhs/old", "max", "1"),
				el("Patient.identifier:local", "max", "1")),
			check: func(t *testing.T, got map[string]any, _ []Warning) {
				all := ids(got)
				es := byID(t, got)
				assert.Equal(t, true, es["Patient.identifier:nhs"]["mustSupport"])
				assert.Equal(t, `fixedUri="https://fhir.nhs.uk/Id/nhs-number"`, Summary(es["Patient.identifier:nhs.system"], PropertyValue))
				assert.Equal(t, `fixedUri="https://fhir.nhs.uk/Id/nhs-number"`, Summary(es["Patient.identifier:nhs/old.system"], PropertyValue), "a re-slice inherits its slice")
				assert.Less(t, index(all, "Patient.identifier:nhs.assigner"), index(all, "Patient.identifier:nhs/old"))
				assert.Less(t, index(all, "Patient.identifier:nhs/old.assigner"), index(all, "Patient.identifier:local"))
				assert.Equal(t, "value:system open", Summary(es["Patient.identifier"], PropertySlicing))
			},
		},
		{
			name: "follows a contentReference when the differential goes below it",
			sd: profile(testSD+"q", fhirSD+"Questionnaire", "Questionnaire", el("Questionnaire"),
				el("Questionnaire.item.item.linkId", "maxLength", json.Number("10"))),
			check: func(t *testing.T, got map[string]any, _ []Warning) {
				es := byID(t, got)
				require.Contains(t, es, "Questionnaire.item.item.linkId")
				assert.Equal(t, json.Number("10"), es["Questionnaire.item.item.linkId"]["maxLength"])
				assert.Equal(t, "BackboneElement", Summary(es["Questionnaire.item.item"], PropertyType))
				assert.NotContains(t, es["Questionnaire.item.item"], "contentReference")
				assert.Contains(t, es, "Questionnaire.item.item.item", "nested items keep their contentReference")
			},
		},
		{
			name: "adds constraints and keeps the inherited ones",
			sd: profile(testSD+"p", fhirSD+"Patient", "Patient", el("Patient"),
				el("Patient.name", "constraint", []any{map[string]any{"key": "uk-1", "severity": "error", "human": "family or given", "expression": "family.exists() or given.exists()"}})),
			check: func(t *testing.T, got map[string]any, _ []Warning) {
				cs := anyList(byID(t, got)["Patient.name"]["constraint"])
				var keys []string
				for _, c := range cs {
					keys = append(keys, str(c.(map[string]any), "key"))
				}
				assert.Equal(t, []string{"ele-1", "uk-1"}, keys)
				assert.Equal(t, testSD+"p", str(cs[1].(map[string]any), "source"))
			},
		},
		{
			name: "an unresolvable extension profile is a warning",
			sd: profile(testSD+"p", fhirSD+"Patient", "Patient", el("Patient"),
				el("Patient.extension:r5", "type", typ("Extension", "http://hl7.org/fhir/5.0/StructureDefinition/extension-Patient.missing"))),
			check: func(t *testing.T, got map[string]any, warnings []Warning) {
				require.Contains(t, byID(t, got), "Patient.extension:r5")
				require.Len(t, warnings, 1)
				assert.Contains(t, warnings[0].Message, "extension-Patient.missing")
			},
		},
		{
			name: "a type the base does not allow is a warning",
			sd: profile(testSD+"p", fhirSD+"Patient", "Patient", el("Patient"),
				el("Patient.gender", "type", typ("CodeableConcept")),
				el("Patient.birthDate", "type", typ("date"))),
			check: func(t *testing.T, _ map[string]any, warnings []Warning) {
				require.Len(t, warnings, 1)
				assert.Equal(t, "Patient.gender", warnings[0].Path)
				assert.Contains(t, warnings[0].Message, "type CodeableConcept is not among the base's types (code)")
			},
		},
		{
			name: "a differential element matching nothing is a warning",
			sd:   profile(testSD+"p", fhirSD+"Patient", "Patient", el("Patient"), el("Patient.nonsense", "min", json.Number("1"))),
			check: func(t *testing.T, _ map[string]any, warnings []Warning) {
				require.Len(t, warnings, 1)
				assert.Equal(t, "Patient.nonsense", warnings[0].Path)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := generatorWith(t, append(tc.extra, tc.sd)...)
			got, warnings, err := g.Generate(tc.sd)
			require.NoError(t, err)
			tc.check(t, got, warnings)
			assert.NotContains(t, tc.sd, "snapshot", "the input is not modified")
		})
	}
}

func index(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func coreGen(t *testing.T) *Generator { return &Generator{Resolve: coreSet(t).ResolveJSON} }

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name  string
		sd    map[string]any
		extra []map[string]any
		check func(t *testing.T, err error)
	}{
		{
			name: "a lower min than the base is refused",
			sd:   profile(testSD+"o", fhirSD+"Observation", "Observation", el("Observation.status", "min", json.Number("0"))),
			check: func(t *testing.T, err error) {
				var le *LooseningError
				require.ErrorAs(t, err, &le)
				assert.Equal(t, "min", le.Property)
				assert.Equal(t, "Observation.status", le.Path)
			},
		},
		{
			name: "a higher max than the base is refused",
			sd:   profile(testSD+"o", fhirSD+"Observation", "Observation", el("Observation.subject", "max", "*")),
			check: func(t *testing.T, err error) {
				var le *LooseningError
				require.ErrorAs(t, err, &le)
				assert.Equal(t, "max", le.Property)
				assert.Equal(t, "1", le.Base)
			},
		},
		{
			name: "a missing base definition",
			sd:   profile(testSD+"o", testSD+"nowhere", "Observation", el("Observation")),
			check: func(t *testing.T, err error) {
				var ue *UnresolvedError
				require.ErrorAs(t, err, &ue)
				assert.Equal(t, testSD+"nowhere", ue.URL)
			},
		},
		{
			name:  "a profile based on itself",
			sd:    profile(testSD+"a", testSD+"b", "Patient", el("Patient")),
			extra: []map[string]any{profile(testSD+"b", testSD+"a", "Patient", el("Patient"))},
			check: func(t *testing.T, err error) {
				var ce *CycleError
				require.ErrorAs(t, err, &ce)
			},
		},
		{
			name: "not a StructureDefinition",
			sd:   map[string]any{"resourceType": "Patient"},
			check: func(t *testing.T, err error) {
				var de *DefinitionError
				require.ErrorAs(t, err, &de)
			},
		},
		{
			name: "a specialization",
			sd: func() map[string]any {
				sd, _ := coreSet(t).ResolveJSON(fhirSD + "Patient")
				return sd
			}(),
			check: func(t *testing.T, err error) {
				var de *DefinitionError
				require.ErrorAs(t, err, &de)
				assert.Equal(t, "derivation", de.Path)
			},
		},
		{
			name: "a max that is not a number",
			sd:   profile(testSD+"o", fhirSD+"Observation", "Observation", el("Observation.note", "max", "many")),
			check: func(t *testing.T, err error) {
				var de *DefinitionError
				require.ErrorAs(t, err, &de)
				assert.Contains(t, de.Error(), "many")
			},
		},
		{
			name: "children under a choice of several types that all have them",
			sd:   profile(testSD+"o", fhirSD+"Observation", "Observation", el("Observation.effective[x].id", "max", "0")),
			check: func(t *testing.T, err error) {
				var de *DefinitionError
				require.ErrorAs(t, err, &de)
				assert.Contains(t, de.Message, "several types")
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := generatorWith(t, append(tc.extra, tc.sd)...).Generate(tc.sd)
			require.Error(t, err)
			tc.check(t, err)
		})
	}
}

func TestLooseningKeepsTheSnapshotBesideTheError(t *testing.T) {
	sd := profile(testSD+"o", fhirSD+"Observation", "Observation", el("Observation.subject", "max", "*"))
	gen := generatorWith(t, sd)
	for name, generate := range map[string]func() (map[string]any, []Warning, error){
		"Generate":    func() (map[string]any, []Warning, error) { return gen.Generate(sd) },
		"SnapshotFor": func() (map[string]any, []Warning, error) { return gen.SnapshotFor(testSD + "o") },
	} {
		t.Run(name, func(t *testing.T) {
			got, _, err := generate()
			var le *LooseningError
			require.ErrorAs(t, err, &le)
			require.NotNil(t, got, "the snapshot is returned with the error")
			subject := elementByID(t, got, "Observation.subject")
			assert.Equal(t, "*", subject["max"], "the derived max is applied, as the reference implementation does")
		})
	}
}

func elementByID(t *testing.T, sd map[string]any, id string) map[string]any {
	t.Helper()
	for _, e := range elementsOf(sd, "snapshot") {
		if str(e, "id") == id {
			return e
		}
	}
	t.Fatalf("no element %s in the snapshot", id)
	return nil
}

func TestSnapshotForIsSharedAndConcurrent(t *testing.T) {
	ext := profile(testSD+"e", fhirSD+"Extension", "Extension", el("Extension.value[x]", "type", typ("string")))
	p := profile(testSD+"p", fhirSD+"Patient", "Patient", el("Patient.extension:e", "type", typ("Extension", testSD+"e")))
	g := generatorWith(t, ext, p)
	var wg sync.WaitGroup
	results := make([]map[string]any, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _, errs[i] = g.SnapshotFor(testSD + "p|1.0")
		}()
	}
	wg.Wait()
	for i := range results {
		require.NoError(t, errs[i])
		assert.Equal(t, fmt.Sprintf("%p", results[0]), fmt.Sprintf("%p", results[i]), "one generation, shared")
	}
	published, _, err := g.SnapshotFor(fhirSD + "Patient")
	require.NoError(t, err)
	sd, _ := coreSet(t).ResolveJSON(fhirSD + "Patient")
	assert.Equal(t, fmt.Sprintf("%p", sd), fmt.Sprintf("%p", published), "a published snapshot is used as it is")
}

func TestCompareFindsDifferences(t *testing.T) {
	g := coreGen(t)
	pub, _, err := g.SnapshotFor(fhirSD + "bodyweight")
	require.NoError(t, err)
	gen, _, err := g.Generate(pub)
	require.NoError(t, err)
	c := Compare(pub, gen)
	require.Equal(t, c.Elements, c.Identical)
	es := elementsOf(gen, "snapshot")
	es[3]["min"] = json.Number("7")
	require.Contains(t, es[4], "binding")
	delete(es[4], "binding")
	es[len(es)-1]["id"] = "Observation.elsewhere"
	c = Compare(pub, gen)
	assert.Equal(t, c.Elements-3, c.Identical)
	assert.Equal(t, []string{"Observation.elsewhere"}, c.Extra)
	var props []string
	for _, d := range c.Differences {
		props = append(props, d.Property)
	}
	assert.ElementsMatch(t, []string{PropertyMin, PropertyBinding, PropertyMissing}, props)
}

func TestUnresolvedErrorNamesTheNeed(t *testing.T) {
	err := error(&UnresolvedError{URL: "u", From: "p"})
	assert.Equal(t, "structure definition u (needed by p) not found", err.Error())
	assert.True(t, errors.As(fmt.Errorf("wrap: %w", err), new(*UnresolvedError)))
}

func TestSnapshotHook(t *testing.T) {
	p := profile(testSD+"p", fhirSD+"Patient", "Patient", el("Patient.gender", "min", json.Number("1")))
	g := generatorWith(t, p)
	cached, _, err := g.SnapshotFor(testSD + "p")
	require.NoError(t, err)
	got, err := g.Snapshot(p)
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("%p", cached), fmt.Sprintf("%p", got), "the resolved definition uses the cache")
	other := profile(testSD+"p", fhirSD+"Patient", "Patient", el("Patient.gender", "max", "0"))
	got, err = g.Snapshot(other)
	require.NoError(t, err)
	assert.Equal(t, "0", Summary(byID(t, got)["Patient.gender"], PropertyMax), "another definition with the same URL is generated")
	published, _ := coreSet(t).ResolveJSON(fhirSD + "Observation")
	got, err = g.Snapshot(published)
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("%p", published), fmt.Sprintf("%p", got))
}

func TestTypeNamedChoiceInsideADataType(t *testing.T) {
	p := profile(testSD+"p", fhirSD+"Patient", "Patient", el("Patient"),
		el("Patient.extension:flag", "type", typ("Extension")),
		el("Patient.extension:flag.url", "fixedUri", testSD+"flag"),
		el("Patient.extension:flag.valueBoolean", "min", json.Number("1")))
	got, _, err := generatorWith(t, p).Generate(p)
	require.NoError(t, err)
	es := byID(t, got)
	assert.Equal(t, "type:$this closed", Summary(es["Patient.extension:flag.value[x]"], PropertySlicing))
	assert.Equal(t, "boolean", Summary(es["Patient.extension:flag.value[x]"], PropertyType))
	assert.Equal(t, "boolean", Summary(es["Patient.extension:flag.value[x]:valueBoolean"], PropertyType))
	assert.Equal(t, "1", Summary(es["Patient.extension:flag.value[x]:valueBoolean"], PropertyMin))
}

func TestExplicitTypeSlices(t *testing.T) {
	p := profile(testSD+"o", fhirSD+"Observation", "Observation", el("Observation"),
		el("Observation.value[x]", "slicing", map[string]any{"discriminator": []any{map[string]any{"type": "type", "path": "$this"}}, "rules": "closed"}),
		el("Observation.value[x]:valueQuantity", "type", typ("Quantity"), "min", json.Number("0")),
		el("Observation.value[x]:valueQuantity.code", "min", json.Number("1")),
		el("Observation.value[x]:valueString", "type", typ("string")))
	got, warnings, err := generatorWith(t, p).Generate(p)
	require.NoError(t, err)
	assert.Empty(t, warnings)
	all := ids(got)
	es := byID(t, got)
	assert.Equal(t, "type:$this closed", Summary(es["Observation.value[x]"], PropertySlicing))
	assert.Equal(t, "1", Summary(es["Observation.value[x]:valueQuantity.code"], PropertyMin))
	assert.Equal(t, "string", Summary(es["Observation.value[x]:valueString"], PropertyType))
	assert.Less(t, index(all, "Observation.value[x]:valueQuantity.code"), index(all, "Observation.value[x]:valueString"))
	assert.Less(t, index(all, "Observation.value[x]:valueString"), index(all, "Observation.dataAbsentReason"))
}
