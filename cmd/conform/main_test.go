package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nhsconform/conform/conformance"
)

// runCLI runs conform in-process with the given stdin and environment.
func runCLI(t *testing.T, stdin string, environ map[string]string, args ...string) (stdout, stderr string, code conformance.ExitCode) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{
		ctx:    context.Background(),
		stdin:  strings.NewReader(stdin),
		stdout: &out,
		stderr: &errb,
		getenv: func(k string) string { return environ[k] },
	}
	code = run(e, args)
	return out.String(), errb.String(), code
}

func TestTopLevelUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want conformance.ExitCode
	}{
		{name: "no arguments", args: nil, want: conformance.ExitUsage},
		{name: "help", args: []string{"--help"}, want: conformance.ExitPass},
		{name: "version", args: []string{"version"}, want: conformance.ExitPass},
		{name: "unknown command", args: []string{"frobnicate"}, want: conformance.ExitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, code := runCLI(t, "", nil, tc.args...)
			assert.Equal(t, tc.want, code)
		})
	}
}
