package packs

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/nhsconform/conform/profiles/fhirjson"
)

// ManifestSchema is the JSON Schema every pack.json is checked against.
//
//go:embed pack.schema.json
var ManifestSchema []byte

const schemaURL = "https://conform.nhs.example/schema/pack.schema.json"

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

func manifestSchema() (*jsonschema.Schema, error) {
	schemaOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft2020
		if err := c.AddResource(schemaURL, bytes.NewReader(ManifestSchema)); err != nil {
			schemaErr = fmt.Errorf("read manifest schema: %w", err)
			return
		}
		schema, schemaErr = c.Compile(schemaURL)
		if schemaErr != nil {
			schemaErr = fmt.Errorf("compile manifest schema: %w", schemaErr)
		}
	})
	return schema, schemaErr
}

func parseManifest(name string, raw []byte) (Manifest, error) {
	doc, err := fhirjson.Decode(raw)
	if err != nil {
		var se *fhirjson.SyntaxError
		if errors.As(err, &se) {
			return Manifest{}, loadErr(name, se.Line, "not valid JSON: %s", se.Msg)
		}
		return Manifest{}, loadErr(name, 0, "not valid JSON: %v", err)
	}
	s, err := manifestSchema()
	if err != nil {
		return Manifest{}, err
	}
	if err := s.Validate(doc); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return Manifest{}, fmt.Errorf("check %s against the manifest schema: %w", name, err)
		}
		leaf := deepest(ve)
		line := 0
		if steps, ok := pointerSteps(leaf.InstanceLocation); ok {
			for len(steps) > 0 && line == 0 {
				line, _, _ = fhirjson.Locate(raw, steps)
				steps = steps[:len(steps)-1]
			}
		}
		if line == 0 {
			line = 1
		}
		where := leaf.InstanceLocation
		if where == "" {
			where = "/"
		}
		return Manifest{}, loadErr(name, line, "fails the manifest schema at %s: %s", where, leaf.Message)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, loadErr(name, 0, "read manifest: %v", err)
	}
	seen := map[string]bool{}
	for _, c := range m.Criteria {
		if seen[c.ID] {
			return Manifest{}, loadErr(name, lineOfValue(raw, c.ID), "criterion %s is defined twice", c.ID)
		}
		seen[c.ID] = true
	}
	return m, nil
}

func deepest(ve *jsonschema.ValidationError) *jsonschema.ValidationError {
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	return ve
}

func pointerSteps(ptr string) ([]fhirjson.Step, bool) {
	if ptr == "" {
		return nil, false
	}
	var out []fhirjson.Step
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if i, err := strconv.Atoi(tok); err == nil && i >= 0 {
			out = append(out, fhirjson.Index(i))
			continue
		}
		out = append(out, fhirjson.Key(tok))
	}
	return out, true
}

// lineOf returns the line of a top-level key of a JSON document, or 0.
func lineOf(raw []byte, key string) int {
	line, _, _ := fhirjson.Locate(raw, []fhirjson.Step{fhirjson.Key(key)})
	return line
}

// lineOfValue returns the line where the string value first appears, or 0.
func lineOfValue(raw []byte, value string) int {
	i := bytes.Index(raw, []byte(strconv.Quote(value)))
	if i < 0 {
		return 0
	}
	line, _ := fhirjson.Position(raw, i)
	return line
}
