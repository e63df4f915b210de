package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/profiles/snapshot"
)

func init() {
	register(&command{name: "snapshot", summary: "print StructureDefinitions with their snapshots, generated from differentials where needed", run: runSnapshot})
}

func runSnapshot(e *env, args []string) conformance.ExitCode {
	const name = "snapshot"
	fs := newFlags(e, name, "[--ig SRC]... [--regenerate] [-o json|text] URL...", `
Print the StructureDefinition at each canonical URL with its snapshot: the
published snapshot when the definition has one, else one generated from its
differential against its base definition (UK Core and other IG sources are
kept as differentials only). --regenerate ignores published snapshots of the
named definitions and builds them from their differentials; base definitions
keep theirs.

hl7.fhir.r4.core#4.0.1 is read from the FHIR package cache (install it with
'conform packages install'); --ig adds implementation guides.

With -o json (the default) one URL prints one StructureDefinition, several
print a JSON array. -o text prints one line per snapshot element: id,
cardinality, types, fixed or pattern value, binding and slicing.
Warnings (unresolvable type profiles, differential elements that match
nothing) go to stderr.

Exit codes: 0 printed, 2 usage or an unknown URL, 3 a snapshot could not be
generated or the packages could not be loaded.`)
	pf := addPackageFlags(fs)
	regenerate := fs.Bool("regenerate", false, "ignore the named definitions' published snapshots and generate them from their differentials")
	output := fs.StringP("output", "o", "json", "output `FORMAT`: json or text")
	if code, done := parseFlags(e, fs, args); done {
		return code
	}
	if *output != "json" && *output != "text" {
		return usageError(e, name, "unknown output format %q (want json or text)", *output)
	}
	if fs.NArg() == 0 {
		return usageError(e, name, "no StructureDefinition URL given")
	}
	set, err := pf.load(e)
	if err != nil {
		return failure(e, name, err)
	}
	g := snapshot.ForSet(set)
	var results []map[string]any
	for _, url := range fs.Args() {
		sd, ok := set.ResolveJSON(url)
		if !ok {
			return usageError(e, name, "no StructureDefinition %s in the loaded packages", url)
		}
		if rt, _ := sd["resourceType"].(string); rt != "StructureDefinition" {
			return usageError(e, name, "%s is a %s, not a StructureDefinition", url, rt)
		}
		var warnings []snapshot.Warning
		if *regenerate {
			sd, warnings, err = g.Generate(sd)
		} else {
			sd, warnings, err = g.SnapshotFor(url)
		}
		for _, w := range warnings {
			fmt.Fprintf(e.stderr, "conform %s: warning: %s\n", name, w)
		}
		if err != nil {
			var ue *snapshot.UnresolvedError
			if errors.As(err, &ue) {
				fmt.Fprintf(e.stderr, "conform %s: %s needs a definition the loaded packages lack; add its package with --ig\n", name, url)
			}
			return failure(e, name, err)
		}
		results = append(results, sd)
	}
	if *output == "text" {
		for _, sd := range results {
			writeSnapshotText(e.stdout, sd)
		}
		return conformance.ExitPass
	}
	var err2 error
	if len(results) == 1 {
		err2 = writeSnapshotJSON(e.stdout, results[0])
	} else {
		err2 = writeSnapshotArray(e.stdout, results)
	}
	if err2 != nil {
		return failure(e, name, fmt.Errorf("write output: %w", err2))
	}
	return conformance.ExitPass
}

// snapshotResourceJSON renders a resource indented, with resourceType first as FHIR
// JSON customarily has it.
func snapshotResourceJSON(r map[string]any, indent string) ([]byte, error) {
	rest := make(map[string]any, len(r))
	for k, v := range r {
		if k != "resourceType" {
			rest[k] = v
		}
	}
	body, err := json.MarshalIndent(rest, indent, "  ")
	if err != nil {
		return nil, err
	}
	rt, ok := r["resourceType"].(string)
	if !ok {
		return body, nil
	}
	head, err := json.Marshal(rt)
	if err != nil {
		return nil, err
	}
	sep := ","
	if len(rest) == 0 {
		sep = ""
	}
	return append([]byte("{\n"+indent+"  \"resourceType\": "+string(head)+sep), body[1:]...), nil
}

func writeSnapshotJSON(w io.Writer, r map[string]any) error {
	b, err := snapshotResourceJSON(r, "")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func writeSnapshotArray(w io.Writer, rs []map[string]any) error {
	var b strings.Builder
	b.WriteString("[\n")
	for i, r := range rs {
		one, err := snapshotResourceJSON(r, "  ")
		if err != nil {
			return err
		}
		b.WriteString("  ")
		b.Write(one)
		if i < len(rs)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeSnapshotText prints one line per snapshot element.
func writeSnapshotText(w io.Writer, sd map[string]any) {
	url, _ := sd["url"].(string)
	fmt.Fprintf(w, "# %s\n", url)
	snap, _ := sd["snapshot"].(map[string]any)
	list, _ := snap["element"].([]any)
	for _, x := range list {
		el, ok := x.(map[string]any)
		if !ok {
			continue
		}
		line := []string{snapshotCell(el["id"]), fmt.Sprintf("%v..%v", snapshotCell(el["min"]), snapshotCell(el["max"]))}
		line = append(line, snapshot.Summary(el, snapshot.PropertyType))
		for _, p := range []string{snapshot.PropertyValue, snapshot.PropertyBinding, snapshot.PropertySlicing} {
			if s := snapshot.Summary(el, p); s != "" {
				line = append(line, p+": "+s)
			}
		}
		fmt.Fprintln(w, strings.Join(line, "  "))
	}
}

func snapshotCell(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}
