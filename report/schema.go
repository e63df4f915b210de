package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// RecordSchema is the JSON Schema of the run record (schema/run-record.schema.json).
//
//go:embed schema/run-record.schema.json
var RecordSchema []byte

// WaiversSchema is the JSON Schema of a waivers file (schema/waivers.schema.json).
//
//go:embed schema/waivers.schema.json
var WaiversSchema []byte

const (
	recordSchemaID  = "https://github.com/nhsconform/conform/report/schema/run-record.schema.json"
	waiversSchemaID = "https://github.com/nhsconform/conform/report/schema/waivers.schema.json"
)

var (
	schemasOnce sync.Once
	recordSch   *jsonschema.Schema
	waiversSch  *jsonschema.Schema
	schemasErr  error
)

func compiledSchemas() (*jsonschema.Schema, *jsonschema.Schema, error) {
	schemasOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft2020
		c.AssertFormat = true
		for name, data := range map[string][]byte{recordSchemaID: RecordSchema, waiversSchemaID: WaiversSchema} {
			if err := c.AddResource(name, bytes.NewReader(data)); err != nil {
				schemasErr = fmt.Errorf("load %s: %w", name, err)
				return
			}
		}
		if recordSch, schemasErr = c.Compile(recordSchemaID); schemasErr != nil {
			return
		}
		waiversSch, schemasErr = c.Compile(waiversSchemaID)
	})
	return recordSch, waiversSch, schemasErr
}

// SchemaError is a document that does not match its JSON Schema.
type SchemaError struct {
	Document string
	Problems []string
}

// Error implements error; the message lists the first problems found.
func (e *SchemaError) Error() string {
	return fmt.Sprintf("%s does not match its schema: %s", e.Document, strings.Join(e.Problems, "; "))
}

// ValidateRecord checks a run record's JSON against RecordSchema.
func ValidateRecord(data []byte) error {
	rs, _, err := compiledSchemas()
	if err != nil {
		return err
	}
	return validateAgainst(rs, "run record", data)
}

func validateAgainst(s *jsonschema.Schema, what string, data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	if err := s.Validate(doc); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return &SchemaError{Document: what, Problems: leafProblems(ve, 10)}
		}
		return fmt.Errorf("check %s: %w", what, err)
	}
	return nil
}

func leafProblems(ve *jsonschema.ValidationError, limit int) []string {
	var out []string
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(out) >= limit {
			return
		}
		if len(e.Causes) == 0 {
			loc := e.InstanceLocation
			if loc == "" {
				loc = "/"
			}
			out = append(out, loc+": "+e.Message)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return out
}
