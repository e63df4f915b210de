package fhirjson

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/nhsconform/conform/conformance/conformancetest"
)

// clinicalDocs reads the 705 clinical R4 examples.
func clinicalDocs(b *testing.B) [][]byte {
	b.Helper()
	list, err := os.ReadFile(conformancetest.Shared(b, "testsuites/bench/clinical-examples.txt"))
	if err != nil {
		b.Fatal(err)
	}
	want := map[string]bool{}
	for _, l := range strings.Split(string(list), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			want[l] = true
		}
	}
	f, err := os.Open(conformancetest.Shared(b, "fhir/packages/hl7.fhir.r4.examples-4.0.1.tgz"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var docs [][]byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if want[strings.TrimPrefix(h.Name, "package/")] {
			d, err := io.ReadAll(tr)
			if err != nil {
				b.Fatal(err)
			}
			docs = append(docs, d)
		}
	}
	return docs
}

func benchDecode(b *testing.B, decode func([]byte) error) {
	docs := clinicalDocs(b)
	size := 0
	for _, d := range docs {
		size += len(d)
	}
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, d := range docs {
			if err := decode(d); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkDecodeClinical decodes the clinical examples with this package.
func BenchmarkDecodeClinical(b *testing.B) {
	benchDecode(b, func(d []byte) error { _, err := Decode(d); return err })
}

// BenchmarkDecodeClinicalEncodingJSON is the same with encoding/json and
// UseNumber, for comparison.
func BenchmarkDecodeClinicalEncodingJSON(b *testing.B) {
	benchDecode(b, func(d []byte) error {
		dec := json.NewDecoder(bytes.NewReader(d))
		dec.UseNumber()
		var v any
		return dec.Decode(&v)
	})
}

// BenchmarkLocateClinical finds the positions of a few elements of each
// clinical example with one Locator per document, as validation does.
func BenchmarkLocateClinical(b *testing.B) {
	docs := clinicalDocs(b)
	paths := [][]Step{
		{Key("text"), Key("div")},
		{Key("code"), Key("coding"), Index(0), Key("system")},
		{Key("subject"), Key("reference")},
		{Key("id")},
	}
	b.Run("scan", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, d := range docs {
				l := NewLocator(d)
				for _, p := range paths {
					l.Locate(p)
				}
			}
		}
	})
	b.Run("spans", func(b *testing.B) {
		spans := make([]Spans, len(docs))
		for i, d := range docs {
			if _, err := DecodeSpans(d, &spans[i]); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for j, d := range docs {
				l := NewIndexedLocator(d, &spans[j])
				for _, p := range paths {
					l.Locate(p)
				}
			}
		}
	})
}
