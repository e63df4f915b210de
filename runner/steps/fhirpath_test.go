package steps

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/profiles/fhirpath"
)

func TestEngineResults(t *testing.T) {
	e := NewEngine(fhirpath.NewEngine(fhirpath.Options{}))
	res, err := decodeJSON([]byte(`{"resourceType":"Patient","id":"p1","active":true,"multipleBirthInteger":2,"name":[{"family":"Smith"}],"birthDate":"1970-01-02"}`))
	require.NoError(t, err)
	tests := []struct {
		name, expr string
		want       []any
	}{
		{name: "string element", expr: "Patient.id", want: []any{"p1"}},
		{name: "boolean element", expr: "Patient.active", want: []any{true}},
		{name: "number element", expr: "Patient.multipleBirthInteger", want: []any{json.Number("2")}},
		{name: "complex element", expr: "Patient.name", want: []any{map[string]any{"family": "Smith"}}},
		{name: "computed boolean", expr: "Patient.name.family = 'Smith'", want: []any{true}},
		{name: "computed integer", expr: "Patient.name.count()", want: []any{json.Number("1")}},
		{name: "variable", expr: "Patient.id = %expected", want: []any{true}},
		{name: "empty", expr: "Patient.gender", want: []any{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.Evaluate(context.Background(), res, tc.expr, map[string]any{"expected": "p1"})
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	_, err = e.Evaluate(context.Background(), res, "Patient.(", nil)
	assert.Error(t, err)
	_, err = e.Evaluate(context.Background(), []any{}, "Patient.id", nil)
	assert.ErrorContains(t, err, "not a resource")
}
