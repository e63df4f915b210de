package fhirxml_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/fhirxml"
	"github.com/nhsconform/conform/profiles/model/modeltest"
)

var benchExamples = []string{"Patient-example.json", "Observation-example.json", "Bundle-bundle-transaction.json", "Questionnaire-qs1.json", "StructureDefinition-Patient.json"}

func loadBenchExamples(b *testing.B) ([]map[string]any, [][]byte, *fhirxml.Encoder, *fhirxml.Decoder) {
	m, err := modeltest.LoadCore()
	require.NoError(b, err)
	dir, err := conformancetest.FindShared()
	require.NoError(b, err)
	files, err := modeltest.ReadPackage(dir+"/"+examplesPackage, "")
	require.NoError(b, err)
	enc, dec := fhirxml.NewEncoder(m), fhirxml.NewDecoder(m)
	var res []map[string]any
	var xmls [][]byte
	for _, name := range benchExamples {
		data, ok := files[name]
		require.True(b, ok, name)
		r := decodeJSON(b, data)
		x, err := enc.Encode(r)
		require.NoError(b, err)
		_, err = dec.Decode(x)
		require.NoError(b, err)
		res = append(res, r)
		xmls = append(xmls, x)
	}
	return res, xmls, enc, dec
}

func BenchmarkDecode(b *testing.B) {
	_, xmls, _, dec := loadBenchExamples(b)
	benchEach(b, xmls, xmls, func(x []byte) error {
		_, err := dec.Decode(x)
		return err
	})
}

func BenchmarkEncode(b *testing.B) {
	res, xmls, enc, _ := loadBenchExamples(b)
	benchEach(b, xmls, res, func(r map[string]any) error {
		_, err := enc.Encode(r)
		return err
	})
}

func BenchmarkPeek(b *testing.B) {
	_, xmls, _, _ := loadBenchExamples(b)
	benchEach(b, xmls, xmls, func(x []byte) error {
		_, err := fhirxml.Peek(x)
		return err
	})
}

// benchEach times op over every input per iteration, reporting throughput
// as the size of the examples' XML.
func benchEach[T any](b *testing.B, xmls [][]byte, inputs []T, op func(T) error) {
	size := 0
	for _, x := range xmls {
		size += len(x)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	defer reportCPU(b, size)()
	for b.Loop() {
		for _, in := range inputs {
			if err := op(in); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// reportCPU reports the process CPU time per operation and the throughput
// over CPU time, the figures least disturbed by other work on the machine;
// call the function it returns when the loop ends.
func reportCPU(b *testing.B, size int) func() {
	cpu0 := conformancetest.ProcessCPU()
	return func() {
		cpu1 := conformancetest.ProcessCPU()
		if cpu0 == 0 || b.N == 0 {
			return
		}
		perOp := float64(cpu1-cpu0) / float64(b.N)
		b.ReportMetric(perOp/float64(time.Millisecond), "cpu-ms/op")
		b.ReportMetric(float64(size)/(perOp/float64(time.Second))/1e6, "cpu-MB/s")
	}
}

// BenchmarkDecodeUKCoreSources reads every XML resource of the UK Core
// development build sources, as loading that IG source folder does.
func BenchmarkDecodeUKCoreSources(b *testing.B) {
	m, err := modeltest.LoadCore()
	require.NoError(b, err)
	dir, err := conformancetest.FindShared()
	require.NoError(b, err)
	paths, err := filepath.Glob(filepath.Join(dir, "fhir", "sources", "uk-core", "*", "*.xml"))
	require.NoError(b, err)
	require.NotEmpty(b, paths)
	var files [][]byte
	size := 0
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(b, err)
		files = append(files, data)
		size += len(data)
	}
	dec := fhirxml.NewDecoder(m)
	for _, data := range files {
		_, err := dec.Decode(data)
		require.NoError(b, err)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	report := reportCPU(b, size)
	for b.Loop() {
		for _, data := range files {
			if _, err := dec.Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	}
	report()
	b.ReportMetric(float64(len(files)), "files/op")
}
