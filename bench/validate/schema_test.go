package validatebench

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// primitivePatterns are the R4 regular expressions of the primitive types
// checked by the generated schema.
var primitivePatterns = map[string]string{
	"id":       `^[A-Za-z0-9\-\.]{1,64}$`,
	"code":     `^[^\s]+(\s[^\s]+)*$`,
	"date":     `^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$`,
	"dateTime": `^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$`,
	"instant":  `^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$`,
	"time":     `^([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?$`,
	"uri":      `^\S*$`, "url": `^\S*$`, "canonical": `^\S*$`,
	"oid":          `^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$`,
	"uuid":         `^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`,
	"base64Binary": `^(\s*([0-9a-zA-Z\+/=]){4}\s*)+$`,
	"string":       `^[ \r\n\t\S]+$`, "markdown": `^[ \r\n\t\S]+$`,
}

func defName(path string) string { return strings.ReplaceAll(path, ".", "_") }

// schemaFor returns the JSON Schema of a value of FHIR type code.
func schemaFor(code string) map[string]any {
	switch code {
	case "boolean":
		return map[string]any{"type": "boolean"}
	case "integer", "positiveInt", "unsignedInt":
		return map[string]any{"type": "integer"}
	case "decimal":
		return map[string]any{"type": "number"}
	case "xhtml":
		return map[string]any{"type": "string"}
	case "Resource", "DomainResource":
		return map[string]any{"$ref": "#/definitions/AnyResource"}
	}
	if p, ok := primitivePatterns[code]; ok {
		return map[string]any{"type": "string", "pattern": p}
	}
	if strings.HasPrefix(code, "http://hl7.org/fhirpath/System.") {
		return map[string]any{"type": "string"}
	}
	return map[string]any{"$ref": "#/definitions/" + code}
}

// generateSchema builds a JSON Schema with one definition per resource and
// data type (and per backbone element) from the core snapshots, the way the
// FHIR JSON schema is built: properties with JSON types, arrays, required
// elements, no additional properties, primitive patterns.
func generateSchema(tb testing.TB, c *corpus) []byte {
	defs := map[string]any{}
	var resourceTypes []string
	var sds []map[string]any
	for _, r := range c.set.ByType("StructureDefinition") {
		if r.Package.Name != "hl7.fhir.r4.core" {
			continue
		}
		m, err := r.JSON()
		if err != nil {
			tb.Fatal(err)
		}
		if m["derivation"] == "constraint" || m["kind"] == "logical" || m["kind"] == "primitive-type" {
			continue
		}
		sds = append(sds, m)
		if m["kind"] == "resource" && m["abstract"] != true {
			resourceTypes = append(resourceTypes, m["type"].(string))
		}
	}
	for _, sd := range sds {
		typ := sd["type"].(string)
		elems := sd["snapshot"].(map[string]any)["element"].([]any)
		objects := map[string]map[string]any{}
		required := map[string][]any{}
		for i, e := range elems {
			em := e.(map[string]any)
			path := em["path"].(string)
			if i == 0 {
				objects[path] = map[string]any{}
				continue
			}
			dot := strings.LastIndexByte(path, '.')
			parent, name := path[:dot], path[dot+1:]
			props, ok := objects[parent]
			if !ok {
				continue
			}
			array := true
			if base, ok := em["base"].(map[string]any); ok && base["max"] == "1" {
				array = false
			}
			wrap := func(s map[string]any) map[string]any {
				if array {
					return map[string]any{"type": "array", "items": s}
				}
				return s
			}
			var types []string
			for _, t := range asList(em["type"]) {
				types = append(types, t.(map[string]any)["code"].(string))
			}
			if ref, ok := em["contentReference"].(string); ok {
				props[name] = wrap(map[string]any{"$ref": "#/definitions/" + defName(strings.TrimPrefix(ref, "#"))})
				continue
			}
			if len(types) == 1 && (types[0] == "BackboneElement" || types[0] == "Element") && path != typ+".id" {
				objects[path] = map[string]any{}
				props[name] = wrap(map[string]any{"$ref": "#/definitions/" + defName(path)})
			} else if strings.HasSuffix(name, "[x]") {
				base := strings.TrimSuffix(name, "[x]")
				for _, t := range types {
					props[base+strings.ToUpper(t[:1])+t[1:]] = wrap(schemaFor(t))
					props["_"+base+strings.ToUpper(t[:1])+t[1:]] = map[string]any{"$ref": "#/definitions/Element"}
				}
				continue
			} else if len(types) > 0 {
				props[name] = wrap(schemaFor(types[0]))
				if types[0][0] >= 'a' && types[0][0] <= 'z' {
					props["_"+name] = wrap(map[string]any{"$ref": "#/definitions/Element"})
				}
			}
			if min, ok := em["min"].(json.Number); ok && min != "0" {
				required[parent] = append(required[parent], name)
			}
		}
		for path, props := range objects {
			d := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
			if path == typ && sd["kind"] == "resource" {
				props["resourceType"] = map[string]any{"const": typ}
				d["required"] = append([]any{"resourceType"}, required[path]...)
			} else if len(required[path]) > 0 {
				d["required"] = required[path]
			}
			defs[defName(path)] = d
		}
	}
	// A resource is chosen by its resourceType with if/then rather than the
	// official schema's oneOf, which tries every resource type in turn.
	var dispatch []any
	var names []any
	for _, rt := range resourceTypes {
		names = append(names, rt)
		dispatch = append(dispatch, map[string]any{
			"if":   map[string]any{"properties": map[string]any{"resourceType": map[string]any{"const": rt}}},
			"then": map[string]any{"$ref": "#/definitions/" + rt},
		})
	}
	defs["AnyResource"] = map[string]any{"type": "object", "required": []any{"resourceType"}, "properties": map[string]any{"resourceType": map[string]any{"enum": names}}, "allOf": dispatch}
	schema := map[string]any{"$schema": "http://json-schema.org/draft-07/schema#", "definitions": defs, "$ref": "#/definitions/AnyResource"}
	b, err := json.Marshal(schema)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// BenchmarkJSONSchemaStructure measures the JSON Schema route for the
// structure layer: a schema generated from the core snapshots, compiled with
// santhosh-tekuri/jsonschema/v5, run over the 705 clinical examples. It
// checks less than conform's whole validator does (no profiles, bindings,
// slicing, invariants or references).
func BenchmarkJSONSchemaStructure(b *testing.B) {
	c := load(b)
	raw := generateSchema(b, c)
	comp := jsonschema.NewCompiler()
	comp.Draft = jsonschema.Draft7
	if err := comp.AddResource("fhir.schema.json", bytes.NewReader(raw)); err != nil {
		b.Fatal(err)
	}
	schema, err := comp.Compile("fhir.schema.json")
	if err != nil {
		b.Fatal(err)
	}
	docs := make([]any, len(c.raw))
	for i, r := range c.raw {
		d := json.NewDecoder(bytes.NewReader(r))
		d.UseNumber()
		if err := d.Decode(&docs[i]); err != nil {
			b.Fatal(err)
		}
	}
	var invalid atomic.Int64
	run := func() {
		invalid.Store(0)
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < runtime.GOMAXPROCS(0); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= len(docs) {
						return
					}
					if schema.Validate(docs[i]) != nil {
						invalid.Add(1)
					}
				}
			}()
		}
		wg.Wait()
	}
	run()
	cpu0 := conformancetest.ProcessCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run()
	}
	b.StopTimer()
	n := float64(len(docs) * b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "resources/s")
	if used := conformancetest.ProcessCPU() - cpu0; used > 0 {
		b.ReportMetric(n/used.Seconds(), "resources/cpu-s")
	}
	b.ReportMetric(float64(invalid.Load()), "flagged-invalid")
}
