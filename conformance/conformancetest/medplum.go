package conformancetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// StartMedplum starts the repository's Node wrapper around Medplum's
// FhirRouter with its MemoryRepository (testdata/medplum) on a free loopback
// port and returns its FHIR base URL; the server stops when the test ends.
// The pinned npm packages are installed first (npm ci) when node_modules does
// not match the lock file, under a file lock so that test packages running at
// once do not install together. Without node and npm the test is skipped,
// except in CI (CI set), where it fails.
func StartMedplum(t testing.TB) string {
	t.Helper()
	node, nerr := exec.LookPath("node")
	npm, perr := exec.LookPath("npm")
	if nerr != nil || perr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the Medplum peer test needs node and npm on PATH in CI: %v %v", nerr, perr)
		}
		t.Skip("node and npm are not installed: the Medplum peer test cannot run here (it must in CI)")
	}
	dir := medplumDir(t)
	installMedplum(t, dir, npm)

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, "server.mjs", "0")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatalf("start the Medplum wrapper: %v", err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start the Medplum wrapper: %v", err)
	}
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
		if !ok {
			t.Fatalf("the Medplum wrapper stopped before listening: %s", stderr.String())
		}
		base, found := strings.CutPrefix(line, "listening on ")
		if !found {
			t.Fatalf("unexpected first line from the Medplum wrapper: %q", line)
		}
		return base
	case <-time.After(60 * time.Second):
		t.Fatalf("the Medplum wrapper did not start within 60 s: %s", stderr.String())
	}
	return ""
}

// medplumDir finds testdata/medplum at the repository root.
func medplumDir(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("find testdata/medplum: %v", err)
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "medplum")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("find testdata/medplum: no go.mod above %s", wd)
		}
		dir = parent
	}
}

func installMedplum(t testing.TB, dir, npm string) {
	t.Helper()
	lockFile, err := os.OpenFile(filepath.Join(dir, ".install.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("lock testdata/medplum: %v", err)
	}
	defer lockFile.Close()
	if err := lockFileExclusive(lockFile); err != nil {
		t.Fatalf("lock testdata/medplum: %v", err)
	}
	defer unlockFile(lockFile)

	lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		t.Fatalf("read testdata/medplum/package-lock.json: %v", err)
	}
	installed, _ := os.ReadFile(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if sameLock(lock, installed) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in testdata/medplum: %v: %s", err, out)
	}
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
