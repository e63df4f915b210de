package suite

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/packages"
	"github.com/nhsconform/conform/scenarios"
	"github.com/nhsconform/conform/scenarios/packs"
)

// TestFixturesAreValidUKCore validates every fixture, its placeholders
// filled, with conform's validator against UK Core: fixtures meant to be
// refused (named *invalid*) must have an error, every other fixture none.
func TestFixturesAreValidUKCore(t *testing.T) {
	v := referenceOptions(t).Validator
	ps, err := packs.Builtin()
	require.NoError(t, err)
	n, refused := 0, 0
	for _, p := range ps {
		require.NoError(t, p.ValidateFixtures(context.Background(), scenarios.FS, v), p.ID)
		n += len(p.Fixtures)
		for _, f := range p.Fixtures {
			if strings.Contains(f, packs.RefusedFixtureMarker) {
				refused++
			}
		}
	}
	assert.GreaterOrEqual(t, n, 15)
	assert.GreaterOrEqual(t, refused, 4)
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
			require.NoError(t, json.Unmarshal(packs.FillPlaceholders(raw), &msg))
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
