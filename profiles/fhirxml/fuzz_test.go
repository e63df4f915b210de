package fhirxml_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/fhirxml"
	"github.com/nhsconform/conform/profiles/model/modeltest"
)

var fuzzSeeds = []string{
	`<Patient xmlns="http://hl7.org/fhir"><id value="p"/><active value="true"/></Patient>`,
	`<Patient xmlns="http://hl7.org/fhir"><name id="n"><given value="A"/><given><extension url="u"><valueCode value="c"/></extension></given></name></Patient>`,
	`<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div></text></Patient>`,
	`<Bundle xmlns="http://hl7.org/fhir"><entry><resource><Patient><contained><Organization/></contained></Patient></resource></entry></Bundle>`,
	`<Observation xmlns="http://hl7.org/fhir"><valueQuantity><value value="1.50"/></valueQuantity><component><referenceRange><low><value value="-0e+1"/></low></referenceRange></component></Observation>`,
	`<?xml version="1.1"?><Patient><id value="p"/>text</Patient>`,
	`<!DOCTYPE x [<!ENTITY a "b">]><Patient xmlns="http://hl7.org/fhir"/>`,
	`<Patient xmlns="http://hl7.org/fhir"><id value="&#xD;&#x9;"/></Patient>`,
}

var fuzzFiles = []string{"uk-core/examples/UKCore-Patient-RichardSmith-Example.xml", "bars/Examples/BOOKREQ01 - Booking Request New Full.xml", "uk-core/examples/UKCore-Bundle-Batch-Example.xml"}

func addSeeds(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	dir, err := conformancetest.FindShared()
	if err != nil {
		return
	}
	for _, name := range fuzzFiles {
		matches, _ := filepath.Glob(filepath.Join(dir, "fhir", "sources", filepath.FromSlash(name)))
		for _, p := range matches {
			if data, err := readFile(p); err == nil {
				f.Add(data)
			}
		}
	}
}

// FuzzDecode checks that the reader never panics and that whatever it reads
// is written back as XML that reads the same.
func FuzzDecode(f *testing.F) {
	addSeeds(f)
	m, err := modeltest.LoadCore()
	if err != nil {
		f.Fatal(err)
	}
	dec, enc := fhirxml.NewDecoder(m), fhirxml.NewEncoder(m)
	f.Fuzz(func(t *testing.T, data []byte) {
		lenient, _, lerr := dec.DecodeIssues(data)
		if lerr == nil {
			x, err := enc.Encode(lenient)
			if err != nil {
				t.Fatalf("encode what was read leniently: %v", err)
			}
			again, err := dec.Decode(x)
			if err != nil {
				t.Fatalf("decode what was encoded from a lenient read: %v\n%s", err, x)
			}
			if !reflect.DeepEqual(lenient, again) {
				t.Fatalf("lenient round trip differs: %s", firstDifference(lenient, again, ""))
			}
		}
		res, err := dec.Decode(data)
		if err != nil {
			return
		}
		if lerr != nil || !reflect.DeepEqual(res, lenient) {
			t.Fatalf("strict read succeeded, lenient read differs: %v", lerr)
		}
		located, pos, err := dec.DecodePositions(data)
		if err != nil || !reflect.DeepEqual(res, located) {
			t.Fatalf("read with positions differs: %v", err)
		}
		if line, col, ok := pos.Locate(nil); !ok || line < 1 || col < 1 {
			t.Fatalf("the resource element is not located: %d:%d %v", line, col, ok)
		}
		x, err := enc.Encode(res)
		if err != nil {
			t.Fatalf("encode what was decoded: %v", err)
		}
		again, err := dec.Decode(x)
		if err != nil {
			t.Fatalf("decode what was encoded: %v\n%s", err, x)
		}
		if !reflect.DeepEqual(res, again) {
			t.Fatalf("round trip differs: %s", firstDifference(res, again, ""))
		}
	})
}

// FuzzPeek checks that Peek never panics and agrees with Decode on the
// resource type.
func FuzzPeek(f *testing.F) {
	addSeeds(f)
	m, err := modeltest.LoadCore()
	if err != nil {
		f.Fatal(err)
	}
	dec := fhirxml.NewDecoder(m)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, perr := fhirxml.Peek(data)
		res, err := dec.Decode(data)
		if err != nil {
			return
		}
		if perr != nil {
			t.Fatalf("peek failed on a resource that decodes: %v", perr)
		}
		if s.ResourceType != res["resourceType"] {
			t.Fatalf("peek says %q, decode says %v", s.ResourceType, res["resourceType"])
		}
	})
}

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }
