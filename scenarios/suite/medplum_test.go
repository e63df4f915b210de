package suite

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
)

// medplumDir holds the Node wrapper around Medplum's FhirRouter.
var medplumDir = filepath.Join("..", "..", "testdata", "medplum")

// startMedplum installs the pinned Medplum packages (npm ci, only when
// node_modules does not match the lock file) and starts the wrapper on a
// free loopback port; it returns the FHIR base URL. Without node and npm the
// test is skipped, except in CI (CI set), where it fails.
func startMedplum(t *testing.T) string {
	t.Helper()
	node, nerr := exec.LookPath("node")
	npm, perr := exec.LookPath("npm")
	if nerr != nil || perr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the Medplum peer test needs node and npm on PATH in CI: %v %v", nerr, perr)
		}
		t.Skip("node and npm are not installed: the Medplum peer test cannot run here (it must in CI)")
	}
	lock, err := os.ReadFile(filepath.Join(medplumDir, "package-lock.json"))
	require.NoError(t, err)
	installed, _ := os.ReadFile(filepath.Join(medplumDir, "node_modules", ".package-lock.json"))
	if !sameLock(lock, installed) {
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = medplumDir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "npm ci in testdata/medplum: %s", out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, "server.mjs", "0")
	cmd.Dir = medplumDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		require.True(t, ok, "the Medplum wrapper stopped before listening: %s", stderr.String())
		base, found := strings.CutPrefix(line, "listening on ")
		require.True(t, found, "unexpected first line from the Medplum wrapper: %q", line)
		return base
	case <-time.After(60 * time.Second):
		t.Fatalf("the Medplum wrapper did not start within 60 s: %s", stderr.String())
	}
	return ""
}

// sameLock reports whether node_modules/.package-lock.json records the same
// package versions as package-lock.json.
func sameLock(lock, installed []byte) bool {
	var a, b struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	if json.Unmarshal(lock, &a) != nil || json.Unmarshal(installed, &b) != nil || len(b.Packages) == 0 {
		return false
	}
	for name, p := range a.Packages {
		if name == "" {
			continue
		}
		if b.Packages[name].Version != p.Version {
			return false
		}
	}
	return true
}

// TestPacksAgainstMedplum runs every pack against Medplum's FhirRouter with
// its MemoryRepository and checks each criterion's verdict is the one
// docs/PEERS.md explains (testdata/medplum.json).
func TestPacksAgainstMedplum(t *testing.T) {
	base := startMedplum(t)
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
