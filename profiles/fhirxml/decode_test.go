package fhirxml_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/profiles/fhirjson"
	"github.com/nhsconform/conform/profiles/fhirxml"
	"github.com/nhsconform/conform/profiles/model/modeltest"
)

func TestDecode(t *testing.T) {
	dec := fhirxml.NewDecoder(modeltest.Core(t))
	tests := []struct {
		name string
		xml  string
		want string
	}{
		{
			name: "primitives typed by the model",
			xml: `<Patient xmlns="http://hl7.org/fhir"><id value="p1"/><active value="true"/>
				<multipleBirthInteger value="2"/><birthDate value="1970-01-01"/></Patient>`,
			want: `{"resourceType":"Patient","id":"p1","active":true,"multipleBirthInteger":2,"birthDate":"1970-01-01"}`,
		},
		{
			name: "decimal text kept exactly",
			xml:  `<Observation xmlns="http://hl7.org/fhir"><status value="final"/><valueQuantity><value value="1.50"/><unit value="mg"/></valueQuantity></Observation>`,
			want: `{"resourceType":"Observation","status":"final","valueQuantity":{"value":1.50,"unit":"mg"}}`,
		},
		{
			name: "arrays and single values",
			xml:  `<Patient xmlns="http://hl7.org/fhir"><name><given value="A"/><given value="B"/></name><gender value="male"/></Patient>`,
			want: `{"resourceType":"Patient","name":[{"given":["A","B"]}],"gender":"male"}`,
		},
		{
			name: "primitive id and extensions go to the underscore property",
			xml: `<Patient xmlns="http://hl7.org/fhir"><birthDate id="b" value="1970">
				<extension url="http://x/e"><valueBoolean value="false"/></extension></birthDate></Patient>`,
			want: `{"resourceType":"Patient","birthDate":"1970","_birthDate":{"id":"b","extension":[{"url":"http://x/e","valueBoolean":false}]}}`,
		},
		{
			name: "primitive array with an extension on one item",
			xml: `<Patient xmlns="http://hl7.org/fhir"><name><given value="A"/>
				<given value="B"><extension url="http://x/e"><valueCode value="c"/></extension></given></name></Patient>`,
			want: `{"resourceType":"Patient","name":[{"given":["A","B"],"_given":[null,{"extension":[{"url":"http://x/e","valueCode":"c"}]}]}]}`,
		},
		{
			name: "primitive array of extensions only has no value array",
			xml:  `<ActivityDefinition xmlns="http://hl7.org/fhir"><status value="draft"/><timingTiming><event><extension url="http://x/e"><valueString value="now"/></extension></event></timingTiming></ActivityDefinition>`,
			want: `{"resourceType":"ActivityDefinition","status":"draft","timingTiming":{"_event":[{"extension":[{"url":"http://x/e","valueString":"now"}]}]}}`,
		},
		{
			name: "element id and extension url are attributes",
			xml:  `<Patient xmlns="http://hl7.org/fhir"><name id="n1"><family value="F"/></name><extension url="http://x/e"><valueString value="s"/></extension></Patient>`,
			want: `{"resourceType":"Patient","name":[{"id":"n1","family":"F"}],"extension":[{"url":"http://x/e","valueString":"s"}]}`,
		},
		{
			name: "narrative div as a string",
			xml:  `<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>Hi &amp; <b>bye</b></p></div></text></Patient>`,
			want: `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Hi &amp; <b>bye</b></p></div>"}}`,
		},
		{
			name: "contained and nested resources",
			xml: `<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/><entry><resource><Patient><id value="p"/>
				<contained><Organization><id value="o"/></Organization></contained></Patient></resource></entry></Bundle>`,
			want: `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"p","contained":[{"resourceType":"Organization","id":"o"}]}}]}`,
		},
		{
			name: "content reference followed",
			xml:  `<Observation xmlns="http://hl7.org/fhir"><component><referenceRange><text value="t"/></referenceRange></component></Observation>`,
			want: `{"resourceType":"Observation","component":[{"referenceRange":[{"text":"t"}]}]}`,
		},
		{
			name: "comments, processing instructions and schema location ignored",
			xml:  `<?xml version="1.0" encoding="UTF-8"?><!-- c --><Patient xmlns="http://hl7.org/fhir" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://hl7.org/fhir x.xsd"><!-- c --><id value="p"/></Patient>`,
			want: `{"resourceType":"Patient","id":"p"}`,
		},
		{
			name: "escaped characters in values",
			xml:  `<Patient xmlns="http://hl7.org/fhir"><id value="a"/><name><text value="a&#xA;b &lt;&amp;&quot; c"/></name></Patient>`,
			want: `{"resourceType":"Patient","id":"a","name":[{"text":"a\nb <&\" c"}]}`,
		},
		{
			name: "xml 1.1 declaration read as 1.0",
			xml:  `<?xml version="1.1" encoding="utf-8"?><Patient xmlns="http://hl7.org/fhir"><id value="p"/></Patient>`,
			want: `{"resourceType":"Patient","id":"p"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dec.Decode([]byte(tc.xml))
			require.NoError(t, err)
			assert.Equal(t, decodeJSON(t, []byte(tc.want)), got)
			if strings.Contains(tc.want, "1.50") {
				assert.Equal(t, json.Number("1.50"), got["valueQuantity"].(map[string]any)["value"])
			}
		})
	}
}

func TestDecodeIssues(t *testing.T) {
	dec := fhirxml.NewDecoder(modeltest.Core(t))
	tests := []struct {
		name   string
		xml    string
		want   string
		issues []string
	}{
		{
			name:   "text inside an element is reported and ignored",
			xml:    "<Patient xmlns=\"http://hl7.org/fhir\">\n<id value=\"p\"/>x\n</Patient>",
			want:   `{"resourceType":"Patient","id":"p"}`,
			issues: []string{"XML_TEXT_NOT_ALLOWED Patient line 3"},
		},
		{
			name:   "resource without namespace is read as FHIR",
			xml:    `<Patient><id value="p"/></Patient>`,
			want:   `{"resourceType":"Patient","id":"p"}`,
			issues: []string{"XML_NO_NAMESPACE Patient line 1"},
		},
		{
			name: "content problems are left out and reported",
			xml: "<Patient xmlns=\"http://hl7.org/fhir\">\n<id value=\"p\" x=\"1\"/>\n<contained><Frobnicator/></contained>\n<contained/>\n<frob><a/></frob>\n" +
				"<active value=\"yes\"/>\n<name><given/><given value=\"A\"/></name>\n<gender value=\"male\"/>\n<gender value=\"female\"/>\n</Patient>",
			want: `{"resourceType":"Patient","id":"p","gender":"male","name":[{"given":["A"]}]}`,
			issues: []string{
				"XML_UNKNOWN_ATTRIBUTE Patient.id line 2",
				"XML_UNKNOWN_RESOURCE Patient.contained line 3",
				"XML_EMPTY_ELEMENT Patient.contained line 4",
				"XML_UNKNOWN_ELEMENT Patient line 5",
				"XML_INVALID_VALUE Patient.active line 6",
				"XML_EMPTY_ELEMENT Patient.name.given line 7",
				"XML_REPEATED_ELEMENT Patient.gender line 9",
			},
		},
		{
			name:   "elements out of FHIR order",
			xml:    "<Patient xmlns=\"http://hl7.org/fhir\"><name><given value=\"A\"/><family value=\"F\"/>\n<given value=\"B\"/></name>\n<id value=\"p\"/></Patient>",
			want:   `{"resourceType":"Patient","id":"p","name":[{"family":"F","given":["A","B"]}]}`,
			issues: []string{"XML_ELEMENT_ORDER Patient.name.family line 1", "XML_ELEMENT_ORDER Patient.id line 3"},
		},
		{
			name:   "narrative div outside the xhtml namespace",
			xml:    `<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div>x</div></text></Patient>`,
			want:   `{"resourceType":"Patient","text":{"status":"generated","div":"<div>x</div>"}}`,
			issues: []string{"XML_DIV_NAMESPACE Patient.text.div line 1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, issues, err := dec.DecodeIssues([]byte(tc.xml))
			require.NoError(t, err)
			assert.Equal(t, decodeJSON(t, []byte(tc.want)), got)
			var ids []string
			for _, is := range issues {
				ids = append(ids, is.MessageID+" "+is.Expression+" line "+itoa(is.Line))
			}
			assert.Equal(t, tc.issues, ids)
		})
	}
}

func TestDecodeIssueQuotesLongTextWithoutSplittingACharacter(t *testing.T) {
	dec := fhirxml.NewDecoder(modeltest.Core(t))
	xml := `<Patient xmlns="http://hl7.org/fhir"><id value="p"/>` + strings.Repeat("a", 39) + "€€€</Patient>"
	_, issues, err := dec.DecodeIssues([]byte(xml))
	require.NoError(t, err)
	require.Len(t, issues, 1)
	assert.Equal(t, "XML_TEXT_NOT_ALLOWED", issues[0].MessageID)
	assert.Contains(t, issues[0].Message, `"`+strings.Repeat("a", 39)+`..."`)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestDecodeErrors(t *testing.T) {
	dec := fhirxml.NewDecoder(modeltest.Core(t))
	deep := `<Patient xmlns="http://hl7.org/fhir">` + strings.Repeat(`<extension url="u">`, 300) + strings.Repeat(`</extension>`, 300) + `</Patient>`
	deepDiv := `<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">` + strings.Repeat(`<b>`, 300) + strings.Repeat(`</b>`, 300) + `</div></text></Patient>`
	tests := []struct {
		name string
		xml  string
		want string
	}{
		{name: "empty", xml: ``, want: "no resource element"},
		{name: "not xml", xml: `{"resourceType":"Patient"}`, want: "text outside the resource element"},
		{name: "unclosed", xml: `<Patient xmlns="http://hl7.org/fhir"><id value="p"/>`, want: "line 1 column 53: malformed xml: unexpected EOF"},
		{name: "mismatched tags", xml: `<Patient xmlns="http://hl7.org/fhir"><name></family></Patient>`, want: "malformed xml: element <name> closed by </family>"},
		{name: "doctype", xml: `<!DOCTYPE Patient [<!ENTITY a "aaaa">]><Patient xmlns="http://hl7.org/fhir"/>`, want: "xml declaration <!DOCTYPE> not allowed"},
		{name: "entity expansion", xml: `<Patient xmlns="http://hl7.org/fhir"><id value="&lol;"/></Patient>`, want: "invalid character entity &lol;"},
		{name: "deep nesting", xml: deep, want: "nested deeper than 256"},
		{name: "deep xhtml", xml: deepDiv, want: "nested deeper than 256"},
		{name: "unknown resource", xml: `<Frobnicator xmlns="http://hl7.org/fhir"/>`, want: `unknown resource type "Frobnicator"`},
		{name: "abstract resource", xml: `<DomainResource xmlns="http://hl7.org/fhir"/>`, want: `unknown resource type "DomainResource"`},
		{name: "other namespace", xml: `<Patient xmlns="urn:x"/>`, want: "is not in the FHIR namespace"},
		{name: "unknown element", xml: `<Patient xmlns="http://hl7.org/fhir"><frob value="x"/></Patient>`, want: "line 1 column 55: Patient: unknown element <frob>"},
		{name: "bad boolean", xml: `<Patient xmlns="http://hl7.org/fhir"><active value="yes"/></Patient>`, want: `Patient.active: invalid boolean value "yes"`},
		{name: "bad integer", xml: `<Patient xmlns="http://hl7.org/fhir"><multipleBirthInteger value="+2"/></Patient>`, want: `invalid integer value "+2"`},
		{name: "repeated single element", xml: `<Patient xmlns="http://hl7.org/fhir"><active value="true"/><active value="false"/></Patient>`, want: "Patient.active: element repeats"},
		{name: "empty primitive", xml: `<Patient xmlns="http://hl7.org/fhir"><active/></Patient>`, want: "no value and no extension"},
		{name: "unknown attribute", xml: `<Patient xmlns="http://hl7.org/fhir"><active value="true" x="1"/></Patient>`, want: `unexpected attribute "x"`},
		{name: "two roots", xml: `<Patient xmlns="http://hl7.org/fhir"/><Patient xmlns="http://hl7.org/fhir"/>`, want: "after the resource"},
		{name: "two contained in one wrapper", xml: `<Patient xmlns="http://hl7.org/fhir"><contained><Patient/><Patient/></contained></Patient>`, want: "more than one resource"},
		{name: "empty contained", xml: `<Patient xmlns="http://hl7.org/fhir"><contained/></Patient>`, want: "no resource inside"},
		{name: "latin-1", xml: `<?xml version="1.0" encoding="ISO-8859-1"?><Patient xmlns="http://hl7.org/fhir"/>`, want: `unsupported encoding "ISO-8859-1"`},
		{name: "invalid utf-8", xml: "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"\xff\"/></Patient>", want: "invalid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dec.Decode([]byte(tc.xml))
			require.Error(t, err)
			assert.Nil(t, got)
			assert.Contains(t, err.Error(), tc.want)
			var xe *fhirxml.Error
			assert.True(t, errors.As(err, &xe))
		})
	}
}

func TestPeek(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want fhirxml.Summary
		err  string
	}{
		{
			name: "structure definition",
			xml: `<?xml version="1.0"?><StructureDefinition xmlns="http://hl7.org/fhir"><id value="p"/><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p><id value="no"/></p></div></text>
				<url value="http://x/p"/><version value="1.0"/><name value="P"/><kind value="resource"/><type value="Patient"/><derivation value="constraint"/><snapshot>broken</StructureDefinition>`,
			want: fhirxml.Summary{ResourceType: "StructureDefinition", ID: "p", URL: "http://x/p", Version: "1.0", Name: "P", Kind: "resource", Type: "Patient", Derivation: "constraint"},
		},
		{
			name: "nested values are not top-level values",
			xml:  `<Patient xmlns="http://hl7.org/fhir"><contained><Organization><id value="o"/></Organization></contained><id value="p"/><name><text value="n"/></name></Patient>`,
			want: fhirxml.Summary{ResourceType: "Patient", ID: "p"},
		},
		{name: "other namespace", xml: `<Patient xmlns="urn:x"/>`, want: fhirxml.Summary{}, err: "not a fhir resource"},
		{name: "malformed", xml: `<Patient xmlns="http://hl7.org/fhir"><id value="p">`, want: fhirxml.Summary{ResourceType: "Patient"}, err: "malformed xml"},
		{name: "doctype", xml: `<!DOCTYPE x><Patient xmlns="http://hl7.org/fhir"/>`, err: "not allowed"},
		{name: "empty", xml: ``, err: "no resource element"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := fhirxml.Peek([]byte(tc.xml))
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDecodeBoundsHostileInput(t *testing.T) {
	dec := fhirxml.NewDecoder(modeltest.Core(t))
	var attrs, decls strings.Builder
	for i := range 300 {
		attrs.WriteString(` a` + itoa(i) + `="x"`)
	}
	for i := range 1100 {
		decls.WriteString(` xmlns:p` + itoa(i) + `="urn:x"`)
		if i%200 == 199 {
			decls.WriteString(`><extension url="u"`)
		}
	}
	tests := []struct {
		name string
		xml  string
		want string
	}{
		{name: "many attributes", xml: `<Patient xmlns="http://hl7.org/fhir"` + attrs.String() + `/>`, want: "more than 256 attributes"},
		{name: "many namespace declarations", xml: `<Patient xmlns="http://hl7.org/fhir"` + decls.String() + `>`, want: "more than 1024 namespace declarations"},
		{name: "billion laughs", xml: `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><Patient xmlns="http://hl7.org/fhir"><id value="&lol2;"/></Patient>`, want: "<!DOCTYPE> not allowed"},
		{name: "external entity", xml: `<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Patient xmlns="http://hl7.org/fhir"><id value="&xxe;"/></Patient>`, want: "<!DOCTYPE> not allowed"},
		{name: "undeclared prefix", xml: `<f:Patient xmlns="http://hl7.org/fhir"/>`, want: "undeclared namespace prefix f"},
		{name: "repeated attribute", xml: `<Patient xmlns="http://hl7.org/fhir"><id value="a" value="b"/></Patient>`, want: "attribute value repeats"},
		{name: "lone ampersand", xml: `<Patient xmlns="http://hl7.org/fhir"><id value="a & b"/></Patient>`, want: "invalid character entity"},
		{name: "less-than in attribute", xml: `<Patient xmlns="http://hl7.org/fhir"><id value="a<b"/></Patient>`, want: "unescaped < inside attribute value"},
		{name: "null character reference", xml: `<Patient xmlns="http://hl7.org/fhir"><id value="&#0;"/></Patient>`, want: "invalid character entity &#0;"},
		{name: "div prefix declared outside", xml: `<Patient xmlns="http://hl7.org/fhir" xmlns:h="http://www.w3.org/1999/xhtml"><text><status value="generated"/><h:div><h:p/></h:div></text></Patient>`, want: "namespace prefix declared outside"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dec.Decode([]byte(tc.xml))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestAttributeNormalization(t *testing.T) {
	dec := fhirxml.NewDecoder(modeltest.Core(t))
	got, err := dec.Decode([]byte("<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"a\r\nb\tc\nd&#xA;e\"/></Patient>"))
	require.NoError(t, err)
	assert.Equal(t, "a b c d\ne", got["id"])
}

func TestDecodePositions(t *testing.T) {
	dec := fhirxml.NewDecoder(modeltest.Core(t))
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<Patient xmlns="http://hl7.org/fhir">
  <id value="p1"/>
  <text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">x</div></text>
  <contained>
    <Organization>
      <name value="Ward 9"/>
    </Organization>
  </contained>
  <identifier>
    <system value="https://fhir.nhs.uk/Id/nhs-number"/>
  </identifier>
  <identifier>
    <system value="urn:x"/>
    <value value="2"/>
  </identifier>
  <name>
    <given value="Ann"/>
    <given>
      <extension url="http://example.org/e"><valueString value="x"/></extension>
    </given>
  </name>
  <birthDate value="1970-01-01"/>
</Patient>`
	res, pos, err := dec.DecodePositions([]byte(doc))
	require.NoError(t, err)
	assert.Equal(t, "Patient", res["resourceType"])
	tests := []struct {
		path      []fhirjson.Step
		line, col int
	}{
		{nil, 2, 1},
		{[]fhirjson.Step{fhirjson.Key("id")}, 3, 3},
		{[]fhirjson.Step{fhirjson.Key("text"), fhirjson.Key("div")}, 4, 36},
		{[]fhirjson.Step{fhirjson.Key("contained"), fhirjson.Index(0), fhirjson.Key("name")}, 7, 7},
		{[]fhirjson.Step{fhirjson.Key("identifier"), fhirjson.Index(1), fhirjson.Key("value")}, 15, 5},
		{[]fhirjson.Step{fhirjson.Key("name"), fhirjson.Index(0), fhirjson.Key("given"), fhirjson.Index(1)}, 19, 5},
		{[]fhirjson.Step{fhirjson.Key("name"), fhirjson.Index(0), fhirjson.Key("given"), fhirjson.Index(1), fhirjson.Key("extension"), fhirjson.Index(0)}, 20, 7},
		{[]fhirjson.Step{fhirjson.Key("birthDate")}, 23, 3},
		// A path the resource does not have: its nearest element.
		{[]fhirjson.Step{fhirjson.Key("identifier"), fhirjson.Index(0), fhirjson.Key("value")}, 10, 3},
		{[]fhirjson.Step{fhirjson.Key("gender")}, 2, 1},
	}
	for _, tc := range tests {
		line, col, ok := pos.Locate(tc.path)
		assert.True(t, ok, "%v", tc.path)
		assert.Equal(t, []int{tc.line, tc.col}, []int{line, col}, "%v", tc.path)
	}
	var none *fhirxml.Positions
	_, _, ok := none.Locate(nil)
	assert.False(t, ok)
}
