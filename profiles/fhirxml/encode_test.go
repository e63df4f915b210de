package fhirxml_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/profiles/fhirxml"
	"github.com/nhsconform/conform/profiles/model/modeltest"
)

func TestEncode(t *testing.T) {
	enc := fhirxml.NewEncoder(modeltest.Core(t))
	enc.Indent = ""
	tests := []struct {
		name string
		json string
		want string
	}{
		{
			name: "FHIR element order, not JSON order",
			json: `{"gender":"male","name":[{"given":["A"],"family":"F"}],"id":"p","resourceType":"Patient","active":true}`,
			want: `<Patient xmlns="http://hl7.org/fhir"><id value="p"/><active value="true"/><name><family value="F"/><given value="A"/></name><gender value="male"/></Patient>`,
		},
		{
			name: "attributes, choice names and primitive extensions",
			json: `{"resourceType":"Observation","status":"final","_status":{"id":"s"},"extension":[{"url":"http://x","valueDecimal":1.50}],"valueQuantity":{"value":0.10}}`,
			want: `<Observation xmlns="http://hl7.org/fhir"><extension url="http://x"><valueDecimal value="1.50"/></extension><status id="s" value="final"/><valueQuantity><value value="0.10"/></valueQuantity></Observation>`,
		},
		{
			name: "primitive arrays with nulls",
			json: `{"resourceType":"Patient","name":[{"given":["A",null],"_given":[null,{"extension":[{"url":"u","valueCode":"c"}]}]}]}`,
			want: `<Patient xmlns="http://hl7.org/fhir"><name><given value="A"/><given><extension url="u"><valueCode value="c"/></extension></given></name></Patient>`,
		},
		{
			name: "contained resource, div and escaping",
			json: `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">a &amp; b</div>"},"contained":[{"resourceType":"Organization","name":"a\"<&>\n\tb"}]}`,
			want: `<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">a &amp; b</div></text><contained><Organization><name value="a&quot;&lt;&amp;&gt;&#xA;&#x9;b"/></Organization></contained></Patient>`,
		},
		{
			name: "content reference",
			json: `{"resourceType":"Observation","component":[{"referenceRange":[{"text":"t"}],"code":{"text":"c"}}]}`,
			want: `<Observation xmlns="http://hl7.org/fhir"><component><code><text value="c"/></code><referenceRange><text value="t"/></referenceRange></component></Observation>`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := enc.Encode(decodeJSON(t, []byte(tc.json)))
			require.NoError(t, err)
			assert.Equal(t, `<?xml version="1.0" encoding="UTF-8"?>`+tc.want, string(got))
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	enc := fhirxml.NewEncoder(modeltest.Core(t))
	tests := []struct {
		name string
		json string
		want string
	}{
		{name: "no resourceType", json: `{"id":"p"}`, want: "resource has no resourceType"},
		{name: "unknown resource type", json: `{"resourceType":"Frobnicator"}`, want: `unknown resource type "Frobnicator"`},
		{name: "unknown property", json: `{"resourceType":"Patient","frob":1}`, want: `Patient: unknown property "frob"`},
		{name: "unknown nested property", json: `{"resourceType":"Patient","name":[{"frob":1}]}`, want: `Patient.name[0]: unknown property "frob"`},
		{name: "string for boolean", json: `{"resourceType":"Patient","active":"true"}`, want: "Patient.active: boolean value must be a boolean"},
		{name: "number for string", json: `{"resourceType":"Patient","id":1}`, want: "Patient.id: string value must be a string"},
		{name: "single value for array", json: `{"resourceType":"Patient","name":{"family":"F"}}`, want: "Patient.name: must be an array"},
		{name: "array for single value", json: `{"resourceType":"Patient","gender":["male"]}`, want: "Patient.gender: code value must be a string"},
		{name: "empty array", json: `{"resourceType":"Patient","name":[]}`, want: "Patient.name: empty array"},
		{name: "array lengths differ", json: `{"resourceType":"Patient","name":[{"given":["a"],"_given":[null,null]}]}`, want: "given and _given differ in length"},
		{name: "null without extension", json: `{"resourceType":"Patient","name":[{"given":[null]}]}`, want: "null value without extension"},
		{name: "broken div", json: `{"resourceType":"Patient","text":{"status":"generated","div":"<div>"}}`, want: "Patient.text.div: invalid xhtml"},
		{name: "div with entity", json: `{"resourceType":"Patient","text":{"status":"generated","div":"<div>&nbsp;</div>"}}`, want: "invalid xhtml"},
		{name: "control character", json: `{"resourceType":"Patient","id":"a\u0001"}`, want: "control character U+0001 cannot be written in XML"},
		{name: "abstract contained", json: `{"resourceType":"Patient","contained":[{"resourceType":"Resource"}]}`, want: `Patient.contained[0]: unknown resource type "Resource"`},
		{name: "unknown underscore property", json: `{"resourceType":"Patient","_active":{"foo":1}}`, want: `unexpected property "foo" in _active`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := enc.Encode(decodeJSON(t, []byte(tc.json)))
			require.Error(t, err)
			assert.Nil(t, got)
			assert.Contains(t, err.Error(), tc.want)
			var xe *fhirxml.Error
			assert.True(t, errors.As(err, &xe))
		})
	}
}
