package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/profiles/fhirjson"
	"github.com/nhsconform/conform/profiles/fhirxml"
	"github.com/nhsconform/conform/profiles/model"
	"github.com/nhsconform/conform/profiles/packages"
)

func init() {
	register(&command{name: "convert", summary: "convert a FHIR resource between XML and JSON", run: runConvert})
}

// readPast lists the XML findings that lose no content; convert warns about
// them and goes on.
var readPast = map[string]bool{"XML_TEXT_NOT_ALLOWED": true, "XML_NO_NAMESPACE": true, "XML_DIV_NAMESPACE": true, "XML_ELEMENT_ORDER": true}

// maxConvertInput bounds the size of a resource read by convert.
const maxConvertInput = packages.MaxFileSize

func runConvert(e *env, args []string) conformance.ExitCode {
	const name = "convert"
	fs := newFlags(e, name, "[--to json|xml] [--ig SRC]... FILE|-", `
Convert one FHIR R4 resource from XML to JSON or from JSON to XML, reading
FILE (or stdin for -) and writing the result to stdout. The input format is
recognised from its first character; --to defaults to the other format.
Both are written in FHIR element order, JSON with resourceType first.

The R4 type model comes from hl7.fhir.r4.core#4.0.1 in the FHIR package cache
(install it with 'conform packages install'), or from a core package given
with --ig.

Problems in XML input are printed with their line and element path: text
inside FHIR elements and missing namespaces are warnings; anything that
would be left out (unknown elements, invalid values) stops the conversion.

Exit codes: 0 converted, 2 usage, 3 the input could not be read or converted.`)
	pf := addPackageFlags(fs)
	to := fs.String("to", "", "output `FORMAT`: json or xml (default: the other format)")
	if code, done := parseFlags(e, fs, args); done {
		return code
	}
	if *to != "" && *to != "json" && *to != "xml" {
		return usageError(e, name, "unknown output format %q (want json or xml)", *to)
	}
	if fs.NArg() != 1 {
		return usageError(e, name, "want one FILE or -, got %d arguments", fs.NArg())
	}
	src := fs.Arg(0)
	data, err := readInput(e, src)
	if err != nil {
		return failure(e, name, err)
	}
	isXML := startsWith(data, '<')
	if !isXML && !startsWith(data, '{') {
		return failure(e, name, fmt.Errorf("read %s: neither a JSON object nor XML", src))
	}
	format := *to
	if format == "" {
		format = "xml"
		if isXML {
			format = "json"
		}
	}
	_, m, err := pf.loadModel(e)
	if err != nil {
		return failure(e, name, err)
	}
	var res map[string]any
	if isXML {
		var issues []conformance.Issue
		res, issues, err = fhirxml.NewDecoder(m).DecodeIssues(data)
		if err != nil {
			return failure(e, name, fmt.Errorf("read %s: %w", src, err))
		}
		lost := 0
		for _, is := range issues {
			kind := "warning"
			if !readPast[is.MessageID] {
				kind = "error"
				lost++
			}
			fmt.Fprintf(e.stderr, "conform %s: %s: %s line %d: %s: %s\n", name, kind, src, is.Line, is.Expression, is.Message)
		}
		if lost > 0 {
			return failure(e, name, fmt.Errorf("read %s: not converted, problems that would lose content: %d", src, lost))
		}
	} else {
		res, err = fhirjson.DecodeObject(data)
		if err != nil {
			return failure(e, name, fmt.Errorf("read %s: %w", src, err))
		}
	}
	var out []byte
	if format == "xml" {
		out, err = fhirxml.NewEncoder(m).Encode(res)
	} else {
		out, err = marshalResource(m, res)
	}
	if err != nil {
		return failure(e, name, fmt.Errorf("write %s as %s: %w", src, format, err))
	}
	if _, err := e.stdout.Write(out); err != nil {
		return failure(e, name, fmt.Errorf("write output: %w", err))
	}
	return conformance.ExitPass
}

func readInput(e *env, src string) ([]byte, error) {
	var r io.Reader = e.stdin
	if src != "-" {
		f, err := os.Open(src)
		if err != nil {
			return nil, fmt.Errorf("read input: %w", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxConvertInput+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", src, err)
	}
	if int64(len(data)) > maxConvertInput {
		return nil, fmt.Errorf("read %s: larger than %d bytes", src, maxConvertInput)
	}
	return data, nil
}

func startsWith(data []byte, c byte) bool {
	data = bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")), " \t\r\n")
	return len(data) > 0 && data[0] == c
}

// marshalResource writes a resource as indented JSON in FHIR element order:
// resourceType first, then each element as the type model orders them, each
// primitive's underscore property after its value.
func marshalResource(m *model.Model, res map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, m, res, nil, "", ""); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

type jsonKey struct {
	key   string
	order int
	el    *model.Element
	code  string
}

func writeJSON(buf *bytes.Buffer, m *model.Model, v any, el *model.Element, code, indent string) error {
	switch t := v.(type) {
	case map[string]any:
		if rt, ok := t["resourceType"].(string); ok {
			if typ, ok := m.Type(rt); ok {
				el, code = typ.Root(), typ.Name
			}
		}
		keys := make([]jsonKey, 0, len(t))
		for k := range t {
			jk := jsonKey{key: k, order: -1}
			name := strings.TrimPrefix(k, "_")
			if k != "resourceType" && el != nil {
				if ce, c, ok := m.Child(el, code, name); ok {
					jk.order, jk.el, jk.code = 2*ce.Order+1, ce, c
					if name != k {
						jk.order++
					}
				} else {
					jk.order = 1 << 30
				}
			}
			keys = append(keys, jk)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].order != keys[j].order {
				return keys[i].order < keys[j].order
			}
			return keys[i].key < keys[j].key
		})
		if len(keys) == 0 {
			buf.WriteString("{}")
			return nil
		}
		buf.WriteString("{")
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString("\n" + indent + "  ")
			if err := writeScalar(buf, k.key); err != nil {
				return err
			}
			buf.WriteString(": ")
			if err := writeJSON(buf, m, t[k.key], k.el, k.code, indent+"  "); err != nil {
				return err
			}
		}
		buf.WriteString("\n" + indent + "}")
		return nil
	case []any:
		if len(t) == 0 {
			buf.WriteString("[]")
			return nil
		}
		buf.WriteString("[")
		for i, x := range t {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString("\n" + indent + "  ")
			if err := writeJSON(buf, m, x, el, code, indent+"  "); err != nil {
				return err
			}
		}
		buf.WriteString("\n" + indent + "]")
		return nil
	}
	return writeScalar(buf, v)
}

func writeScalar(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1)
	return nil
}
