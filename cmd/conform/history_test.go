package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/packages"
	"github.com/nhsconform/conform/report"
	"github.com/nhsconform/conform/report/evidence"
	"github.com/nhsconform/conform/runner/runnertest"
	"github.com/nhsconform/conform/scenarios/refserver"
	"github.com/nhsconform/conform/scenarios/suite"
)

// startRefServer serves the reference server with faults until the test ends.
func startRefServer(t *testing.T, faults ...string) string {
	t.Helper()
	srv, err := refserver.New(refserver.Options{Faults: faults})
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	base, done, err := srv.Start(ctx, "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() {
		stop()
		<-done
	})
	return base
}

// evidenceRuns makes a folder of three real evidence bundles of the
// scenarios of ADM-01 to ADM-03: r1 and r2 (zipped too) against one server,
// r3 against the same kind of server with the no-location fault; all signed.
type evidenceRuns struct {
	dir, key, pub string
}

func makeEvidenceRuns(t *testing.T) evidenceRuns {
	t.Helper()
	root := t.TempDir()
	r := evidenceRuns{dir: filepath.Join(root, "runs"), key: filepath.Join(root, "key")}
	r.pub = r.key + ".pub"
	_, stderr, code := runCLI(t, "", nil, "keygen", "--out", r.key)
	require.Equal(t, conformance.ExitPass, code, stderr)
	good := startRefServer(t)
	faulty := startRefServer(t, refserver.FaultNoLocation)
	pkgs := sharedPackageArgs(t)
	for _, run := range []struct {
		name, target string
		extra        []string
	}{
		{name: "r1", target: good, extra: []string{"--label", "supplier=Acme", "--label", "lot=2"}},
		{name: "r2", target: good, extra: []string{"--zip"}},
		{name: "r3", target: faulty},
	} {
		args := append([]string{"run", "--packs", "--target", run.target, "--concurrency", "4", "--tags", "@ADM-01,@ADM-02,@ADM-03", "--out", filepath.Join(r.dir, run.name),
			"--sign-key", r.key, "-o", "json=" + filepath.Join(root, run.name+".json")}, run.extra...)
		_, stderr, code := runCLI(t, "", nil, append(args, pkgs...)...)
		require.Contains(t, []conformance.ExitCode{conformance.ExitPass, conformance.ExitFail}, code, stderr)
		assert.Contains(t, stderr, "evidence bundle")
	}
	return r
}

func TestEvidenceBundlesEndToEnd(t *testing.T) {
	runs := makeEvidenceRuns(t)
	r1, r2, r3 := filepath.Join(runs.dir, "r1"), filepath.Join(runs.dir, "r2"), filepath.Join(runs.dir, "r3")

	t.Run("every format and the exchanges are in the bundle, the record matches its schema", func(t *testing.T) {
		for _, f := range report.Formats() {
			assert.FileExists(t, filepath.Join(r1, f.File))
		}
		exchanges, err := os.ReadDir(filepath.Join(r1, report.ExchangesDir))
		require.NoError(t, err)
		assert.Greater(t, len(exchanges), 5)
		data, err := os.ReadFile(filepath.Join(r1, report.RecordFile))
		require.NoError(t, err)
		require.NoError(t, report.ValidateRecord(data))
		rec, err := report.ReadRecord(r1)
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"supplier": "Acme", "lot": "2"}, rec.Labels)
		assert.Len(t, rec.Packs, 4)
		ids := map[string]string{}
		for _, p := range rec.Packages {
			ids[p.ID] = p.Hash
		}
		assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, ids["hl7.fhir.r4.core#4.0.1"])
		assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, ids["fhir.r4.ukcore.stu2#2.0.2"])
	})

	t.Run("the TestReport Bundle of a real run is valid FHIR", func(t *testing.T) {
		core, err := packages.Open(conformancetest.Shared(t, "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz"))
		require.NoError(t, err)
		v, err := suite.NewValidator(packages.NewSet(core))
		require.NoError(t, err)
		data, err := os.ReadFile(filepath.Join(r3, "testreport.json"))
		require.NoError(t, err)
		out, err := v.Validate(context.Background(), data)
		require.NoError(t, err)
		assert.False(t, out.HasErrors(), "%v", out.Issues)
		assert.Contains(t, string(data), `"result": "fail"`, "the faulty server's failures are in the TestReports")
	})

	t.Run("a run links the previous run for the same target", func(t *testing.T) {
		m, _, err := evidence.ReadManifest(r2)
		require.NoError(t, err)
		require.NotNil(t, m.Previous)
		assert.Equal(t, "r1", m.Previous.Run)
		sum, err := evidence.ManifestHash(r1)
		require.NoError(t, err)
		assert.Equal(t, sum, m.Previous.ManifestSHA256)
		rec, err := report.ReadRecord(r2 + ".zip")
		require.NoError(t, err)
		require.NotNil(t, rec.Previous)
		assert.Equal(t, sum, rec.Previous.ManifestSHA256)
		m3, _, err := evidence.ReadManifest(r3)
		require.NoError(t, err)
		assert.Nil(t, m3.Previous, "r3 ran against another target")
	})

	t.Run("intact bundles verify, folder and zip", func(t *testing.T) {
		for _, b := range []string{r1, r2, r2 + ".zip", r3} {
			stdout, stderr, code := runCLI(t, "", nil, "verify", "--pubkey", runs.pub, b)
			assert.Equal(t, conformance.ExitPass, code, stdout+stderr)
			assert.Contains(t, stdout, "INTACT")
		}
	})

	t.Run("one flipped byte in any file is named", func(t *testing.T) {
		m, _, err := evidence.ReadManifest(r1)
		require.NoError(t, err)
		files := []string{evidence.ManifestFile, evidence.SignatureFile}
		for _, f := range m.Files {
			files = append(files, f.Path)
		}
		for _, name := range files {
			path := filepath.Join(r1, filepath.FromSlash(name))
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			i := len(data) / 2
			flipped := append([]byte{}, data...)
			flipped[i] ^= 0x01
			require.NoError(t, os.WriteFile(path, flipped, 0o644))
			stdout, stderr, code := runCLI(t, "", nil, "verify", "--pubkey", runs.pub, r1)
			require.NoError(t, os.WriteFile(path, data, 0o644))
			assert.NotEqual(t, conformance.ExitPass, code, "flipping a byte of %s went unnoticed", name)
			switch name {
			case evidence.ManifestFile, evidence.SignatureFile:
				assert.Regexp(t, `(?i)signature|manifest`, stdout+stderr, name)
			default:
				assert.Contains(t, stdout, name, "the changed file is named")
			}
		}
		_, _, code := runCLI(t, "", nil, "verify", "--pubkey", runs.pub, r1)
		assert.Equal(t, conformance.ExitPass, code, "restored bundle verifies again")
	})

	t.Run("added and removed files, missing signature, wrong key, truncated zip", func(t *testing.T) {
		extra := filepath.Join(r3, "extra.txt")
		require.NoError(t, os.WriteFile(extra, []byte("x"), 0o644))
		stdout, _, code := runCLI(t, "", nil, "verify", "--pubkey", runs.pub, r3)
		assert.Equal(t, conformance.ExitFail, code)
		assert.Contains(t, stdout, "extra.txt")
		require.NoError(t, os.Remove(extra))

		junit := filepath.Join(r3, "junit.xml")
		saved, err := os.ReadFile(junit)
		require.NoError(t, err)
		require.NoError(t, os.Remove(junit))
		stdout, _, code = runCLI(t, "", nil, "verify", "--pubkey", runs.pub, r3)
		assert.Equal(t, conformance.ExitFail, code)
		assert.Contains(t, stdout, "junit.xml")
		require.NoError(t, os.WriteFile(junit, saved, 0o644))

		sig := filepath.Join(r3, evidence.SignatureFile)
		savedSig, err := os.ReadFile(sig)
		require.NoError(t, err)
		require.NoError(t, os.Remove(sig))
		stdout, stderr, code := runCLI(t, "", nil, "verify", "--pubkey", runs.pub, r3)
		assert.Equal(t, conformance.ExitFail, code, stdout+stderr)
		assert.Contains(t, stdout+stderr, "manifest.sig")
		require.NoError(t, os.WriteFile(sig, savedSig, 0o644))

		other := filepath.Join(t.TempDir(), "other")
		_, _, code = runCLI(t, "", nil, "keygen", "--out", other)
		require.Equal(t, conformance.ExitPass, code)
		stdout, stderr, code = runCLI(t, "", nil, "verify", "--pubkey", other+".pub", r3)
		assert.Equal(t, conformance.ExitFail, code, stdout+stderr)
		assert.Contains(t, stdout+stderr, "signature")

		zipData, err := os.ReadFile(r2 + ".zip")
		require.NoError(t, err)
		truncated := filepath.Join(t.TempDir(), "truncated.zip")
		require.NoError(t, os.WriteFile(truncated, zipData[:len(zipData)/2], 0o644))
		_, stderr, code = runCLI(t, "", nil, "verify", "--pubkey", runs.pub, truncated)
		assert.NotEqual(t, conformance.ExitPass, code)
		assert.Contains(t, stderr, "truncated.zip")
		_, stderr, code = runCLI(t, "", nil, "compare", truncated, r1)
		assert.Equal(t, conformance.ExitIncomplete, code)
		assert.Contains(t, stderr, "truncated.zip")
	})

	t.Run("compare names the new failures and the fixed ones", func(t *testing.T) {
		stdout, stderr, code := runCLI(t, "", nil, "compare", r1, r3)
		require.Equal(t, conformance.ExitFail, code, stdout+stderr)
		assert.Regexp(t, `new failures \([1-9]`, stdout)
		assert.Contains(t, stdout, "ADM-02")
		stdout, _, code = runCLI(t, "", nil, "compare", "-o", "json", r3, r2+".zip")
		require.Equal(t, conformance.ExitPass, code)
		var c report.Comparison
		require.NoError(t, json.Unmarshal([]byte(stdout), &c))
		require.NotEmpty(t, c.Fixed)
		assert.Equal(t, "ADM-02", c.Fixed[0].Criterion)
		assert.Empty(t, c.NewFailures)
		assert.Contains(t, c.Notes, "targets differ: "+c.A.Target+" in A, "+c.B.Target+" in B")
	})

	t.Run("compare refuses runs of different packs", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(r1, report.RecordFile))
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(data, &m))
		m["packs"] = m["packs"].([]any)[:2]
		fewer, err := json.Marshal(m)
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), "fewer.json")
		require.NoError(t, os.WriteFile(path, fewer, 0o644))
		_, stderr, code := runCLI(t, "", nil, "compare", r1, path)
		assert.Equal(t, conformance.ExitUsage, code)
		assert.Contains(t, stderr, "did not run the same packs")
	})

	t.Run("history gives the first failure and the current streak", func(t *testing.T) {
		stdout, stderr, code := runCLI(t, "", nil, "history", "-o", "json", runs.dir)
		require.Equal(t, conformance.ExitPass, code, stderr)
		var hs []report.History
		require.NoError(t, json.Unmarshal([]byte(stdout), &hs))
		require.Len(t, hs, 2, "two targets")
		var faulty report.History
		for _, h := range hs {
			if len(h.Runs) == 1 {
				faulty = h
			} else {
				assert.Len(t, h.Runs, 2, "the zip beside its folder is one run")
			}
		}
		var adm02 *report.CriterionHistory
		for i, c := range faulty.Criteria {
			if c.ID == "ADM-02" {
				adm02 = &faulty.Criteria[i]
			}
		}
		require.NotNil(t, adm02)
		assert.Equal(t, conformance.StatusFail, adm02.Current)
		assert.Equal(t, 1, adm02.StreakRuns)
		assert.Equal(t, 1, adm02.StreakDays)
		stdout, _, code = runCLI(t, "", nil, "history", runs.dir)
		require.Equal(t, conformance.ExitPass, code)
		assert.Contains(t, stdout, "ADM-02")
		assert.Contains(t, stdout, "STREAK FROM")
		assert.NotContains(t, stdout, "CHAIN BROKEN")
	})

	t.Run("history detects a deleted run", func(t *testing.T) {
		aside := filepath.Join(t.TempDir(), "r1")
		require.NoError(t, os.Rename(r1, aside))
		stdout, stderr, code := runCLI(t, "", nil, "history", runs.dir)
		require.NoError(t, os.Rename(aside, r1))
		assert.Equal(t, conformance.ExitFail, code, stderr)
		assert.Contains(t, stdout, "CHAIN BROKEN: run r2 links the previous run r1, which is missing")
	})
}

func TestRunEvidenceFlagErrors(t *testing.T) {
	dir := t.TempDir()
	unknown := filepath.Join(dir, "unknown.json")
	require.NoError(t, os.WriteFile(unknown, []byte(`{"waivers":[{"criterion":"XYZ-99","reason":"r","by":"b","expires":"2030-01-01"}]}`), 0o644))
	badDate := filepath.Join(dir, "bad-date.json")
	require.NoError(t, os.WriteFile(badDate, []byte(`{"waivers":[{"criterion":"ADM-01","reason":"r","by":"b","expires":"2030-02-30"}]}`), 0o644))
	notJSON := filepath.Join(dir, "not.json")
	require.NoError(t, os.WriteFile(notJSON, []byte(`waivers: [ADM-01]`), 0o644))
	full := filepath.Join(dir, "full")
	require.NoError(t, os.MkdirAll(full, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(full, "x"), nil, 0o644))
	noKey := filepath.Join(dir, "no-such-key")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "waiver of an unknown criterion", args: []string{"--waivers", unknown}, want: "XYZ-99"},
		{name: "waiver with an impossible date", args: []string{"--waivers", badDate}, want: "2030-02-30"},
		{name: "waivers file not JSON", args: []string{"--waivers", notJSON}, want: "waivers"},
		{name: "bundle folder not empty", args: []string{"--out", full}, want: "not empty"},
		{name: "missing signing key", args: []string{"--out", filepath.Join(dir, "new"), "--sign-key", noKey}, want: "no-such-key"},
		{name: "zip without out", args: []string{"--zip"}, want: "--out"},
		{name: "bad label", args: []string{"--label", "no value"}, want: "--label"},
		{name: "label value with a line break", args: []string{"--label", "supplier=Acme\noverall: PASS"}, want: "printable"},
		{name: "unknown format", args: []string{"-o", "pdf"}, want: "html"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, "", nil, append([]string{"run"}, tc.args...)...)
			assert.Equal(t, conformance.ExitUsage, code, stderr)
			assert.Contains(t, stderr, tc.want)
		})
	}
}

func TestCompareAndHistoryUsage(t *testing.T) {
	dir := t.TempDir()
	notRecord := filepath.Join(dir, "x.json")
	require.NoError(t, os.WriteFile(notRecord, []byte(`{"resourceType":"Patient"}`), 0o644))
	tests := []struct {
		name string
		args []string
		code conformance.ExitCode
		want string
	}{
		{name: "compare one run", args: []string{"compare", notRecord}, code: conformance.ExitUsage, want: "two runs"},
		{name: "compare bad format", args: []string{"compare", "-o", "xml", notRecord, notRecord}, code: conformance.ExitUsage, want: "xml"},
		{name: "compare not a record", args: []string{"compare", notRecord, notRecord}, code: conformance.ExitIncomplete, want: "schemaVersion"},
		{name: "compare missing file", args: []string{"compare", filepath.Join(dir, "nope"), notRecord}, code: conformance.ExitIncomplete, want: "nope"},
		{name: "history without folders", args: []string{"history"}, code: conformance.ExitUsage, want: "folder"},
		{name: "history of a folder without runs", args: []string{"history", dir}, code: conformance.ExitIncomplete, want: "no evidence bundle"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, "", nil, tc.args...)
			assert.Equal(t, tc.code, code, stderr)
			assert.Contains(t, stderr, tc.want)
		})
	}
}

func TestFeatureRunBundleHasNoSecret(t *testing.T) {
	srv := runnertest.New(cliToken)
	defer srv.Close()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(cliToken+"\n"), 0o600))
	bundle := filepath.Join(dir, "runs", "features")
	args := append([]string{"run", "--target", srv.URL, "--features", features("pass"), "--bearer-token-file", tokenFile,
		"--header", "X-Api-Key: " + cliToken, "--out", bundle, "--zip", "-o", "text", "-o", "html=" + filepath.Join(dir, "page.html")}, profileArgs(t)...)
	stdout, stderr, code := runCLI(t, "", nil, args...)
	require.Equal(t, conformance.ExitPass, code, stdout+stderr)
	assert.Contains(t, stdout, "overall: PASS")
	files := []string{filepath.Join(dir, "page.html"), bundle + ".zip"}
	require.NoError(t, filepath.WalkDir(bundle, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	}))
	assert.Greater(t, len(files), 10)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.NotContains(t, string(data), cliToken, f)
	}
	rec, err := report.ReadRecord(bundle)
	require.NoError(t, err)
	assert.Empty(t, rec.Packs, "a --features run has no packs")
	var ids []string
	for _, p := range rec.Packages {
		ids = append(ids, p.ID)
	}
	assert.Contains(t, ids, "hl7.fhir.r4.core#4.0.1", "the packages that validated are recorded")
	_, _, code = runCLI(t, "", nil, "verify", "--allow-unsigned", bundle+".zip")
	assert.Equal(t, conformance.ExitPass, code)
	_, _, code = runCLI(t, "", nil, "verify", bundle)
	assert.Equal(t, conformance.ExitFail, code, "an unsigned bundle is not accepted by default")
}

func TestRunWithWaivers(t *testing.T) {
	faulty := startRefServer(t, refserver.FaultNoLocation, refserver.FaultIgnoreConditionalUpdate)
	dir := t.TempDir()
	waivers := filepath.Join(dir, "waivers.json")
	require.NoError(t, os.WriteFile(waivers, []byte(`{"waivers": [
		{"criterion": "ADM-02", "reason": "Location header fix in release 4.2", "by": "assurance lead", "expires": "2999-12-31"},
		{"criterion": "ADM-01", "reason": "expired agreement", "by": "assurance lead", "expires": "2000-01-01"}]}`), 0o644))
	record := filepath.Join(dir, "record.json")
	args := append([]string{"run", "--packs", "--target", faulty, "--tags", "@ADM-01,@ADM-02", "--waivers", waivers,
		"-o", "text", "-o", "json=" + record}, sharedPackageArgs(t)...)
	stdout, stderr, code := runCLI(t, "", nil, args...)
	require.Equal(t, conformance.ExitFail, code, stdout+stderr)
	assert.Contains(t, stdout, "WAIVED   ADM-02")
	assert.Contains(t, stdout, "waived by assurance lead until 2999-12-31: Location header fix in release 4.2")
	assert.Contains(t, stdout, "FAIL     ADM-01")
	assert.Contains(t, stdout, "overall: FAIL")
	rec, err := report.ReadRecord(record)
	require.NoError(t, err)
	adm02, ok := rec.Criterion("ADM-02")
	require.True(t, ok)
	assert.Equal(t, conformance.StatusWaived, adm02.Status)
	require.NotNil(t, adm02.Waiver)
	adm01, _ := rec.Criterion("ADM-01")
	assert.Equal(t, conformance.StatusFail, adm01.Status, "an expired waiver no longer applies")
	assert.Nil(t, adm01.Waiver)
	assert.Len(t, rec.Waivers, 2)
}
