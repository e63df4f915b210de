package suite

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
)

func TestEveryPackPassesAgainstTheReferenceServer(t *testing.T) {
	opts := referenceOptions(t)
	opts.Runner.Concurrency = 4
	res, err := Run(context.Background(), opts)
	require.NoError(t, err)
	for _, s := range res.Record.Scenarios {
		if s.Status != conformance.StatusPass {
			for _, st := range s.Steps {
				if st.Status != conformance.StatusPass {
					t.Logf("%s: %s (%s:%d): %s %s: %s", s.Status, s.Name, s.URI, s.Line, st.Keyword, st.Text, st.Error)
					break
				}
			}
		}
	}
	for _, p := range res.Packs {
		assert.Empty(t, p.Skipped, p.ID)
		for _, c := range p.Criteria {
			assert.Equal(t, conformance.StatusPass, c.Status, "%s %s", c.ID, c.Text)
		}
	}
	assert.Equal(t, conformance.StatusPass, res.Status)
	assert.True(t, res.Reference)
	t.Logf("%d scenarios in %s", len(res.Record.Scenarios), res.Record.Duration)
}
