package packs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"github.com/nhsconform/conform/conformance"
)

// RefusedFixtureMarker in a fixture's file name says the fixture is meant to
// break its profiles: it is what a server must refuse.
const RefusedFixtureMarker = "invalid"

var placeholder = regexp.MustCompile(`\{\{([A-Za-z][A-Za-z0-9_]*)\}\}`)

// FillPlaceholders replaces each {{name}} of a fixture with a sample value of
// the right shape, keeping every line where it was: an instant for now,
// admitted and discharged, a valid test NHS Number for nhs and nhsNumber, a
// UUID derived from the name for anything else.
func FillPlaceholders(data []byte) []byte {
	return placeholder.ReplaceAllFunc(data, func(m []byte) []byte {
		name := string(placeholder.FindSubmatch(m)[1])
		switch name {
		case "now", "admitted", "discharged":
			return []byte("2026-01-01T10:00:00Z")
		case "nhs", "nhsNumber":
			return []byte("9434765919")
		}
		sum := sha256.Sum256([]byte(name))
		x := hex.EncodeToString(sum[:])
		return []byte(x[0:8] + "-" + x[8:12] + "-4" + x[13:16] + "-8" + x[17:20] + "-" + x[20:32])
	})
}

// ValidateFixtures validates every fixture of the pack, placeholders filled,
// with v: a fixture must have no error or fatal issue, except one whose name
// contains RefusedFixtureMarker, which must have one. The first problem comes
// back as a *LoadError naming the file and line.
func (p *Pack) ValidateFixtures(ctx context.Context, fsys fs.FS, v conformance.Validator) error {
	for _, f := range p.Fixtures {
		name := path.Join(p.Dir, f)
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("read fixture %s: %w", name, err)
		}
		out, err := v.Validate(ctx, FillPlaceholders(raw))
		if err != nil {
			return fmt.Errorf("validate fixture %s: %w", name, err)
		}
		refused := strings.Contains(path.Base(f), RefusedFixtureMarker)
		if refused {
			if !out.HasErrors() {
				return loadErr(name, 0, "the fixture is named %q to be refused, but it is valid FHIR for its profiles", RefusedFixtureMarker)
			}
			continue
		}
		for _, is := range out.Issues {
			if is.Severity == conformance.SeverityError || is.Severity == conformance.SeverityFatal {
				return loadErr(name, is.Line, "not valid FHIR: %s: %s", is.Expression, is.Message)
			}
		}
	}
	return nil
}
