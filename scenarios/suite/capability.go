package suite

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/nhsconform/conform/runner"
	"github.com/nhsconform/conform/runner/fhirclient"
	"github.com/nhsconform/conform/scenarios/packs"
)

// fetchCapability reads the target's CapabilityStatement; nil when it cannot
// be read, with a note saying what that means for the run.
func fetchCapability(ctx context.Context, cfg runner.Config) (map[string]any, string) {
	client, err := fhirclient.New(cfg.ClientOptions())
	if err != nil {
		return nil, "CapabilityStatement not read (" + err.Error() + "): every scenario runs"
	}
	resp, _, err := client.Do(ctx, fhirclient.Request{Method: "GET", Path: "metadata"})
	if err != nil {
		return nil, "CapabilityStatement not read (" + err.Error() + "): every scenario runs"
	}
	if resp.Status != 200 {
		return nil, fmt.Sprintf("GET metadata answered %d: every scenario runs", resp.Status)
	}
	var cs map[string]any
	if json.Unmarshal(resp.Body, &cs) != nil || cs["resourceType"] != "CapabilityStatement" {
		return nil, "GET metadata did not return a CapabilityStatement: every scenario runs"
	}
	return cs, "scenarios needing what the CapabilityStatement does not declare are skipped"
}

// declares reports whether the CapabilityStatement declares r.
func declares(cs map[string]any, r packs.Requirement) bool {
	var rests []map[string]any
	for _, x := range list(cs["rest"]) {
		if m, ok := x.(map[string]any); ok && (m["mode"] == "server" || m["mode"] == nil) {
			rests = append(rests, m)
		}
	}
	what := r.What()
	for _, rest := range rests {
		if r.Type() == "system" {
			if op, ok := strings.CutPrefix(what, "$"); ok {
				if hasNamed(rest["operation"], "name", op) {
					return true
				}
				continue
			}
			if hasNamed(rest["interaction"], "code", what) {
				return true
			}
			continue
		}
		for _, x := range list(rest["resource"]) {
			res, _ := x.(map[string]any)
			if res["type"] != r.Type() {
				continue
			}
			switch {
			case what == "conditional-create":
				if res["conditionalCreate"] == true {
					return true
				}
			case what == "conditional-update":
				if res["conditionalUpdate"] == true {
					return true
				}
			case strings.HasPrefix(what, "search."):
				if hasNamed(res["searchParam"], "name", strings.TrimPrefix(what, "search.")) {
					return true
				}
			case strings.HasPrefix(what, "$"):
				op := strings.TrimPrefix(what, "$")
				if hasNamed(res["operation"], "name", op) || hasNamed(rest["operation"], "name", op) {
					return true
				}
			default:
				if hasNamed(res["interaction"], "code", what) {
					return true
				}
			}
		}
	}
	return false
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func hasNamed(v any, key, want string) bool {
	for _, x := range list(v) {
		if m, ok := x.(map[string]any); ok && m[key] == want {
			return true
		}
	}
	return false
}

// plan decides which scenarios cannot run on this server and extends the
// tag expression to leave them out.
func plan(ps []*packs.Pack, cs map[string]any, tags string) (map[string][]Skip, string) {
	skips := map[string][]Skip{}
	if cs == nil {
		return skips, tags
	}
	missing := map[packs.Requirement]bool{}
	for _, p := range ps {
		for _, s := range p.Scenarios {
			var why []string
			for _, r := range s.Requires {
				if !declares(cs, r) {
					missing[r] = true
					why = append(why, string(r))
				}
			}
			if len(why) > 0 {
				skips[p.ID] = append(skips[p.ID], Skip{
					Scenario: s.Name, URI: p.Dir + "/" + s.URI, Line: s.Line, Criteria: s.Criteria,
					Reason: "the server's CapabilityStatement does not declare " + strings.Join(why, ", "),
				})
			}
		}
	}
	names := make([]string, 0, len(missing))
	for r := range missing {
		names = append(names, "~"+packs.RequiresTag+string(r))
	}
	sort.Strings(names)
	parts := names
	if strings.TrimSpace(tags) != "" {
		parts = append([]string{tags}, names...)
	}
	return skips, strings.Join(parts, " && ")
}
