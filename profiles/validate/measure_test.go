package validate

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMeasureReportStratifiers(t *testing.T) {
	set := loadCore(t)
	const measureURL = "http://example.org/fhir/Measure/m"
	code := func(c string) map[string]any {
		return map[string]any{"coding": []any{map[string]any{"system": "http://example.org/codes", "code": c}}}
	}
	measure := map[string]any{"resourceType": "Measure", "url": measureURL, "status": "active",
		"group": []any{map[string]any{"code": code("g"), "stratifier": []any{map[string]any{"id": "s1", "code": code("age")}}}}}
	v, err := New(Options{Resolve: func(url string) (map[string]any, bool) {
		if url == measureURL {
			return measure, true
		}
		return set.ResolveJSON(url)
	}})
	require.NoError(t, err)
	tests := []struct {
		name       string
		stratifier string
		want       []string
	}{
		{name: "stratifier reported", stratifier: `[{"code":[{"coding":[{"system":"http://example.org/codes","code":"age"}]}]}]`},
		{name: "stratifier without code", stratifier: `[{}]`, want: []string{"measurereport-stratifier-unknown", "measurereport-stratifier-missing"}},
		{name: "stratifier not reported", stratifier: `[]`, want: []string{"measurereport-stratifier-missing"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			report := `{"resourceType":"MeasureReport","status":"complete","type":"summary","measure":"` + measureURL + `","period":{"start":"2024-01-01","end":"2024-12-31"},` +
				`"group":[{"code":{"coding":[{"system":"http://example.org/codes","code":"g"}]},"stratifier":` + tc.stratifier + `}]}`
			if tc.stratifier == `[]` {
				report = `{"resourceType":"MeasureReport","status":"complete","type":"summary","measure":"` + measureURL + `","period":{"start":"2024-01-01","end":"2024-12-31"},` +
					`"group":[{"code":{"coding":[{"system":"http://example.org/codes","code":"g"}]}}]}`
			}
			out, err := v.Validate(context.Background(), []byte(report))
			require.NoError(t, err)
			var got []string
			for _, id := range findings(out, "error") {
				if id == "measurereport-stratifier-unknown" || id == "measurereport-stratifier-missing" {
					got = append(got, id)
				}
			}
			assert.ElementsMatch(t, tc.want, got, "issues: %+v", out.Issues)
		})
	}
}
