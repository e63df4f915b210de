package report

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"time"
)

// Options are what every format may use beside the record.
type Options struct {
	// Sources holds the feature files the record's scenario URIs name; the
	// ndjson format includes them as Cucumber source and gherkinDocument
	// messages when set.
	Sources fs.FS
	// Terminal is true when the output is an interactive terminal (the text
	// format then draws a progress bar while streaming).
	Terminal bool
	// Now stamps generated documents (TestReport issued, Bundle timestamp);
	// nil means the record's end time.
	Now func() time.Time
}

// Format is one output format of the run record.
type Format struct {
	Name        string
	Description string
	// File is the file name the format is written to in an evidence bundle.
	File string
	// Write renders the whole record.
	Write func(w io.Writer, rec *Record, opts Options) error
}

var registry = map[string]Format{}

func register(f Format) {
	registry[f.Name] = f
}

// Lookup returns the format called name, or an UnknownFormatError.
func Lookup(name string) (Format, error) {
	f, ok := registry[name]
	if !ok {
		return Format{}, &UnknownFormatError{Name: name}
	}
	return f, nil
}

// Formats returns every format, sorted by name.
func Formats() []Format {
	out := make([]Format, 0, len(registry))
	for _, f := range registry {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// FormatNames returns the names of every format, sorted, for help texts.
func FormatNames() []string {
	var names []string
	for _, f := range Formats() {
		names = append(names, f.Name)
	}
	return names
}

// UnknownFormatError is an output format name conform does not have.
type UnknownFormatError struct {
	Name string
}

// Error implements error; the message lists the known format names.
func (e *UnknownFormatError) Error() string {
	return fmt.Sprintf("unknown output format %q (want one of %s)", e.Name, strings.Join(FormatNames(), ", "))
}

// Render writes rec in format name into memory and returns the bytes, passed
// through redact when it is not nil.
func Render(name string, rec *Record, opts Options, redact func([]byte) []byte) ([]byte, error) {
	f, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := f.Write(&buf, rec, opts); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	if redact != nil {
		return redact(buf.Bytes()), nil
	}
	return buf.Bytes(), nil
}

func (o Options) now(rec *Record) time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return rec.Ended
}
