package conformance

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSeverityRank(t *testing.T) {
	for sev, want := range map[Severity]int{SeverityFatal: 0, SeverityError: 1, SeverityWarning: 2, SeverityInformation: 3, "": 3} {
		assert.Equal(t, want, sev.Rank(), "%q", sev)
	}
}
