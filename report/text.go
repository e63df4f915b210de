package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/runner"
)

func init() {
	register(Format{Name: "text", File: "report.txt", Description: "each scenario as it ends, the failures, each criterion's verdict and the overall verdict", Write: writeText})
}

// TextStream writes the text format scenario by scenario as a run goes, then
// the verdicts when it ends. On a terminal it keeps a progress bar on the
// last line. It is not safe for concurrent use: feed it from one goroutine.
type TextStream struct {
	w        io.Writer
	terminal bool
	total    int
	done     int
	feature  string
	counts   map[conformance.Status]int
	err      error
}

// NewTextStream starts the text format on w; total is the number of
// scenarios expected (0 when unknown: the terminal then shows a count only).
func NewTextStream(w io.Writer, total int, terminal bool) *TextStream {
	return &TextStream{w: w, total: total, terminal: terminal, counts: map[conformance.Status]int{}}
}

// printf writes to the output; string arguments, which may come from the
// server under test, have their control characters (but line breaks and
// tabs) escaped so they cannot move the cursor or recolour a terminal.
func (t *TextStream) printf(format string, args ...any) {
	if t.err != nil {
		return
	}
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = escapeControls(s)
		}
	}
	_, t.err = fmt.Fprintf(t.w, format, args...)
}

func escapeControls(s string) string {
	if !strings.ContainsFunc(s, isEscaped) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isEscaped(r) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isEscaped(r rune) bool {
	return r != '\n' && r != '\t' && unicode.IsControl(r)
}

// Scenario writes one finished scenario.
func (t *TextStream) Scenario(s runner.Scenario) {
	t.clearBar()
	if s.Feature != t.feature {
		t.feature = s.Feature
		t.printf("Feature: %s\n", s.Feature)
	}
	t.printf("  %-9s %s (%s:%d)\n", strings.ToUpper(string(s.Status)), s.Name, s.URI, s.Line)
	if s.Status != conformance.StatusPass {
		for _, st := range s.Steps {
			if st.Status == conformance.StatusPass || st.Status == conformance.StatusSkipped {
				continue
			}
			t.printf("      %s %s %s (line %d)\n", strings.ToUpper(string(st.Status)), st.Keyword, st.Text, st.Line)
			if st.Error != "" {
				t.printf("        %s\n", strings.ReplaceAll(st.Error, "\n", "\n        "))
			}
			if st.Suggestion != "" {
				t.printf("        did you mean: %s\n", st.Suggestion)
			}
			for _, ex := range st.Exchanges {
				result := string(ex.ErrorKind)
				if ex.Status != 0 {
					result = fmt.Sprint(ex.Status)
				}
				t.printf("        %s %s -> %s (%s, %d attempt(s))\n", ex.Method, ex.URL, result, ex.Duration.Round(time.Millisecond), len(ex.Attempts))
			}
		}
	}
	t.done++
	t.counts[s.Status]++
	t.drawBar()
}

const barWidth = 30

func (t *TextStream) drawBar() {
	if !t.terminal {
		return
	}
	if t.total <= 0 {
		t.printf("\r%d scenarios done, %d failed", t.done, t.counts[conformance.StatusFail])
		return
	}
	filled := barWidth * t.done / t.total
	if filled > barWidth {
		filled = barWidth
	}
	t.printf("\r[%s%s] %d/%d  %d failed", strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), t.done, t.total, t.counts[conformance.StatusFail])
}

func (t *TextStream) clearBar() {
	if t.terminal && t.done > 0 {
		t.printf("\r\033[K")
	}
}

// Finish writes the verdicts of the finished run and returns the first write error.
func (t *TextStream) Finish(rec *Record) error {
	t.clearBar()
	writeVerdicts(t, rec)
	return t.err
}

func writeText(w io.Writer, rec *Record, opts Options) error {
	t := NewTextStream(w, 0, false)
	for _, s := range rec.Scenarios {
		t.Scenario(s)
	}
	return t.Finish(rec)
}

func writeVerdicts(t *TextStream, rec *Record) {
	where := rec.Target
	if rec.Reference {
		where = "the in-process reference server at " + rec.Target
	}
	t.printf("\n%s %s against %s, %s to %s\n", rec.Tool.Name, rec.Tool.Version, where, rec.Started.Format(time.RFC3339), rec.Ended.Format(time.RFC3339))
	for _, k := range slices.Sorted(maps.Keys(rec.Labels)) {
		t.printf("  %s: %s\n", k, rec.Labels[k])
	}
	if len(rec.Packages) > 0 {
		var ids []string
		for _, p := range rec.Packages {
			ids = append(ids, p.ID)
		}
		t.printf("judged by %s\n", strings.Join(ids, ", "))
	}
	for _, p := range rec.Packs {
		t.printf("\n%s %s (%s): %s\n  %s\n", p.ID, p.Version, p.Title, strings.ToUpper(string(p.Status)), p.Hash)
		for _, id := range p.Criteria {
			c, _ := rec.Criterion(id)
			t.printf("  %-8s %-7s %-6s %s\n", strings.ToUpper(string(c.Status)), c.ID, c.Level, c.Text)
			if c.Waiver != nil {
				t.printf("           waived by %s until %s: %s\n", c.Waiver.By, c.Waiver.Expires, c.Waiver.Reason)
			}
		}
		for _, sk := range p.Skipped {
			t.printf("  skipped: %s (%s:%d): %s\n", sk.Scenario, sk.URI, sk.Line, sk.Reason)
		}
	}
	sc, cr := rec.Summary.Scenarios, rec.Summary.Criteria
	t.printf("\n%d scenarios: %d passed, %d failed, %d error, %d undefined, %d skipped in %s\n",
		len(rec.Scenarios), sc[conformance.StatusPass], sc[conformance.StatusFail], sc[conformance.StatusError],
		sc[conformance.StatusUndefined], sc[conformance.StatusSkipped], rec.Ended.Sub(rec.Started).Round(time.Millisecond))
	if len(rec.Criteria) > 0 {
		t.printf("%d criteria: %d pass, %d fail, %d error, %d skipped, %d waived\n", len(rec.Criteria),
			cr[conformance.StatusPass], cr[conformance.StatusFail], cr[conformance.StatusError], cr[conformance.StatusSkipped], cr[conformance.StatusWaived])
	}
	t.printf("overall: %s\n", strings.ToUpper(string(rec.Status)))
}
