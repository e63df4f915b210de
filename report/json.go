package report

import (
	"encoding/json"
	"io"
)

func init() {
	register(Format{Name: "json", File: "record.json", Description: "the run record (JSON, see report/schema/run-record.schema.json)", Write: writeJSON})
}

func writeJSON(w io.Writer, rec *Record, _ Options) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(rec)
}
