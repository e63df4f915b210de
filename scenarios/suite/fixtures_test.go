package suite

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/packages"
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

// TestReferralFixturesFollowTheBaRSMessageDefinitions counts the resources
// of the referral fixtures against the MessageDefinitions published with
// BaRS: the messages the pack sends as valid respect every focus min..max,
// the one it sends to be refused does not.
func TestReferralFixturesFollowTheBaRSMessageDefinitions(t *testing.T) {
	bars, err := packages.Open(conformancetest.Shared(t, "fhir/sources/bars"))
	require.NoError(t, err)
	set := packages.NewSet(append(packageSet(t).Packages(), bars)...)
	tests := []struct {
		fixture    string
		definition string
		conforms   bool
	}{
		{fixture: "referral/fixtures/referral.json", definition: "https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-referral", conforms: true},
		{fixture: "referral/fixtures/cancellation.json", definition: "https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-cancelled", conforms: true},
		{fixture: "referral/fixtures/referral-without-careplan.json", definition: "https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-referral", conforms: false},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			def, ok := set.ResolveJSON(tc.definition)
			require.True(t, ok, "BaRS MessageDefinition %s", tc.definition)
			raw, err := scenarios.FS.ReadFile(tc.fixture)
			require.NoError(t, err)
			var msg struct {
				Entry []struct {
					Resource struct {
						ResourceType string `json:"resourceType"`
					} `json:"resource"`
				} `json:"entry"`
			}
			require.NoError(t, json.Unmarshal(fill(raw), &msg))
			counts := map[string]int{"Bundle": 1}
			for _, e := range msg.Entry {
				counts[e.Resource.ResourceType]++
			}
			minimum, maximum := map[string]int{}, map[string]int{}
			focus, _ := def["focus"].([]any)
			require.NotEmpty(t, focus)
			for _, f := range focus {
				fm := f.(map[string]any)
				code := fm["code"].(string)
				n, _ := fm["min"].(json.Number).Int64()
				minimum[code] += int(n)
				if fm["max"] == "*" || maximum[code] < 0 {
					maximum[code] = -1
				} else {
					m, _ := strconv.Atoi(fm["max"].(string))
					maximum[code] += m
				}
			}
			var broken []string
			for code, lo := range minimum {
				if counts[code] < lo || (maximum[code] >= 0 && counts[code] > maximum[code]) {
					broken = append(broken, fmt.Sprintf("%s: %d", code, counts[code]))
				}
			}
			for code := range counts {
				if _, allowed := minimum[code]; !allowed {
					broken = append(broken, code+" is not in the definition")
				}
			}
			if tc.conforms {
				assert.Empty(t, broken)
			} else {
				assert.NotEmpty(t, broken)
			}
		})
	}
}
