package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/conformance/conformancetest"
)

func TestConvert(t *testing.T) {
	core := conformancetest.Shared(t, "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz")
	cache := t.TempDir()
	dir := t.TempDir()
	xmlFile := filepath.Join(dir, "patient.xml")
	require.NoError(t, os.WriteFile(xmlFile, []byte(`<?xml version="1.0" encoding="UTF-8"?>
<Patient xmlns="http://hl7.org/fhir"><id value="p1"/><active value="true"/><name><given value="Ann"/></name></Patient>`), 0o600))
	badFile := filepath.Join(dir, "bad.xml")
	require.NoError(t, os.WriteFile(badFile, []byte("<Patient xmlns=\"http://hl7.org/fhir\">\n<id value=\"p1\">\n</Patient>"), 0o600))
	unknownFile := filepath.Join(dir, "unknown.xml")
	require.NoError(t, os.WriteFile(unknownFile, []byte("<Patient xmlns=\"http://hl7.org/fhir\">\n<frob/>x\n</Patient>"), 0o600))
	base := []string{"convert", "--fhir-cache", cache, "--ig", core}
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   conformance.ExitCode
		wantStdout string
		wantStderr string
	}{
		{
			name:       "xml file to json",
			args:       []string{xmlFile},
			wantStdout: "{\n  \"resourceType\": \"Patient\",\n  \"id\": \"p1\",\n  \"active\": true,\n  \"name\": [\n    {\n      \"given\": [\n        \"Ann\"\n      ]\n    }\n  ]\n}\n",
		},
		{
			name:       "json in FHIR element order with underscore properties after their values",
			args:       []string{"--to", "json", "-"},
			stdin:      `{"name":[{"given":["A"],"family":"F"}],"_birthDate":{"id":"b"},"birthDate":"1970","resourceType":"Patient","contained":[{"name":"O","resourceType":"Organization","active":false}]}`,
			wantStdout: "{\n  \"resourceType\": \"Patient\",\n  \"contained\": [\n    {\n      \"resourceType\": \"Organization\",\n      \"active\": false,\n      \"name\": \"O\"\n    }\n  ],\n  \"name\": [\n    {\n      \"family\": \"F\",\n      \"given\": [\n        \"A\"\n      ]\n    }\n  ],\n  \"birthDate\": \"1970\",\n  \"_birthDate\": {\n    \"id\": \"b\"\n  }\n}\n",
		},
		{
			name:       "json on stdin to xml",
			args:       []string{"-"},
			stdin:      `{"resourceType":"Patient","name":[{"given":["Ann"]}],"id":"p1"}`,
			wantStdout: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Patient xmlns=\"http://hl7.org/fhir\">\n  <id value=\"p1\"/>\n  <name>\n    <given value=\"Ann\"/>\n  </name>\n</Patient>\n",
		},
		{
			name:       "xml to xml",
			args:       []string{"--to", "xml", xmlFile},
			wantStdout: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Patient xmlns=\"http://hl7.org/fhir\">\n  <id value=\"p1\"/>\n  <active value=\"true\"/>\n  <name>\n    <given value=\"Ann\"/>\n  </name>\n</Patient>\n",
		},
		{name: "malformed xml names the file and line", args: []string{badFile}, wantCode: conformance.ExitIncomplete, wantStderr: "conform convert: read " + badFile + ": line 3 column 11: malformed xml: element <id> closed by </Patient>"},
		{name: "content that would be lost", args: []string{unknownFile}, wantCode: conformance.ExitIncomplete, wantStderr: "conform convert: error: " + unknownFile + " line 2: Patient: unknown element <frob>\nconform convert: warning: " + unknownFile + " line 3: Patient: text \"x\" is not allowed in a FHIR element\nconform convert: read " + unknownFile + ": not converted, problems that would lose content: 1\n"},
		{name: "json the model cannot carry", args: []string{"-"}, stdin: `{"resourceType":"Patient","frob":1}`, wantCode: conformance.ExitIncomplete, wantStderr: `write - as xml: Patient: unknown property "frob"`},
		{name: "neither json nor xml", args: []string{"-"}, stdin: "hello", wantCode: conformance.ExitIncomplete, wantStderr: "neither a JSON object nor XML"},
		{name: "missing file", args: []string{filepath.Join(dir, "nope.xml")}, wantCode: conformance.ExitIncomplete, wantStderr: "nope.xml"},
		{name: "unknown format", args: []string{"--to", "yaml", xmlFile}, wantCode: conformance.ExitUsage, wantStderr: `unknown output format "yaml"`},
		{name: "no file", args: nil, wantCode: conformance.ExitUsage, wantStderr: "want one FILE or -"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, tc.stdin, nil, append(append([]string{}, base...), tc.args...)...)
			assert.Equal(t, tc.wantCode, code, stderr)
			assert.Contains(t, stderr, tc.wantStderr)
			assert.Equal(t, tc.wantStdout, stdout)
		})
	}
}
