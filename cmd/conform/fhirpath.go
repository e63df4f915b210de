package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/profiles/fhirjson"
	"github.com/nhsconform/conform/profiles/fhirpath"
	"github.com/nhsconform/conform/profiles/fhirxml"
	"github.com/nhsconform/conform/profiles/terminology"
)

func init() {
	register(&command{name: "fhirpath", summary: "evaluate a FHIRPath expression", run: runFHIRPath})
}

func runFHIRPath(e *env, args []string) conformance.ExitCode {
	const name = "fhirpath"
	fs := newFlags(e, name, "[--ig SRC]... [--input FILE|-] [-o json|text] [--strict] [--] EXPRESSION", `
Evaluate a FHIRPath expression, against a FHIR resource (JSON or XML) given
with --input (- for stdin) or against nothing, and print the result
collection. With -o json the result is a JSON array of {"type", "value"}
items: booleans and integers as JSON values, decimals as their text, dates,
times and quantities as FHIRPath literals (@2014-01-25, @T10:00, 1 'cm'),
strings as strings and complex elements as their JSON objects. With -o text
(the default) each item is printed on its own line as TYPE<tab>VALUE.
trace() output goes to stderr.

Types come from hl7.fhir.r4.core#4.0.1 in the FHIR package cache (install it
with 'conform packages install'), or from a core package given with --ig;
memberOf() checks codes against the value sets of the loaded packages, offline.

Exit codes: 0 evaluated, 1 syntax, semantic or execution error in the
expression (with its line and column), 2 usage, 3 the input or the packages
could not be read.`)
	pf := addPackageFlags(fs)
	input := fs.String("input", "", "evaluate against the resource in `FILE` (- for stdin)")
	output := fs.StringP("output", "o", "text", "output `FORMAT`: json or text")
	strict := fs.Bool("strict", false, "reject expressions that name a type the input is not, or order children()/descendants()")
	if code, done := parseFlags(e, fs, args); done {
		return code
	}
	if *output != "json" && *output != "text" {
		return usageError(e, name, "unknown output format %q (want json or text)", *output)
	}
	if fs.NArg() != 1 {
		return usageError(e, name, "want one EXPRESSION, got %d arguments", fs.NArg())
	}
	set, m, err := pf.loadModel(e)
	if err != nil {
		return failure(e, name, err)
	}
	eng := fhirpath.NewEngine(fhirpath.Options{
		Model:       fhirpath.FromModel(m),
		Terminology: fhirpath.FromTerminology(terminology.New(set.ResolveJSON, nil)),
		Strict:      *strict,
		Trace: func(label string, values fhirpath.Collection) {
			b, _ := json.Marshal(fhirpath.Items(values))
			fmt.Fprintf(e.stderr, "trace %s: %s\n", label, b)
		},
	})
	var root *fhirpath.Node
	if *input != "" {
		data, err := readInput(e, *input)
		if err != nil {
			return failure(e, name, err)
		}
		var res map[string]any
		switch {
		case startsWith(data, '<'):
			res, err = fhirxml.NewDecoder(m).Decode(data)
		case startsWith(data, '{'):
			res, err = fhirjson.DecodeObject(data)
		default:
			err = errors.New("neither a JSON object nor XML")
		}
		if err != nil {
			return failure(e, name, fmt.Errorf("read %s: %w", *input, err))
		}
		root = eng.Resource(res)
	}
	x, err := eng.Compile(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(e.stderr, "conform %s: %v\n", name, err)
		return conformance.ExitFail
	}
	res, err := x.Evaluate(e.ctx, root, nil)
	if err != nil {
		fmt.Fprintf(e.stderr, "conform %s: %v\n", name, err)
		return conformance.ExitFail
	}
	items := fhirpath.Items(res)
	if *output == "json" {
		b, err := json.Marshal(items)
		if err != nil {
			return failure(e, name, fmt.Errorf("write result: %w", err))
		}
		fmt.Fprintf(e.stdout, "%s\n", b)
		return conformance.ExitPass
	}
	var b strings.Builder
	for _, it := range items {
		v := it.Value
		if _, isObject := v.(map[string]any); isObject {
			j, _ := json.Marshal(v)
			v = string(j)
		}
		fmt.Fprintf(&b, "%s\t%v\n", it.Type, v)
	}
	fmt.Fprint(e.stdout, b.String())
	return conformance.ExitPass
}
