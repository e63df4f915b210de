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

func TestFHIRPathCommand(t *testing.T) {
	core := conformancetest.Shared(t, "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz")
	patientJSON := conformancetest.Shared(t, "testsuites/fhirpath/input/patient-example.json")
	patientXML := conformancetest.Shared(t, "testsuites/fhirpath/input-original/patient-example.xml")
	stdin, err := os.ReadFile(patientJSON)
	require.NoError(t, err)
	notFHIR := filepath.Join(t.TempDir(), "not-fhir.txt")
	require.NoError(t, os.WriteFile(notFHIR, []byte("hello"), 0o644))
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   conformance.ExitCode
		wantOut    string
		wantErrHas string
	}{
		{
			name:     "json output of every kind of item",
			args:     []string{"--input", patientJSON, "-o", "json", "birthDate | name.first() | 1.50 | @T10:00 | 1 'cm' | 2 | true | 'x' | gender"},
			wantCode: conformance.ExitPass,
			wantOut: `[{"type":"date","value":"@1974-12-25"},{"type":"HumanName","value":{"family":"Chalmers","given":["Peter","James"],"use":"official"}},` +
				`{"type":"decimal","value":"1.50"},{"type":"time","value":"@T10:00"},{"type":"Quantity","value":"1 'cm'"},{"type":"integer","value":2},` +
				`{"type":"boolean","value":true},{"type":"string","value":"x"},{"type":"code","value":"male"}]` + "\n",
		},
		{
			name:     "text output",
			args:     []string{"--input", patientJSON, "name.where(use = 'usual').given"},
			wantCode: conformance.ExitPass,
			wantOut:  "string\tJim\n",
		},
		{
			name:     "xml input",
			args:     []string{"--input", patientXML, "-o", "json", "Patient.name.given.count()"},
			wantCode: conformance.ExitPass,
			wantOut:  `[{"type":"integer","value":5}]` + "\n",
		},
		{
			name:     "stdin input",
			args:     []string{"--input", "-", "-o", "json", "active"},
			stdin:    string(stdin),
			wantCode: conformance.ExitPass,
			wantOut:  `[{"type":"boolean","value":true}]` + "\n",
		},
		{
			name:     "no input",
			args:     []string{"-o", "json", "--", "-1 + 2.0"},
			wantCode: conformance.ExitPass,
			wantOut:  `[{"type":"decimal","value":"1.0"}]` + "\n",
		},
		{
			name:     "memberOf a loaded value set",
			args:     []string{"--input", patientJSON, "-o", "json", "gender.memberOf(%`vs-administrative-gender`) and gender.memberOf('http://hl7.org/fhir/ValueSet/link-type').not()"},
			wantCode: conformance.ExitPass,
			wantOut:  `[{"type":"boolean","value":true}]` + "\n",
		},
		{
			name:       "syntax error with its position",
			args:       []string{"1 +\n (2"},
			wantCode:   conformance.ExitFail,
			wantErrHas: "syntax error at 2:4",
		},
		{
			name:       "unknown function",
			args:       []string{"name.frobnicate()"},
			wantCode:   conformance.ExitFail,
			wantErrHas: "semantic error at 1:6: unknown function frobnicate()",
		},
		{
			name:       "path the model does not have",
			args:       []string{"--input", patientJSON, "name.given1"},
			wantCode:   conformance.ExitFail,
			wantErrHas: "semantic error at 1:6: HumanName has no element given1",
		},
		{
			name:       "strict rejects the wrong resource type",
			args:       []string{"--strict", "--input", patientJSON, "Encounter.status"},
			wantCode:   conformance.ExitFail,
			wantErrHas: "semantic error at 1:1",
		},
		{
			name:       "execution error",
			args:       []string{"--input", patientJSON, "name.single()"},
			wantCode:   conformance.ExitFail,
			wantErrHas: "execution error at 1:6: single() on a collection of 3 items",
		},
		{
			name:       "unreadable input",
			args:       []string{"--input", notFHIR, "1"},
			wantCode:   conformance.ExitIncomplete,
			wantErrHas: "neither a JSON object nor XML",
		},
		{
			name:     "no expression",
			args:     []string{},
			wantCode: conformance.ExitUsage,
		},
		{
			name:     "unknown output format",
			args:     []string{"-o", "yaml", "1"},
			wantCode: conformance.ExitUsage,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"fhirpath", "--ig", core}, tc.args...)
			out, errOut, code := runCLI(t, tc.stdin, nil, args...)
			assert.Equal(t, tc.wantCode, code, errOut)
			if tc.wantOut != "" {
				assert.Equal(t, tc.wantOut, out)
			}
			if tc.wantErrHas != "" {
				assert.Contains(t, errOut, tc.wantErrHas)
			}
		})
	}
}
