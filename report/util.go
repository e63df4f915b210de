package report

import (
	"fmt"
	"io"
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

// readBounded reads r to its end, failing with "larger than N bytes" when it
// holds more than limit bytes.
func readBounded(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}
