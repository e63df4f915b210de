package report

import (
	"strings"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/runner"
)

// scenarioCriteria returns the ids of the record's criteria a scenario's
// tags name (every criterion-like tag when the record has no criteria).
func (r *Record) scenarioCriteria(s runner.Scenario) []string {
	var ids []string
	for _, t := range s.Tags {
		id := conformance.CriterionTag(t)
		if id == "" {
			continue
		}
		if len(r.Criteria) > 0 {
			if _, ok := r.Criterion(id); ok {
				ids = append(ids, id)
			}
			continue
		}
		if strings.ContainsRune(id, '-') && strings.ToUpper(id) == id && !strings.Contains(id, ":") {
			ids = append(ids, id)
		}
	}
	return ids
}

// packOf returns the id of the pack whose criteria include one of the
// scenario's criteria, or "".
func (r *Record) packOf(s runner.Scenario) string {
	ids := r.scenarioCriteria(s)
	for _, p := range r.Packs {
		for _, c := range p.Criteria {
			for _, id := range ids {
				if c == id {
					return p.ID
				}
			}
		}
	}
	return ""
}
