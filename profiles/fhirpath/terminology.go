package fhirpath

import (
	"context"
	"slices"

	"github.com/nhsconform/conform/profiles/terminology"
)

// FromTerminology answers memberOf() from the value sets and subsumes() from
// the code systems a terminology.Service has loaded (and its server, if any).
func FromTerminology(s *terminology.Service) Terminology {
	return serviceTerminology{s}
}

type serviceTerminology struct{ s *terminology.Service }

func (t serviceTerminology) MemberOf(ctx context.Context, valueSet, system, code string) (bool, bool, error) {
	check, err := t.s.CheckCode(ctx, valueSet, system, code)
	if err != nil {
		return false, false, err
	}
	switch check.Verdict {
	case terminology.Member:
		return true, true, nil
	case terminology.NotMember:
		return false, true, nil
	}
	return false, false, nil
}

func (t serviceTerminology) Subsumes(_ context.Context, system, a, b string) (bool, bool, error) {
	cs, ok := t.s.CodeSystem(system)
	if !ok {
		return false, false, nil
	}
	if _, ok := cs.Lookup(a); !ok {
		return false, cs.Complete(), nil
	}
	return slices.Contains(cs.Descendants(a, true), b), true, nil
}
