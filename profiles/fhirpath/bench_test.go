package fhirpath

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/nhsconform/conform/conformance/conformancetest"
)

// BenchmarkEvaluate times compiled expressions on the suite's patient example.
func BenchmarkEvaluate(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join(conformancetest.Shared(b, "testsuites/fhirpath/input"), "patient-example.json"))
	if err != nil {
		b.Fatal(err)
	}
	eng := NewEngine(Options{Model: testModel(b), CollectionAs: true})
	res := decodeJSON(b, raw)
	for _, bc := range []struct{ name, expr string }{
		{name: "path", expr: "Patient.name.given"},
		{name: "where", expr: "name.where(use = 'official').given.first()"},
		{name: "ele-1", expr: "hasValue() or (children().count() > id.count())"},
		{name: "dom-3", expr: "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()"},
		{name: "dates", expr: "birthDate < today() and @2014-01-01T10:00:00Z + 1 day > @2014-01-01"},
		{name: "quantity", expr: "4 'g' ~ 4040 'mg' and 1 '[in_i]' = 2.54 'cm'"},
	} {
		x, err := eng.Compile(bc.expr)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := x.Evaluate(context.Background(), eng.Resource(res), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCompile times parsing and checking an invariant without the cache.
func BenchmarkCompile(b *testing.B) {
	eng := NewEngine(Options{Model: testModel(b)})
	const expr = "contained.contained.empty() and (text.`div`.exists() or contained.meta.versionId.empty())"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := eng.compile(expr); err != nil {
			b.Fatal(err)
		}
	}
}
