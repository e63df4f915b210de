package snapshot

import (
	"fmt"
	"strings"
)

// Closure returns the snapshots a validator needs to judge a resource
// against the profile at url: the profile's own, then, transitively, those of
// every type profile its elements name (extension definitions, data type
// profiles) and of the data types its elements use, each once, in the order
// first needed. A type profile that cannot be resolved is a warning; the
// profile itself must resolve.
func (g *Generator) Closure(url string) ([]map[string]any, []Warning, error) {
	root, warnings, err := g.SnapshotFor(url)
	if err != nil {
		return nil, warnings, err
	}
	seen := map[string]bool{stripVersion(url): true}
	out := []map[string]any{root}
	for i := 0; i < len(out); i++ {
		for _, e := range elementsOf(out[i], "snapshot") {
			for _, t := range types(e) {
				refs := typeProfiles(t)
				if code := str(t, "code"); code != "" && !strings.HasPrefix(code, "http://hl7.org/fhirpath/") {
					if !strings.Contains(code, ":") {
						code = "http://hl7.org/fhir/StructureDefinition/" + code
					}
					refs = append(refs, code)
				}
				for _, ref := range refs {
					key := stripVersion(ref)
					if seen[key] {
						continue
					}
					seen[key] = true
					sd, ws, err := g.SnapshotFor(ref)
					warnings = append(warnings, ws...)
					if err != nil {
						warnings = append(warnings, Warning{Profile: str(out[i], "url"), Path: str(e, "id"), Message: fmt.Sprintf("type %s: %v", ref, err)})
						continue
					}
					out = append(out, sd)
				}
			}
		}
	}
	return out, warnings, nil
}
