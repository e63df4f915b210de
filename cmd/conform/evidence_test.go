package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/report/evidence"
)

func TestKeygenAndVerify(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "signing.key")
	out, errOut, code := runCLI(t, "", nil, "keygen", "--out", key)
	require.Equal(t, conformance.ExitPass, code, errOut)
	assert.Contains(t, out, "fingerprint: SHA256:")

	bundle := filepath.Join(dir, "run")
	require.NoError(t, os.MkdirAll(bundle, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bundle, "record.json"), []byte(`{}`), 0o644))
	priv, err := evidence.LoadPrivateKey(key)
	require.NoError(t, err)
	_, err = evidence.Seal(bundle, evidence.SealOptions{Tool: "conform test", Created: time.Unix(0, 0), Key: priv})
	require.NoError(t, err)

	out, _, code = runCLI(t, "", nil, "verify", "--pubkey", key+".pub", bundle)
	assert.Equal(t, conformance.ExitPass, code)
	assert.Contains(t, out, "INTACT")

	require.NoError(t, os.WriteFile(filepath.Join(bundle, "record.json"), []byte(`{ }`), 0o644))
	out, _, code = runCLI(t, "", nil, "verify", "--pubkey", key+".pub", bundle)
	assert.Equal(t, conformance.ExitFail, code)
	assert.Contains(t, out, "changed: record.json")

	_, _, code = runCLI(t, "", nil, "verify", filepath.Join(dir, "nothing-here"))
	assert.Equal(t, conformance.ExitIncomplete, code)
	_, _, code = runCLI(t, "", nil, "verify")
	assert.Equal(t, conformance.ExitUsage, code)
	_, _, code = runCLI(t, "", nil, "verify", "--pubkey", filepath.Join(dir, "missing.pub"), bundle)
	assert.Equal(t, conformance.ExitUsage, code)
}
