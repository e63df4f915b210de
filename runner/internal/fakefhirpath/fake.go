// Package fakefhirpath is a deliberately tiny FHIRPath subset for the
// runner's own tests: dotted navigation with [n] indexes, exists(), count()
// and equality with a 'string' or %variable. Anything else is an error.
package fakefhirpath

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Engine implements the runner's FHIRPath seam for tests.
type Engine struct{}

// Evaluate evaluates expr on resource.
func (Engine) Evaluate(_ context.Context, resource any, expr string, env map[string]any) ([]any, error) {
	if left, right, ok := strings.Cut(expr, " = "); ok {
		got, err := navigate(resource, strings.TrimSpace(left))
		if err != nil {
			return nil, err
		}
		want, err := literal(strings.TrimSpace(right), env)
		if err != nil {
			return nil, err
		}
		if len(got) != 1 {
			return nil, nil
		}
		return []any{fmt.Sprint(got[0]) == want}, nil
	}
	return navigate(resource, strings.TrimSpace(expr))
}

func literal(s string, env map[string]any) (string, error) {
	switch {
	case len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'':
		return s[1 : len(s)-1], nil
	case strings.HasPrefix(s, "%"):
		v, ok := env[s[1:]]
		if !ok {
			return "", fmt.Errorf("unknown variable %s", s)
		}
		return fmt.Sprint(v), nil
	}
	return "", fmt.Errorf("unsupported literal %q", s)
}

func navigate(resource any, path string) ([]any, error) {
	if path == "" {
		return nil, fmt.Errorf("empty expression")
	}
	parts := strings.Split(path, ".")
	items := []any{resource}
	if obj, ok := resource.(map[string]any); ok && obj["resourceType"] == parts[0] {
		parts = parts[1:]
	}
	for _, p := range parts {
		switch p {
		case "exists()":
			return []any{len(items) > 0}, nil
		case "count()":
			return []any{json.Number(strconv.Itoa(len(items)))}, nil
		}
		name, idx := p, -1
		if i := strings.IndexByte(p, '['); i > 0 && strings.HasSuffix(p, "]") {
			n, err := strconv.Atoi(p[i+1 : len(p)-1])
			if err != nil {
				return nil, fmt.Errorf("bad index in %q", p)
			}
			name, idx = p[:i], n
		}
		if strings.ContainsAny(name, "()'= ") {
			return nil, fmt.Errorf("unsupported expression %q", path)
		}
		var next []any
		for _, it := range items {
			obj, ok := it.(map[string]any)
			if !ok {
				continue
			}
			switch v := obj[name].(type) {
			case nil:
			case []any:
				next = append(next, v...)
			default:
				next = append(next, v)
			}
		}
		if idx >= 0 {
			if idx < len(next) {
				next = next[idx : idx+1]
			} else {
				next = nil
			}
		}
		items = next
	}
	return items, nil
}
