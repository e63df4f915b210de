package main

import (
	"io"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/runner/steps"
)

func init() {
	register(&command{name: "steps", summary: "list every Gherkin step conform understands, with an example", run: runSteps})
}

func runSteps(e *env, args []string) conformance.ExitCode {
	const name = "steps"
	fs := newFlags(e, name, "[-o text|markdown]", `
List every step the runner understands, grouped, each with what it does and
an example. -o markdown prints the same list as docs/STEPS.md.`)
	output := fs.StringP("output", "o", "text", "output `FORMAT`: text or markdown")
	if code, done := parseFlags(e, fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, name, "unexpected argument %q", fs.Arg(0))
	}
	var text string
	switch *output {
	case "text":
		text = steps.Text()
	case "markdown":
		text = steps.Markdown()
	default:
		return usageError(e, name, "unknown output format %q (want text or markdown)", *output)
	}
	if _, err := io.WriteString(e.stdout, text); err != nil {
		return failure(e, name, err)
	}
	return conformance.ExitPass
}
