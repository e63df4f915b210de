package snapshot

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// outline renders a snapshot one element a line: id, cardinality and the
// compared properties.
func outline(sd map[string]any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", str(sd, "url"))
	for _, e := range elementsOf(sd, "snapshot") {
		fmt.Fprintf(&b, "%s %s..%s %s", str(e, "id"), Summary(e, PropertyMin), Summary(e, PropertyMax), Summary(e, PropertyType))
		for _, p := range []string{PropertyValue, PropertyBinding, PropertySlicing} {
			if s := Summary(e, p); s != "" {
				fmt.Fprintf(&b, " | %s: %s", p, s)
			}
		}
		if ms, _ := e["mustSupport"].(bool); ms {
			b.WriteString(" | mustSupport")
		}
		var keys []string
		for _, c := range anyList(e["constraint"]) {
			if m, ok := c.(map[string]any); ok {
				keys = append(keys, str(m, "key"))
			}
		}
		if len(keys) > 0 {
			fmt.Fprintf(&b, " | constraints: %s", strings.Join(keys, ","))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func TestUKCoreSnapshotsMatchGolden(t *testing.T) {
	set, _ := openSources(t, "fhir/sources/uk-core")
	g := &Generator{Resolve: set.ResolveJSON}
	for _, name := range []string{
		"UKCore-Patient",
		"UKCore-Observation-VitalSigns-BloodPressure",
		"UKCore-MedicationRequest",
		"Extension-UKCore-AddressKey",
	} {
		t.Run(name, func(t *testing.T) {
			sd, warnings, err := g.SnapshotFor("https://fhir.hl7.org.uk/StructureDefinition/" + name)
			require.NoError(t, err)
			assert.Empty(t, warnings)
			got := outline(sd)
			file := filepath.Join("testdata", name+".golden")
			if *update {
				require.NoError(t, os.MkdirAll("testdata", 0o755))
				require.NoError(t, os.WriteFile(file, []byte(got), 0o644))
			}
			want, err := os.ReadFile(file)
			require.NoError(t, err, "run with -update to create it")
			assert.Equal(t, string(want), got)
		})
	}
}
