package fhirxml_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/fhirxml"
	"github.com/nhsconform/conform/profiles/model/modeltest"
)

const examplesPackage = "fhir/packages/hl7.fhir.r4.examples-4.0.1.tgz"

func decodeJSON(t testing.TB, data []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v map[string]any
	require.NoError(t, d.Decode(&v))
	return v
}

// TestRoundTripR4Examples converts every R4 example JSON -> XML -> JSON and
// requires the result to equal the original.
func TestRoundTripR4Examples(t *testing.T) {
	m := modeltest.Core(t)
	files, err := modeltest.ReadPackage(conformancetest.Shared(t, examplesPackage), "")
	require.NoError(t, err)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	enc := fhirxml.NewEncoder(m)
	dec := fhirxml.NewDecoder(m)
	var mu sync.Mutex
	var failures []string
	identical := 0
	work := make(chan string)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range work {
				msg := roundTrip(enc, dec, files[name])
				mu.Lock()
				if msg == "" {
					identical++
				} else {
					failures = append(failures, name+": "+msg)
				}
				mu.Unlock()
			}
		}()
	}
	for _, name := range names {
		work <- name
	}
	close(work)
	wg.Wait()
	sort.Strings(failures)
	t.Logf("%d of %d R4 examples identical after JSON -> XML -> JSON", identical, len(names))
	for i, f := range failures {
		if i == 50 {
			t.Errorf("... and %d more", len(failures)-50)
			break
		}
		t.Error(f)
	}
	assert.Equal(t, len(names), identical)
	assert.Greater(t, len(names), 5000)
}

func roundTrip(enc *fhirxml.Encoder, dec *fhirxml.Decoder, data []byte) string {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var orig map[string]any
	if err := d.Decode(&orig); err != nil {
		return "decode json: " + err.Error()
	}
	x, err := enc.Encode(orig)
	if err != nil {
		return "encode xml: " + err.Error()
	}
	back, err := dec.Decode(x)
	if err != nil {
		return "decode xml: " + err.Error()
	}
	if !reflect.DeepEqual(orig, back) {
		return "differs: " + firstDifference(orig, back, "")
	}
	return ""
}

func firstDifference(a, b any, path string) string {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: object vs %T", path, b)
		}
		keys := map[string]bool{}
		for k := range av {
			keys[k] = true
		}
		for k := range bv {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			if d := firstDifference(av[k], bv[k], path+"."+k); d != "" {
				return d
			}
		}
		return ""
	case []any:
		bv, ok := b.([]any)
		if !ok {
			return fmt.Sprintf("%s: array vs %T", path, b)
		}
		if len(av) != len(bv) {
			return fmt.Sprintf("%s: %d vs %d items", path, len(av), len(bv))
		}
		for i := range av {
			if d := firstDifference(av[i], bv[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(a, b) {
		return fmt.Sprintf("%s: %#v vs %#v", path, a, b)
	}
	return ""
}

// TestDecodeIGSources reads every XML resource of the implementation guide
// sources.
func TestDecodeIGSources(t *testing.T) {
	m := modeltest.Core(t)
	dec := fhirxml.NewDecoder(m)
	enc := fhirxml.NewEncoder(m)
	root := conformancetest.Shared(t, "fhir/sources")
	count := 0
	var withIssues []string
	err := filepath.WalkDir(root, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || !strings.HasSuffix(path, ".xml") {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		count++
		res, issues, err := dec.DecodeIssues(data)
		if !assert.NoError(t, err, rel) {
			return nil
		}
		for _, is := range issues {
			withIssues = append(withIssues, filepath.ToSlash(rel)+": "+is.MessageID)
		}
		sum, err := fhirxml.Peek(data)
		assert.NoError(t, err, rel)
		assert.Equal(t, res["resourceType"], sum.ResourceType, rel)
		if id, ok := res["id"].(string); ok {
			assert.Equal(t, id, sum.ID, rel)
		}
		x, err := enc.Encode(res)
		if !assert.NoError(t, err, rel) {
			return nil
		}
		again, err := dec.Decode(x)
		if assert.NoError(t, err, rel) {
			assert.Empty(t, firstDifference(res, again, ""), rel)
		}
		return nil
	})
	require.NoError(t, err)
	t.Logf("%d XML resources read from the IG sources", count)
	assert.Greater(t, count, 1000)
	sort.Strings(withIssues)
	assert.Equal(t, []string{
		"uk-core-2.0.2/examples/UKCore-Composition-Discharge-Example.xml: XML_NO_NAMESPACE",
		"uk-core-2.0.2/examples/UKCore-DiagnosticReport-Extension-DeviceReference-Example.xml: XML_ELEMENT_ORDER",
		"uk-core-2.0.2/examples/UKCore-DiagnosticReport-Extension-DeviceReference-Example.xml: XML_ELEMENT_ORDER",
		"uk-core-2.0.2/examples/UKCore-Extension-PriorityReason-SendingAsText-Example.xml: XML_ELEMENT_ORDER",
		"uk-core-2.0.2/examples/UKCore-Extension-PriorityReason-SendingAsText-Example.xml: XML_ELEMENT_ORDER",
		"uk-core-2.0.2/examples/UKCore-Observation-DrugUse-Example.xml: XML_NO_NAMESPACE",
		"uk-core-2.0.2/examples/UKCore-Observation-Extension-TriggeredBy-Example.xml: XML_NO_NAMESPACE",
		"uk-core-2.0.2/examples/UKCore-Observation-FingerJointInflamed-Example.xml: XML_NO_NAMESPACE",
		"uk-core-2.0.2/examples/UKCore-Observation-Group-FullBloodCount-Example.xml: XML_NO_NAMESPACE",
		"uk-core-2.0.2/examples/UKCore-Observation-Lab-RedCellCount-Example.xml: XML_NO_NAMESPACE",
		"uk-core-2.0.2/examples/UKCore-Observation-Lab-Sn-AbsentData-Example.xml: XML_NO_NAMESPACE",
		"uk-core-2.0.2/examples/UKCore-Observation-Lab-WhiteCellCount-Example.xml: XML_NO_NAMESPACE",
		"uk-core-2.0.2/examples/UKCore-Patient-Extension-PreferredDispenserOrganization-Example.xml: XML_NO_NAMESPACE",
		"uk-core-2.0.2/examples/UKCore-ServiceRequest-Extension-PriorityReason-Example.xml: XML_ELEMENT_ORDER",
		"uk-core-2.0.2/examples/UKCore-ServiceRequest-Extension-PriorityReason-Example.xml: XML_ELEMENT_ORDER",
		"uk-core/codesystems/CodeSystem-UKCore-EthnicCategoryScotland.xml: XML_TEXT_NOT_ALLOWED",
		"uk-core/examples/Extension-UKCore-CodingSCT-IllicitDrugs-Example.xml: XML_ELEMENT_ORDER",
		"uk-core/examples/UKCore-Observation-Lab-Albumin-Example.xml: XML_ELEMENT_ORDER",
		"uk-core/examples/UKCore-Questionnaire-EOLPlan-Example.xml: XML_ELEMENT_ORDER",
	}, withIssues, "source files with problems read past")
}
