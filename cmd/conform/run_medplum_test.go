package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/conformance/conformancetest"
)

// TestRunAgainstMedplum runs the mandated steps from the command line against
// a FHIR server written elsewhere (Medplum's FhirRouter) and checks the exit
// codes: 0 when every scenario passes, 1 when one fails, 3 when the target
// cannot be reached.
func TestRunAgainstMedplum(t *testing.T) {
	base := conformancetest.StartMedplum(t)
	igs := []string{
		"--ig", conformancetest.Shared(t, "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz"),
		"--ig", conformancetest.Shared(t, "fhir/sources/uk-core-2.0.2"),
	}
	environ := map[string]string{"CONFORM_FHIR_CACHE": t.TempDir()}
	features := filepath.Join("..", "..", "testdata", "features", "interop")

	args := append([]string{"run", "--target", base, "--features", features, "-o", "text"}, igs...)
	out, errOut, code := runCLI(t, "", environ, args...)
	require.Equal(t, conformance.ExitPass, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "3 scenarios: 3 passed")

	failing := filepath.Join(t.TempDir(), "teapot.feature")
	require.NoError(t, os.WriteFile(failing, []byte(`Feature: A wrong expectation
  Scenario: metadata is not a teapot
    When I send a GET request to "metadata"
    Then the response status should be 418
`), 0o644))
	out, _, code = runCLI(t, "", environ, "run", "--target", base, "--features", failing, "-o", "text")
	assert.Equal(t, conformance.ExitFail, code)
	assert.Contains(t, out, "expected status 418, got 200")

	_, errOut, code = runCLI(t, "", environ, "run", "--target", "http://127.0.0.1:1/fhir", "--features", failing, "--timeout", "2s", "-o", "text")
	assert.Equal(t, conformance.ExitIncomplete, code, errOut)
}
