package suite

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/scenarios"
	"github.com/nhsconform/conform/scenarios/packs"
)

var placeholder = regexp.MustCompile(`\{\{([A-Za-z][A-Za-z0-9_]*)\}\}`)

// fill replaces each {{name}} with a value of the right shape: instants for
// times, a valid test NHS Number, a stable UUID for anything else.
func fill(data []byte) []byte {
	return placeholder.ReplaceAllFunc(data, func(m []byte) []byte {
		name := string(placeholder.FindSubmatch(m)[1])
		switch name {
		case "now", "admitted", "discharged":
			return []byte("2026-01-01T10:00:00Z")
		case "nhs", "nhsNumber":
			return []byte("9434765919")
		}
		x := fmt.Sprintf("%x", sha256.Sum256([]byte(name)))
		return []byte(x[0:8] + "-" + x[8:12] + "-4" + x[13:16] + "-8" + x[17:20] + "-" + x[20:32])
	})
}

// TestFixturesAreValidUKCore validates every fixture, its placeholders
// filled, with conform's validator against UK Core: fixtures meant to be
// refused (named *invalid* or *no-status*) must have an error, every other
// fixture none.
func TestFixturesAreValidUKCore(t *testing.T) {
	v := referenceOptions(t).Validator
	ps, err := packs.Builtin()
	require.NoError(t, err)
	n := 0
	for _, p := range ps {
		for _, f := range p.Fixtures {
			name := path.Join(p.Dir, f)
			t.Run(name, func(t *testing.T) {
				raw, err := scenarios.FS.ReadFile(name)
				require.NoError(t, err)
				out, err := v.Validate(context.Background(), fill(raw))
				require.NoError(t, err)
				refused := strings.Contains(f, "invalid") || strings.Contains(f, "no-status")
				if refused {
					assert.True(t, out.HasErrors(), "%s should break UK Core", name)
					return
				}
				for _, is := range out.Issues {
					if is.Severity == conformance.SeverityError || is.Severity == conformance.SeverityFatal {
						t.Errorf("%s: %s %s: %s", name, is.Severity, is.Expression, is.Message)
					}
				}
			})
			n++
		}
	}
	assert.GreaterOrEqual(t, n, 15)
}
