// Command conform tests FHIR R4 endpoints against UK Core workflow packs,
// validates resources against FHIR profiles and produces signed evidence.
// Each subcommand lives in its own file and registers itself in commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/nhsconform/conform/conformance"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// env is what a command sees of the outside world; tests inject their own.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

// command is one conform subcommand.
type command struct {
	name    string
	summary string
	run     func(e *env, args []string) conformance.ExitCode
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("conform: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(&env{ctx: ctx, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(int(code))
}

func run(e *env, args []string) conformance.ExitCode {
	if len(args) == 0 {
		usage(e.stderr)
		return conformance.ExitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.run(e, []string{"--help"})
			}
		}
		usage(e.stdout)
		return conformance.ExitPass
	case "--version", "version":
		fmt.Fprintf(e.stdout, "conform %s\n", version)
		return conformance.ExitPass
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "conform: unknown command %q\n\n", args[0])
		usage(e.stderr)
		return conformance.ExitUsage
	}
	return c.run(e, args[1:])
}

func usage(w io.Writer) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("conform: interoperability conformance testing for FHIR R4 and UK Core\n\n")
	b.WriteString("Usage: conform COMMAND [flags] [args]\n\nCommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, commands[n].summary)
	}
	b.WriteString("\nRun 'conform COMMAND --help' for a command's flags.\n")
	b.WriteString("Exit codes: 0 pass, 1 conformance failure, 2 usage or configuration, 3 could not complete.\n")
	io.WriteString(w, b.String())
}
