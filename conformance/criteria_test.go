package conformance

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVerdicts(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	criteria := []Criterion{
		{ID: "ADM-01", Level: LevelMust}, {ID: "ADM-02", Level: LevelMust},
		{ID: "ADM-03", Level: LevelShould}, {ID: "ADM-04", Level: LevelMust},
		{ID: "ADM-05", Level: LevelMust}, {ID: "ADM-06", Level: LevelMust},
	}
	scenarios := []ScenarioOutcome{
		{Name: "create", Tags: []string{"@ADM-01", "@MUST"}, Status: StatusPass},
		{Name: "update", Tags: []string{"@ADM-01", "@ADM-02", "@MUST"}, Status: StatusPass},
		{Name: "search", Tags: []string{"@ADM-02"}, Status: StatusFail},
		{Name: "coded", Tags: []string{"@ADM-03"}, Status: StatusFail},
		{Name: "skipped", Tags: []string{"@ADM-04"}, Status: StatusSkipped},
		{Name: "undefined", Tags: []string{"@ADM-05"}, Status: StatusUndefined},
	}
	tests := []struct {
		name    string
		waivers []Waiver
		want    map[string]Status
		overall Status
	}{
		{
			name:    "no waivers",
			want:    map[string]Status{"ADM-01": StatusPass, "ADM-02": StatusFail, "ADM-03": StatusFail, "ADM-04": StatusSkipped, "ADM-05": StatusError, "ADM-06": StatusError},
			overall: StatusFail,
		},
		{
			name:    "waiver turns a failure into waived",
			waivers: []Waiver{{Criterion: "ADM-02", Reason: "known", By: "assurance", Expires: "2026-06-01"}},
			want:    map[string]Status{"ADM-02": StatusWaived},
			overall: StatusError,
		},
		{
			name:    "an expired waiver no longer applies",
			waivers: []Waiver{{Criterion: "ADM-02", Reason: "known", By: "assurance", Expires: "2026-05-31"}},
			want:    map[string]Status{"ADM-02": StatusFail},
			overall: StatusFail,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Verdicts(criteria, scenarios, tc.waivers, now)
			require.NoError(t, err)
			for _, v := range got {
				if want, ok := tc.want[v.ID]; ok {
					assert.Equal(t, want, v.Status, v.ID)
				}
			}
			assert.Equal(t, tc.overall, Overall(got))
		})
	}
}

func TestVerdictErrors(t *testing.T) {
	criteria := []Criterion{{ID: "REF-01", Level: LevelMust}}
	_, err := Verdicts(criteria, nil, []Waiver{{Criterion: "REF-99", Expires: "2030-01-01"}}, time.Now())
	assert.ErrorContains(t, err, "REF-99")
	_, err = Verdicts(criteria, nil, []Waiver{{Criterion: "REF-01", Expires: "soon"}}, time.Now())
	assert.ErrorContains(t, err, "soon")
}

func TestCriterionTag(t *testing.T) {
	assert.Equal(t, "ADM-01", CriterionTag("@ADM-01"))
	assert.Equal(t, "", CriterionTag("@MUST"))
	assert.Equal(t, ExitFail, ExitCodeFor(StatusFail))
	assert.Equal(t, ExitPass, ExitCodeFor(StatusPass))
	assert.Equal(t, ExitIncomplete, ExitCodeFor(StatusError))
}
