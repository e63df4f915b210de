package validate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/fhirxml"
	fhirmodel "github.com/nhsconform/conform/profiles/model"
	"github.com/nhsconform/conform/profiles/packages"
)

func ukCoreValidator(t testing.TB) (*Validator, *packages.Set) {
	t.Helper()
	var pkgs []*packages.Package
	for _, f := range []string{"fhir/packages/hl7.fhir.r4.core-4.0.1.tgz", "fhir/packages/hl7.terminology.r4-7.0.1.tgz", "fhir/sources/uk-core"} {
		p, err := packages.Open(conformancetest.Shared(t, f))
		require.NoError(t, err)
		pkgs = append(pkgs, p)
	}
	set := packages.NewSet(pkgs...)
	set.SetXMLDecoder(fhirxml.NewDecoder(fhirmodel.New(set.ResolveJSON)))
	v, err := FromPackages(set, Options{})
	require.NoError(t, err)
	return v, set
}

const ukCoreSD = "https://fhir.hl7.org.uk/StructureDefinition/"

// profileForExample names the profile a UK Core example's file name names,
// the longest UK Core profile name it starts with
// (UKCore-Patient-RichardSmith-Example -> UKCore-Patient), else UKCore- and
// the resource type. Extension examples exercise their extension through its
// URL and need no extra profile.
func profileForExample(set *packages.Set, file, resourceType string) string {
	if !strings.HasPrefix(file, "UKCore-") {
		return ""
	}
	best := ""
	for _, r := range set.ByType("StructureDefinition") {
		name := strings.TrimPrefix(r.URL, ukCoreSD)
		if name == r.URL || r.Type != resourceType {
			continue
		}
		if strings.HasPrefix(file, name+"-") && len(name) > len(best) {
			best = name
		}
	}
	if best == "" {
		best = "UKCore-" + resourceType
	}
	return ukCoreSD + best
}

// TestUKCoreExamples validates every UK Core example against the profile
// its file name names: no error except NHS Number check-digit findings and
// the documented list (testdata/ukcore-examples-errors.json, reasons in
// docs/VALIDATION.md).
func TestUKCoreExamples(t *testing.T) {
	v, set := ukCoreValidator(t)
	dir := conformancetest.Shared(t, "fhir/sources/uk-core/examples")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	docs := map[string][]byte{}
	profileOf := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".xml") || strings.HasSuffix(e.Name(), ".json")) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		summary, err := packages.PeekXML(data)
		if strings.HasSuffix(e.Name(), ".json") {
			summary, err = packages.PeekJSON(data)
		}
		require.NoError(t, err, e.Name())
		if p := profileForExample(set, e.Name(), summary.ResourceType); p != "" {
			_, ok := set.ResolveJSON(p)
			require.True(t, ok, "profile %s of %s is not in UK Core", p, e.Name())
			profileOf[e.Name()] = p
		}
		docs[e.Name()] = data
	}
	require.Greater(t, len(docs), 200)
	got := errorsByFile(t, v, docs, func(name string) []string {
		if p := profileOf[name]; p != "" {
			return []string{p}
		}
		return nil
	})
	for file, errs := range got {
		kept := errs[:0]
		for _, e := range errs {
			if e.id != "nhs-number-invalid" {
				kept = append(kept, e)
			}
		}
		if len(kept) == 0 {
			delete(got, file)
		} else {
			got[file] = kept
		}
	}
	compareGolden(t, "ukcore-examples-errors.json", "Errors in the UK Core examples (besides NHS Number check digits)", got)
}

// TestFailedInvariantReportedOnce validates a Patient without narrative
// against UKCore-Patient: the base definition and the profile both carry
// dom-6, which is reported once, as defined in DomainResource.
func TestFailedInvariantReportedOnce(t *testing.T) {
	v, _ := ukCoreValidator(t)
	doc := []byte(`{"resourceType": "Patient", "id": "p1", "gender": "female"}`)
	out, err := v.Validate(context.Background(), doc, ukCoreSD+"UKCore-Patient")
	require.NoError(t, err)
	var dom6 []conformance.Issue
	for _, is := range out.Issues {
		if is.MessageID == "constraint-dom-6" {
			dom6 = append(dom6, is)
		}
	}
	require.Len(t, dom6, 1, "%v", out.Issues)
	assert.Contains(t, dom6[0].Message, "(defined in http://hl7.org/fhir/StructureDefinition/DomainResource)")
	assert.Equal(t, conformance.SeverityWarning, dom6[0].Severity)
}

// TestMustSupportCoverage validates Patients against UKCore-Patient: the
// coverage of its Must Support elements is reported as information and
// grows with the elements populated.
func TestMustSupportCoverage(t *testing.T) {
	v, _ := ukCoreValidator(t)
	coverage := func(doc string) (int, int, string) {
		out, err := v.Validate(context.Background(), []byte(doc), ukCoreSD+"UKCore-Patient")
		require.NoError(t, err)
		for _, is := range out.Issues {
			if is.MessageID == "must-support-coverage" {
				assert.Equal(t, conformance.SeverityInformation, is.Severity)
				var present, total int
				_, err := fmt.Sscanf(is.Message[strings.Index(is.Message, ": ")+2:], "%d of %d", &present, &total)
				require.NoError(t, err, is.Message)
				return present, total, is.Message
			}
		}
		t.Fatalf("no coverage issue in %v", out.Issues)
		return 0, 0, ""
	}
	p1, total, msg := coverage(`{"resourceType": "Patient", "gender": "female"}`)
	assert.Greater(t, total, 5, msg)
	assert.Contains(t, msg, "not present: ")
	assert.Contains(t, msg, "Patient.birthDate")
	p2, total2, msg2 := coverage(`{"resourceType": "Patient", "gender": "female", "birthDate": "1970-01-01", "name": [{"family": "Smith"}]}`)
	assert.Equal(t, total, total2)
	assert.Greater(t, p2, p1, msg2)
	assert.NotContains(t, msg2, "Patient.birthDate")

	out, err := v.Validate(context.Background(), []byte(`{"resourceType": "Patient", "gender": "female"}`))
	require.NoError(t, err)
	for _, is := range out.Issues {
		assert.NotEqual(t, "must-support-coverage", is.MessageID, "no coverage against the base definition")
	}
}
