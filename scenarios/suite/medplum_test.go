package suite

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/conformance/conformancetest"
)

// TestPacksAgainstMedplum runs every pack against Medplum's FhirRouter with
// its MemoryRepository and checks each criterion's verdict is the one
// docs/PEERS.md explains (testdata/medplum.json).
func TestPacksAgainstMedplum(t *testing.T) {
	base := conformancetest.StartMedplum(t)
	opts := referenceOptions(t)
	opts.Target = base
	opts.Listen = "127.0.0.1:0"
	opts.Runner.Concurrency = 8
	res, err := Run(context.Background(), opts)
	require.NoError(t, err)
	raw, err := os.ReadFile("testdata/medplum.json")
	require.NoError(t, err)
	var want map[string]conformance.Status
	require.NoError(t, json.Unmarshal(raw, &want))
	got := map[string]conformance.Status{}
	for _, c := range res.Criteria {
		got[c.ID] = c.Status
	}
	if *update {
		data, err := json.MarshalIndent(got, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile("testdata/medplum.json", append(data, '\n'), 0o644))
		return
	}
	assert.Equal(t, want, got)
	for _, p := range res.Packs {
		for _, s := range p.Skipped {
			assert.Contains(t, s.Reason, "does not declare", s.Scenario)
		}
	}
}

// TestPeersDocMatchesMedplumVerdicts keeps docs/PEERS.md's verdict table
// equal to testdata/medplum.json.
func TestPeersDocMatchesMedplumVerdicts(t *testing.T) {
	raw, err := os.ReadFile("testdata/medplum.json")
	require.NoError(t, err)
	var want map[string]conformance.Status
	require.NoError(t, json.Unmarshal(raw, &want))
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "PEERS.md"))
	require.NoError(t, err)
	got := map[string]conformance.Status{}
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 5 {
			continue
		}
		id, status := strings.TrimSpace(cells[1]), conformance.Status(strings.TrimSpace(cells[3]))
		if first, last, ok := strings.Cut(id, " .. "); ok {
			prefix := first[:strings.LastIndexByte(first, '-')+1]
			var a, b int
			fmt.Sscanf(first[len(prefix):], "%d", &a)
			fmt.Sscanf(last[len(prefix):], "%d", &b)
			for i := a; i <= b; i++ {
				got[fmt.Sprintf("%s%02d", prefix, i)] = status
			}
			continue
		}
		if _, known := want[id]; known {
			got[id] = status
		}
	}
	assert.Equal(t, want, got, "docs/PEERS.md disagrees with testdata/medplum.json")
}
