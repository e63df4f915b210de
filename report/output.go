package report

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/nhsconform/conform/runner"
)

// Output is one -o NAME[=PATH]: a format and the file it goes to ("" is stdout).
type Output struct {
	Format string
	Path   string
}

// ParseOutputs reads -o values; none means text on stdout. At most one
// output may go to stdout, and every name must be a registered format.
func ParseOutputs(values []string) ([]Output, error) {
	if len(values) == 0 {
		values = []string{"text"}
	}
	var outs []Output
	stdout := 0
	for _, v := range values {
		name, path, _ := strings.Cut(v, "=")
		if _, err := Lookup(name); err != nil {
			return nil, err
		}
		if path == "" {
			stdout++
		}
		outs = append(outs, Output{Format: name, Path: path})
	}
	if stdout > 1 {
		return nil, errors.New("only one -o output may go to stdout; give the others a =FILE")
	}
	return outs, nil
}

// IsTerminal reports whether w is an interactive terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Writer writes every output of one run from a single goroutine: text on
// stdout streams scenario by scenario while the run goes; every other
// output is written from the finished record.
type Writer struct {
	stdout io.Writer
	outs   []Output
	opts   Options
	redact func([]byte) []byte
	stream *TextStream
	events chan runner.Scenario
	done   chan struct{}
}

// NewWriter prepares the outputs; total is the number of scenarios expected
// (for the progress bar; 0 when unknown). redact masks secrets in every output.
func NewWriter(stdout io.Writer, outs []Output, total int, opts Options, redact func([]byte) []byte) *Writer {
	w := &Writer{stdout: stdout, outs: outs, opts: opts, redact: redact}
	for _, o := range outs {
		if o.Format == "text" && o.Path == "" {
			w.stream = NewTextStream(redactingWriter{stdout, redact}, total, opts.Terminal)
			w.events = make(chan runner.Scenario, 64)
			w.done = make(chan struct{})
			go func() {
				defer close(w.done)
				for s := range w.events {
					w.stream.Scenario(s)
				}
			}()
		}
	}
	return w
}

// Scenario hands a finished scenario to the streaming output, if any.
// Calls must not overlap (runner.Config.OnScenario guarantees it).
func (w *Writer) Scenario(s runner.Scenario) {
	if w.events != nil {
		w.events <- s
	}
}

// Sources returns the feature files given to the formats.
func (w *Writer) Sources() fs.FS {
	return w.opts.Sources
}

// Finish writes every output of the finished record; a nil record only
// stops the streaming output (the run could not complete).
func (w *Writer) Finish(rec *Record) error {
	if w.events != nil {
		close(w.events)
		<-w.done
		w.events = nil
	}
	if rec == nil {
		return nil
	}
	for _, o := range w.outs {
		if o.Format == "text" && o.Path == "" && w.stream != nil {
			if w.stream.done == 0 {
				for _, s := range rec.Scenarios {
					w.stream.Scenario(s)
				}
			}
			if err := w.stream.Finish(rec); err != nil {
				return fmt.Errorf("write text output: %w", err)
			}
			continue
		}
		data, err := Render(o.Format, rec, w.opts, w.redact)
		if err != nil {
			return err
		}
		if o.Path == "" {
			_, err = w.stdout.Write(data)
		} else {
			err = os.WriteFile(o.Path, data, 0o644)
		}
		if err != nil {
			return fmt.Errorf("write %s output: %w", o.Format, err)
		}
	}
	return nil
}

type redactingWriter struct {
	w      io.Writer
	redact func([]byte) []byte
}

func (r redactingWriter) Write(p []byte) (int, error) {
	if r.redact == nil {
		return r.w.Write(p)
	}
	if _, err := r.w.Write(r.redact(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}
