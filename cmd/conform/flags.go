package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/nhsconform/conform/conformance"
)

// newFlags returns a flag set for a subcommand whose usage text prints the
// synopsis, the description and the flags to the command's stdout.
func newFlags(e *env, name, synopsis, description string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: conform %s %s\n\n%s\n\nFlags:\n%s", name, synopsis, strings.TrimSpace(description), fs.FlagUsages())
	}
	return fs
}

// parseFlags parses args; it returns done=true with the exit code to use when
// parsing ends the command (help requested or a usage error).
func parseFlags(e *env, fs *pflag.FlagSet, args []string) (conformance.ExitCode, bool) {
	err := fs.Parse(args)
	if err == nil {
		return conformance.ExitPass, false
	}
	if errors.Is(err, pflag.ErrHelp) {
		return conformance.ExitPass, true
	}
	return usageError(e, fs.Name(), "%v", err), true
}

// usageError prints a usage error for a subcommand and returns ExitUsage.
func usageError(e *env, name, format string, args ...any) conformance.ExitCode {
	fmt.Fprintf(e.stderr, "conform %s: %s\nRun 'conform %s --help' for usage.\n", name, fmt.Sprintf(format, args...), name)
	return conformance.ExitUsage
}

// failure prints an operational error for a subcommand and returns ExitIncomplete.
func failure(e *env, name string, err error) conformance.ExitCode {
	fmt.Fprintf(e.stderr, "conform %s: %v\n", name, err)
	return conformance.ExitIncomplete
}
