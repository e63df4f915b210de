package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
)

func TestPacksListJSON(t *testing.T) {
	stdout, stderr, code := runCLI(t, "", nil, "packs", "list", "-o", "json")
	require.Equal(t, conformance.ExitPass, code, stderr)
	var got []struct {
		ID        string `json:"id"`
		Version   string `json:"version"`
		Hash      string `json:"hash"`
		UKCore    string `json:"ukCore"`
		Scenarios int    `json:"scenarios"`
		Criteria  []struct {
			ID    string `json:"id"`
			Level string `json:"level"`
			Text  string `json:"text"`
		} `json:"criteria"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &got))
	require.Len(t, got, 4)
	criteria, scenarios := 0, 0
	for _, p := range got {
		assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, p.Hash)
		assert.Equal(t, "fhir.r4.ukcore.stu2#2.0.2", p.UKCore)
		assert.NotEmpty(t, p.Version)
		criteria += len(p.Criteria)
		scenarios += p.Scenarios
		for _, c := range p.Criteria {
			assert.Contains(t, []string{"MUST", "SHOULD", "MAY"}, c.Level)
			assert.NotEmpty(t, c.Text)
		}
	}
	assert.Equal(t, "admission", got[0].ID)
	assert.GreaterOrEqual(t, criteria, 25)
	assert.GreaterOrEqual(t, scenarios, 40)
}

func TestPacksListText(t *testing.T) {
	stdout, _, code := runCLI(t, "", nil, "packs", "list")
	assert.Equal(t, conformance.ExitPass, code)
	assert.Contains(t, stdout, "referral 1.0.0")
	assert.Contains(t, stdout, "REF-06  MUST")
}

func TestPacksUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want conformance.ExitCode
	}{
		{name: "no subcommand", args: []string{"packs"}, want: conformance.ExitUsage},
		{name: "help", args: []string{"packs", "--help"}, want: conformance.ExitPass},
		{name: "unknown subcommand", args: []string{"packs", "show"}, want: conformance.ExitUsage},
		{name: "unknown format", args: []string{"packs", "list", "-o", "xml"}, want: conformance.ExitUsage},
		{name: "stray argument", args: []string{"packs", "list", "admission"}, want: conformance.ExitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, code := runCLI(t, "", nil, tc.args...)
			assert.Equal(t, tc.want, code)
		})
	}
}
