package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nhsconform/conform/conformance"
)

func (w *World) fhirpathEnv() map[string]any {
	env := make(map[string]any, len(w.vars)+1)
	for k, v := range w.vars {
		env[k] = v
	}
	env[BuiltinRun] = w.env.RunID
	return env
}

func (w *World) headerCheck(name, want string, ok func(got, want string) bool, verb string) error {
	s, err := w.current()
	if err != nil {
		return err
	}
	want, err = w.expand(want)
	if err != nil {
		return err
	}
	values := s.header.Values(name)
	if len(values) == 0 {
		return fmt.Errorf("header %s is missing from the %s", name, s.describe)
	}
	for _, v := range values {
		if ok(v, want) {
			return nil
		}
	}
	return fmt.Errorf("header %s should %s %q, the %s has %q", name, verb, want, s.describe, strings.Join(values, ", "))
}

// bundleEntries returns Bundle.entry of the current resource, or an error
// when that resource is not a Bundle.
func (w *World) bundleEntries() ([]any, *subject, error) {
	res, s, err := w.resource()
	if err != nil {
		return nil, nil, err
	}
	if rt, _ := res["resourceType"].(string); rt != "Bundle" {
		return nil, nil, fmt.Errorf("expected a Bundle, the %s is a %q", s.describe, rt)
	}
	entries, _ := res["entry"].([]any)
	return entries, s, nil
}

func (w *World) countEntries(want int, typ string, atLeast bool) error {
	entries, _, err := w.bundleEntries()
	if err != nil {
		return err
	}
	got := 0
	for _, e := range entries {
		if typ == "" {
			got++
			continue
		}
		entry, _ := e.(map[string]any)
		r, _ := entry["resource"].(map[string]any)
		if rt, _ := r["resourceType"].(string); rt == typ {
			got++
		}
	}
	what := "entries"
	if typ != "" {
		what = typ + " entries"
	}
	switch {
	case atLeast && got < want:
		return fmt.Errorf("expected at least %d %s, the Bundle has %d", want, what, got)
	case !atLeast && got != want:
		return fmt.Errorf("expected %d %s, the Bundle has %d", want, what, got)
	}
	return nil
}

func outcomeCodes(res map[string]any) []string {
	var codes []string
	issues, _ := res["issue"].([]any)
	for _, i := range issues {
		issue, _ := i.(map[string]any)
		if c, ok := issue["code"].(string); ok {
			codes = append(codes, c)
		}
		details, _ := issue["details"].(map[string]any)
		codings, _ := details["coding"].([]any)
		for _, cd := range codings {
			coding, _ := cd.(map[string]any)
			if c, ok := coding["code"].(string); ok {
				codes = append(codes, c)
			}
		}
	}
	return codes
}

// outcomeHint summarises an OperationOutcome body to explain a wrong status.
func outcomeHint(s *subject) string {
	if len(s.body) == 0 || len(s.body) > 1<<20 {
		return ""
	}
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Severity    string `json:"severity"`
			Code        string `json:"code"`
			Diagnostics string `json:"diagnostics"`
			Details     struct {
				Text string `json:"text"`
			} `json:"details"`
		} `json:"issue"`
	}
	if json.Unmarshal(s.body, &oo) != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
		return ""
	}
	i := oo.Issue[0]
	text := i.Diagnostics
	if text == "" {
		text = i.Details.Text
	}
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	return fmt.Sprintf(" (OperationOutcome: %s %s: %s)", i.Severity, i.Code, text)
}

// truthOf applies FHIRPath boolean evaluation of a collection: empty is
// false, a single boolean is itself, a single other item is true; more than
// one item is an error.
func truthOf(out []any) (bool, error) {
	switch len(out) {
	case 0:
		return false, nil
	case 1:
		if b, ok := out[0].(bool); ok {
			return b, nil
		}
		return true, nil
	}
	return false, fmt.Errorf("yields %d items, not a single boolean", len(out))
}

func (w *World) truth(ctx context.Context, expr string, want bool) error {
	out, err := w.evaluate(ctx, expr)
	if err != nil {
		return err
	}
	got, err := truthOf(out)
	if err != nil {
		return fmt.Errorf("FHIRPath %s %w", expr, err)
	}
	if got != want {
		return fmt.Errorf("FHIRPath %s is %t on the %s", expr, got, w.subject.describe)
	}
	return nil
}

func (w *World) single(ctx context.Context, expr string) (string, error) {
	out, err := w.evaluate(ctx, expr)
	if err != nil {
		return "", err
	}
	if len(out) != 1 {
		return "", fmt.Errorf("FHIRPath %s yields %d items on the %s, expected exactly one", expr, len(out), w.subject.describe)
	}
	switch v := out[0].(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool, int, int64, float64:
		return fmt.Sprint(v), nil
	case fmt.Stringer:
		return v.String(), nil
	}
	return "", fmt.Errorf("FHIRPath %s yields a %T, not a primitive value", expr, out[0])
}

func (w *World) validate(ctx context.Context, profile string) error {
	s, err := w.current()
	if err != nil {
		return err
	}
	if _, _, err := w.resource(); err != nil {
		return err
	}
	return w.validateBytes(ctx, s.body, s.describe, profile)
}

func (w *World) validateEntries(ctx context.Context, typ, profile string) error {
	entries, s, err := w.bundleEntries()
	if err != nil {
		return err
	}
	var failures []string
	n := 0
	for i, e := range entries {
		entry, _ := e.(map[string]any)
		r, _ := entry["resource"].(map[string]any)
		if rt, _ := r["resourceType"].(string); rt != typ {
			continue
		}
		n++
		data, err := json.Marshal(r)
		if err != nil {
			return &ExecError{Err: fmt.Errorf("encode entry %d: %w", i, err)}
		}
		where := fmt.Sprintf("Bundle.entry[%d] of the %s", i, s.describe)
		if err := w.validateBytes(ctx, data, where, profile); err != nil {
			var ex *ExecError
			if errors.As(err, &ex) {
				return err
			}
			failures = append(failures, err.Error())
		}
	}
	switch {
	case n == 0:
		return fmt.Errorf("the %s has no %s entry to validate", s.describe, typ)
	case len(failures) > 0:
		return fmt.Errorf("%d of %d %s entries do not conform: %s", len(failures), n, typ, strings.Join(failures, "; "))
	}
	return nil
}

func (w *World) validateBytes(ctx context.Context, body []byte, describe, profile string) error {
	if w.env.Validator == nil {
		return execErr("validate the %s: no validator configured", describe)
	}
	var profiles []string
	if profile != "" {
		p, err := w.expand(profile)
		if err != nil {
			return err
		}
		profiles = append(profiles, p)
	}
	outcome, err := w.env.Validator.Validate(ctx, body, profiles...)
	if err != nil {
		return &ExecError{Err: fmt.Errorf("validate the %s: %w", describe, err)}
	}
	if outcome.Source == "" {
		outcome.Source = describe
	}
	w.evidence.Outcomes = append(w.evidence.Outcomes, outcome)
	if !outcome.HasErrors() {
		return nil
	}
	var msgs []string
	n := 0
	for _, is := range outcome.Issues {
		if is.Severity != conformance.SeverityError && is.Severity != conformance.SeverityFatal {
			continue
		}
		n++
		if len(msgs) < 3 {
			msgs = append(msgs, strings.TrimSpace(is.Expression+": "+is.Message))
		}
	}
	target := "its declared profiles"
	if profile != "" {
		target = profile
	}
	return fmt.Errorf("the %s does not conform to %s: %d error(s): %s", describe, target, n, strings.Join(msgs, "; "))
}
