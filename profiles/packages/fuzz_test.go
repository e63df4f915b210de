package packages

import (
	"archive/tar"
	"bytes"
	"testing"
)

func FuzzOpenTarball(f *testing.F) {
	manifest := tarEntry{name: "package/package.json", body: testManifest}
	f.Add(buildTarball(f, manifest, tarEntry{name: "package/Patient-a.json", body: `{"resourceType":"Patient","id":"a"}`}))
	f.Add(buildTarball(f, manifest, tarEntry{name: "package/.index.json", body: `{"index-version":1,"files":[{"filename":"Patient-a.json","resourceType":"Patient"}]}`}, tarEntry{name: "package/Patient-a.json", body: `{}`}))
	f.Add(buildTarball(f, manifest, tarEntry{name: "package/../x", body: "x"}))
	f.Add(buildTarball(f, manifest, tarEntry{name: "package/l", typeflag: tar.TypeSymlink, linkname: "/"}))
	f.Add(buildTarball(f, tarEntry{name: "package.json", body: `{"name":"a","version":"1"}`}, tarEntry{name: "x.xml", body: `<Patient xmlns="http://hl7.org/fhir"/>`}))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := OpenTarball(bytes.NewReader(data), "fuzz.tgz")
		if err != nil {
			if p != nil {
				t.Fatal("package returned with an error")
			}
			return
		}
		if !ValidName(p.Name) || !ValidVersion(p.Version) {
			t.Fatalf("accepted identity %q", p.ID())
		}
		s := NewSet(p)
		for _, r := range p.Resources {
			_, _ = r.JSON()
			if r.URL != "" {
				if _, ok := s.Resolve(r.URL); !ok {
					t.Fatalf("%s not resolvable", r.URL)
				}
			}
		}
	})
}

func FuzzOpenFolderFiles(f *testing.F) {
	f.Add(testManifest, `{"resourceType":"Patient","id":"a"}`, `<Patient xmlns="http://hl7.org/fhir"><id value="a"/></Patient>`)
	f.Add(`{"name":"a","version":"1"}`, `[]`, `<x/>`)
	f.Add(`{"name":"a","version":"1","dependencies":{"b":1}}`, `{"resourceType":7}`, `<?xml version="1.1"?><Patient xmlns="http://hl7.org/fhir"/>`)
	f.Fuzz(func(t *testing.T, manifest, jsonFile, xmlFile string) {
		dir := writeFiles(t, t.TempDir(), map[string]string{"package.json": manifest, "a/r.json": jsonFile, "b/r.xml": xmlFile})
		p, err := Open(dir)
		if err != nil {
			if p != nil {
				t.Fatal("package returned with an error")
			}
			return
		}
		for _, r := range p.Resources {
			if r.ResourceType == "" {
				t.Fatalf("%s indexed without a resourceType", r.File)
			}
		}
	})
}

func FuzzPeekJSON(f *testing.F) {
	f.Add([]byte(`{"resourceType":"StructureDefinition","url":"http://x","version":"1","kind":"resource","type":"Patient","derivation":"constraint"}`))
	f.Add([]byte(`{"resourceType":"Patient","name":[{"family":"x"}],"type":{"a":1}}`))
	f.Add([]byte(`[1]`))
	f.Add([]byte("\ufeff{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := PeekJSON(data)
		if err != nil {
			return
		}
		if s.ResourceType == "" {
			t.Fatal("summary without resourceType")
		}
		m, derr := DecodeJSON(data)
		if derr != nil {
			t.Fatalf("peek accepted what decode refuses: %v", derr)
		}
		if m["resourceType"] != s.ResourceType {
			t.Fatalf("peek read resourceType %q, decode %v", s.ResourceType, m["resourceType"])
		}
	})
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(testManifest))
	f.Add([]byte(`{"name":"a","version":"1","fhirVersions":"4.0.1"}`))
	f.Add([]byte(`{"name":"a#b","version":"1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		if !ValidName(m.Name) || !ValidVersion(m.Version) {
			t.Fatalf("accepted identity %s#%s", m.Name, m.Version)
		}
		for name := range m.Dependencies {
			if !ValidName(name) {
				t.Fatalf("accepted dependency %q", name)
			}
		}
	})
}

func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(`{"index-version":1,"files":[{"filename":"a.json","resourceType":"Patient","type":true}]}`))
	f.Add([]byte(`{"files":[{"filename":"../a.json","resourceType":"Patient"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := ParseIndex(data)
		if err != nil {
			return
		}
		for _, e := range idx.Files {
			if !plainFileName(e.Filename) {
				t.Fatalf("accepted filename %q", e.Filename)
			}
		}
	})
}
