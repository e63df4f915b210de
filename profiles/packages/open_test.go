package packages

import (
	"archive/tar"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance/conformancetest"
)

func TestOpenShared(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		wantID    string
		wantCount int
		wantTypes map[string]int
		wantDeps  map[string]string
	}{
		{
			name:      "core tarball with index",
			src:       "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz",
			wantID:    "hl7.fhir.r4.core#4.0.1",
			wantCount: 4580,
			wantTypes: map[string]int{"StructureDefinition": 655, "ValueSet": 1316, "CodeSystem": 1062, "SearchParameter": 1400},
		},
		{
			name:      "terminology tarball",
			src:       "fhir/packages/hl7.terminology.r4-7.0.1.tgz",
			wantID:    "hl7.terminology.r4#7.0.1",
			wantCount: 4096,
			wantTypes: map[string]int{"CodeSystem": 897, "ValueSet": 2499},
			wantDeps:  map[string]string{"hl7.fhir.r4.core": "4.0.1", "hl7.fhir.uv.extensions.r4": "5.2.0"},
		},
		{
			name:      "UK Core source folder of XML",
			src:       "fhir/sources/uk-core",
			wantID:    "fhir.r4.ukcore.stu3.currentbuild#0.0.0-main.55dd5f7",
			wantCount: 594,
			wantTypes: map[string]int{"StructureDefinition": 153, "ValueSet": 134, "CodeSystem": 88, "Patient": 24},
			wantDeps:  map[string]string{"hl7.fhir.r4.core": "4.0.1", "hl7.fhir.r5.core": "5.0.0"},
		},
		{
			name:     "UK Core 2.0.2 source folder",
			src:      "fhir/sources/uk-core-2.0.2",
			wantID:   "fhir.r4.ukcore.stu2#2.0.2",
			wantDeps: map[string]string{"hl7.fhir.r4.core": "4.0.1"},
		},
		{
			name:     "BaRS source folder with JSON and XML",
			src:      "fhir/sources/bars",
			wantID:   "uk.nhsdigital.bars.r4#1.20.0-alpha",
			wantDeps: map[string]string{"uk.nhsdigital.r4": "2.5.0", "fhir.r4.ukcore.stu1": "0.5.1", "hl7.fhir.r4.core": "4.0.1"},
		},
		{
			name:      "single XML resource file",
			src:       "fhir/sources/nhs-england/CodeSystem-England-HTTPErrorCodes.xml",
			wantID:    "CodeSystem-England-HTTPErrorCodes.xml#local",
			wantCount: 1,
			wantTypes: map[string]int{"CodeSystem": 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p *Package
			if strings.Contains(tc.src, "r4.core") {
				p = sharedCore(t)
			} else {
				var err error
				p, err = Open(conformancetest.Shared(t, tc.src))
				require.NoError(t, err)
			}
			assert.Equal(t, tc.wantID, p.ID())
			if tc.wantCount != 0 {
				assert.Len(t, p.Resources, tc.wantCount)
			}
			counts := map[string]int{}
			for _, r := range p.Resources {
				counts[r.ResourceType]++
				assert.Same(t, p, r.Package)
				assert.NotEmpty(t, r.File)
			}
			for typ, n := range tc.wantTypes {
				assert.Equal(t, n, counts[typ], typ)
			}
			if tc.wantDeps != nil {
				assert.Equal(t, tc.wantDeps, p.Dependencies)
			}
		})
	}
}

func TestOpenIndexesXMLIdentity(t *testing.T) {
	p, err := Open(conformancetest.Shared(t, "fhir/sources/uk-core"))
	require.NoError(t, err)
	var found *Resource
	for _, r := range p.Resources {
		if r.URL == "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient" {
			found = r
		}
	}
	require.NotNil(t, found)
	assert.Equal(t, "StructureDefinition", found.ResourceType)
	assert.Equal(t, "UKCore-Patient", found.ID)
	assert.Equal(t, "resource", found.Kind)
	assert.Equal(t, "Patient", found.Type)
	assert.Equal(t, "constraint", found.Derivation)
	assert.Equal(t, FormatXML, found.Format)
	assert.Equal(t, "structuredefinitions/UKCore-Patient.xml", found.File)
}

func TestOpenBadInput(t *testing.T) {
	manifest := tarEntry{name: "package/package.json", body: testManifest}
	patient := tarEntry{name: "package/Patient-a.json", body: `{"resourceType":"Patient","id":"a"}`}
	tests := []struct {
		name      string
		tarball   []tarEntry
		files     map[string]string
		raw       []byte
		wantErrIs error
		wantAs    any
		wantMsg   []string
	}{
		{name: "dot-dot entry", tarball: []tarEntry{manifest, {name: "package/../../evil.json", body: "{}"}}, wantAs: new(*UnsafeEntryError), wantMsg: []string{"package/../../evil.json", "contains .."}},
		{name: "absolute entry", tarball: []tarEntry{manifest, {name: "/etc/evil.json", body: "{}"}}, wantAs: new(*UnsafeEntryError), wantMsg: []string{"/etc/evil.json", "absolute path"}},
		{name: "symlink entry", tarball: []tarEntry{manifest, {name: "package/link.json", typeflag: tar.TypeSymlink, linkname: "/etc/passwd"}}, wantAs: new(*UnsafeEntryError), wantMsg: []string{"package/link.json", "symbolic link"}},
		{name: "hard link entry", tarball: []tarEntry{manifest, {name: "package/hard.json", typeflag: tar.TypeLink, linkname: "package/package.json"}}, wantAs: new(*UnsafeEntryError), wantMsg: []string{"package/hard.json", "hard link"}},
		{name: "character device entry", tarball: []tarEntry{manifest, {name: "package/null", typeflag: tar.TypeChar}}, wantAs: new(*UnsafeEntryError), wantMsg: []string{"package/null", "device"}},
		{name: "block device entry", tarball: []tarEntry{manifest, {name: "package/sda", typeflag: tar.TypeBlock}}, wantAs: new(*UnsafeEntryError), wantMsg: []string{"package/sda", "device"}},
		{name: "fifo entry", tarball: []tarEntry{manifest, {name: "package/pipe", typeflag: tar.TypeFifo}}, wantAs: new(*UnsafeEntryError), wantMsg: []string{"package/pipe", "named pipe"}},
		{name: "duplicate entry", tarball: []tarEntry{manifest, patient, patient}, wantAs: new(*UnsafeEntryError), wantMsg: []string{"package/Patient-a.json", "duplicate entry"}},
		{name: "tarball without package.json", tarball: []tarEntry{patient}, wantErrIs: ErrNoManifest, wantMsg: []string{"no package.json"}},
		{name: "malformed package.json", tarball: []tarEntry{{name: "package/package.json", body: `{"name": "x",`}, patient}, wantMsg: []string{"package/package.json", "malformed package.json"}},
		{name: "package.json without version", tarball: []tarEntry{{name: "package/package.json", body: `{"name": "x"}`}, patient}, wantMsg: []string{"package/package.json", "no version"}},
		{name: "package name with a path", tarball: []tarEntry{{name: "package/package.json", body: `{"name": "../x", "version": "1"}`}}, wantMsg: []string{"not a valid package name"}},
		{name: "malformed resource json", tarball: []tarEntry{manifest, {name: "package/Patient-bad.json", body: `{"resourceType": "Patient", "id": }`}}, wantMsg: []string{"package/Patient-bad.json", "malformed json"}},
		{name: "index naming a path", tarball: []tarEntry{manifest, {name: "package/.index.json", body: `{"index-version":1,"files":[{"filename":"../x.json","resourceType":"Patient"}]}`}}, wantMsg: []string{".index.json", "../x.json"}},
		{name: "file over the size limit", tarball: []tarEntry{manifest, {name: "package/huge.json", size: MaxFileSize + 1}}, wantAs: new(*TooLargeError), wantMsg: []string{"package/huge.json", "too large"}},
		{name: "not gzip", raw: []byte("\x1f\x8bnot really gzip"), wantMsg: []string{"read tarball"}},
		{name: "truncated tarball", raw: buildTarball(t, manifest, patient)[:60], wantMsg: []string{"read tarball"}},
		{name: "folder without package.json", files: map[string]string{"Patient-a.json": `{"resourceType":"Patient"}`}, wantErrIs: ErrNoManifest},
		{name: "source folder with malformed json", files: map[string]string{"package.json": testManifest, "sub/Patient-bad.json": `{"resourceType":`}, wantMsg: []string{"Patient-bad.json", "malformed json"}},
		{name: "source folder with malformed xml", files: map[string]string{"package.json": testManifest, "x/Patient-bad.xml": `<Patient xmlns="http://hl7.org/fhir"><id value="a"></Patient>`}, wantMsg: []string{"Patient-bad.xml", "malformed xml"}},
		{name: "source folder with DOCTYPE", files: map[string]string{"package.json": testManifest, "Patient-e.xml": `<!DOCTYPE x [<!ENTITY e "e">]><Patient xmlns="http://hl7.org/fhir"/>`}, wantMsg: []string{"Patient-e.xml", "not allowed"}},
		{name: "source folder with malformed package.json", files: map[string]string{"package.json": `[1,2]`}, wantMsg: []string{"package.json", "malformed package.json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "input.tgz")
			switch {
			case tc.files != nil:
				src = writeFiles(t, filepath.Join(dir, "src"), tc.files)
			case tc.raw != nil:
				writeFile(t, src, tc.raw)
			default:
				writeFile(t, src, buildTarball(t, tc.tarball...))
			}
			p, err := Open(src)
			require.Error(t, err)
			assert.Nil(t, p)
			assert.Contains(t, err.Error(), src, "the error names the source")
			for _, m := range tc.wantMsg {
				assert.Contains(t, err.Error(), m)
			}
			if tc.wantErrIs != nil {
				assert.ErrorIs(t, err, tc.wantErrIs)
			}
			if tc.wantAs != nil {
				assert.ErrorAs(t, err, tc.wantAs)
			}
			entries, rerr := os.ReadDir(dir)
			require.NoError(t, rerr)
			assert.LessOrEqual(t, len(entries), 1, "nothing written beside the input")
		})
	}
}

func TestOpenSkipsNonResources(t *testing.T) {
	dir := writeFiles(t, t.TempDir(), map[string]string{
		"package.json":       testManifest,
		"fhirpkg.lock.json":  `{"dependencies": {}}`,
		"notes/config.json":  `{"not": "a resource"}`,
		"notes/list.json":    `[1, 2]`,
		"notes/other.xml":    `<html xmlns="http://www.w3.org/1999/xhtml"/>`,
		"notes/readme.txt":   "text",
		".git/HEAD.json":     `{broken`,
		"res/Patient-a.json": `{"resourceType":"Patient","id":"a"}`,
	})
	p, err := Open(dir)
	require.NoError(t, err)
	require.Len(t, p.Resources, 1)
	assert.Equal(t, "res/Patient-a.json", p.Resources[0].File)
	var skipped []string
	for _, w := range p.Warnings {
		assert.Equal(t, WarnSkippedFile, w.Kind)
		skipped = append(skipped, w.Subject)
	}
	assert.ElementsMatch(t, []string{"notes/config.json", "notes/list.json", "notes/other.xml"}, skipped)
}

func TestOpenPackageFolderLayouts(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		wantFile []string
	}{
		{
			name: "npm layout with package sub-folder, flat",
			files: map[string]string{
				"package/package.json":       testManifest,
				"package/Patient-a.json":     `{"resourceType":"Patient","id":"a"}`,
				"package/example/Pat-b.json": `{"resourceType":"Patient","id":"b"}`,
				"package/other/x.json":       `{"resourceType":"Patient","id":"x"}`,
			},
			wantFile: []string{"Patient-a.json"},
		},
		{
			name: "package.json with .index.json at the top uses the index",
			files: map[string]string{
				"package.json":   testManifest,
				".index.json":    `{"index-version":1,"files":[{"filename":"Patient-a.json","resourceType":"Patient","id":"a","type":{"weird":true}}]}`,
				"Patient-a.json": `{"resourceType":"Patient","id":"a"}`,
				"Patient-b.json": `{"resourceType":"Patient","id":"b"}`,
			},
			wantFile: []string{"Patient-a.json"},
		},
		{
			name: "package.json alone: a source folder, walked recursively",
			files: map[string]string{
				"package.json":     testManifest,
				"a/Patient-a.json": `{"resourceType":"Patient","id":"a"}`,
				"b/c/Patient.xml":  `<Patient xmlns="http://hl7.org/fhir"><id value="b"/></Patient>`,
			},
			wantFile: []string{"a/Patient-a.json", "b/c/Patient.xml"},
		},
		{
			name: "IG Publisher project: output, temp, template and input-cache skipped",
			files: map[string]string{
				"package.json":                   testManifest,
				"ig.ini":                         "[IG]\n",
				"input/resources/Patient-a.json": `{"resourceType":"Patient","id":"a"}`,
				"output/Patient-a.json":          `{"resourceType":"Patient","id":"a"}`,
				"temp/pages/Patient-a.json":      `{"resourceType":"Patient","id":"a"}`,
				"template/x.json":                `{"resourceType":"Basic"}`,
				"input-cache/p/Basic.json":       `{"resourceType":"Basic"}`,
				"input/output/Patient-b.json":    `{"resourceType":"Patient","id":"b"}`,
			},
			wantFile: []string{"input/output/Patient-b.json", "input/resources/Patient-a.json"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Open(writeFiles(t, t.TempDir(), tc.files))
			require.NoError(t, err)
			var files []string
			for _, r := range p.Resources {
				files = append(files, r.File)
				data, err := r.Bytes()
				require.NoError(t, err)
				assert.NotEmpty(t, data)
			}
			assert.Equal(t, tc.wantFile, files)
		})
	}
}

func TestResourceJSON(t *testing.T) {
	core := sharedCore(t)
	s := NewSet(core)
	r, ok := s.Resolve("http://hl7.org/fhir/StructureDefinition/Patient")
	require.True(t, ok)
	results := make(chan map[string]any, 8)
	for range 8 {
		go func() {
			m, err := r.JSON()
			if err != nil {
				results <- nil
				return
			}
			results <- m
		}()
	}
	first := <-results
	require.NotNil(t, first)
	for range 7 {
		m := <-results
		require.NotNil(t, m)
		assert.Equal(t, first["id"], m["id"])
	}
	assert.Equal(t, "Patient", first["id"])
	assert.IsType(t, map[string]any{}, first["snapshot"])
}

func TestResourceJSONErrors(t *testing.T) {
	dir := writeFiles(t, t.TempDir(), map[string]string{
		"package.json":   testManifest,
		".index.json":    `{"index-version":1,"files":[{"filename":"Patient-a.json","resourceType":"Patient"},{"filename":"Gone.json","resourceType":"Patient"},{"filename":"Obs.json","resourceType":"Patient"}]}`,
		"Patient-a.json": `{"resourceType":"Patient", "id": 1.50}x`,
		"Obs.json":       `{"resourceType":"Observation"}`,
	})
	p, err := Open(dir)
	require.NoError(t, err)
	require.Len(t, p.Resources, 3)
	for _, tc := range []struct {
		res  *Resource
		want string
	}{
		{res: p.Resources[0], want: "data after the object"},
		{res: p.Resources[1], want: "Gone.json"},
		{res: p.Resources[2], want: `index says "Patient"`},
	} {
		_, err := tc.res.JSON()
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
		_, again := tc.res.JSON()
		assert.Equal(t, err, again, "the error is cached")
	}
}

func TestXMLResourceJSONNeedsCore(t *testing.T) {
	uk, err := Open(conformancetest.Shared(t, "fhir/sources/uk-core"))
	require.NoError(t, err)
	alone := NewSet(uk)
	r, ok := alone.Resolve("https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient")
	require.True(t, ok)
	_, err = r.JSON()
	assert.True(t, errors.Is(err, ErrNoXMLDecoder), "%v", err)
	assert.Contains(t, err.Error(), "structuredefinitions/UKCore-Patient.xml")
}

func TestXMLResourceJSONConverted(t *testing.T) {
	uk, err := Open(conformancetest.Shared(t, "fhir/sources/uk-core"))
	require.NoError(t, err)
	s := NewSet(sharedCore(t), uk)
	r, ok := s.Resolve("https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient")
	require.True(t, ok)
	m, err := r.JSON()
	require.NoError(t, err)
	assert.Equal(t, "StructureDefinition", m["resourceType"])
	assert.Equal(t, "http://hl7.org/fhir/StructureDefinition/Patient", m["baseDefinition"])
	diff, ok := m["differential"].(map[string]any)
	require.True(t, ok)
	elems, ok := diff["element"].([]any)
	require.True(t, ok)
	assert.NotEmpty(t, elems)
}

func TestOpenTarballLayouts(t *testing.T) {
	tests := []struct {
		name      string
		entries   []tarEntry
		wantFiles []string
		wantWarn  []string
	}{
		{
			name: "dot-slash prefix and folder entries",
			entries: []tarEntry{
				{name: "./package/", typeflag: tar.TypeDir},
				{name: "./package/package.json", body: testManifest},
				{name: "./package/Patient-a.json", body: `{"resourceType":"Patient","id":"a"}`},
				{name: "./package/example/Patient-b.json", body: `{"resourceType":"Patient","id":"b"}`},
			},
			wantFiles: []string{"Patient-a.json"},
		},
		{
			name: "no package folder",
			entries: []tarEntry{
				{name: "package.json", body: testManifest},
				{name: "Patient-a.xml", body: `<Patient xmlns="http://hl7.org/fhir"><id value="a"/></Patient>`},
				{name: "notes.json", body: `{"a": 1}`},
			},
			wantFiles: []string{"Patient-a.xml"},
			wantWarn:  []string{"notes.json"},
		},
		{
			name: "index listing a file the tarball lacks",
			entries: []tarEntry{
				{name: "package/package.json", body: testManifest},
				{name: "package/.index.json", body: `{"index-version":1,"files":[{"filename":"Patient-a.json","resourceType":"Patient"},{"filename":"Patient-a.json","resourceType":"Patient"},{"filename":"Gone.json","resourceType":"Patient"}]}`},
				{name: "package/Patient-a.json", body: `{"resourceType":"Patient","id":"a"}`},
			},
			wantFiles: []string{"Patient-a.json"},
			wantWarn:  []string{"Gone.json"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := writeFile(t, filepath.Join(t.TempDir(), "p.tgz"), buildTarball(t, tc.entries...))
			p, err := Open(src)
			require.NoError(t, err)
			var files, warned []string
			for _, r := range p.Resources {
				files = append(files, r.File)
				_, err := r.JSON()
				if r.Format == FormatJSON {
					assert.NoError(t, err)
				}
			}
			for _, w := range p.Warnings {
				warned = append(warned, w.Subject)
			}
			assert.Equal(t, tc.wantFiles, files)
			assert.Equal(t, tc.wantWarn, warned)
		})
	}
}

func TestOpenFolderFileOverLimit(t *testing.T) {
	dir := writeFiles(t, t.TempDir(), map[string]string{"package.json": testManifest})
	huge := filepath.Join(dir, "big", "Patient-huge.json")
	require.NoError(t, os.MkdirAll(filepath.Dir(huge), 0o755))
	f, err := os.Create(huge)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(MaxFileSize+1))
	require.NoError(t, f.Close())
	for _, src := range []string{dir, huge} {
		_, err = Open(src)
		require.Error(t, err)
		var tl *TooLargeError
		assert.ErrorAs(t, err, &tl)
		assert.Contains(t, err.Error(), "Patient-huge.json")
	}
}

func TestXMLResourceJSONConcurrent(t *testing.T) {
	uk, err := Open(conformancetest.Shared(t, "fhir/sources/uk-core-2.0.2"))
	require.NoError(t, err)
	s := NewSet(sharedCore(t), uk)
	sds := s.ByType("StructureDefinition")
	require.NotEmpty(t, sds)
	errs := make(chan error, len(sds))
	for _, r := range sds {
		go func() {
			_, err := r.JSON()
			errs <- err
		}()
	}
	for range sds {
		assert.NoError(t, <-errs)
	}
}

func TestOpenFolderOfLooseResources(t *testing.T) {
	dir := conformancetest.Shared(t, "fhir/sources/nhs-england")
	_, err := Open(dir)
	require.ErrorIs(t, err, ErrNoManifest, "Open wants a package")

	p, err := OpenFolder(dir)
	require.NoError(t, err)
	assert.Equal(t, "nhs-england#local", p.ID())
	types := map[string]int{}
	for _, r := range p.Resources {
		types[r.ResourceType]++
	}
	assert.Equal(t, map[string]int{"CodeSystem": 4, "ValueSet": 1}, types)

	bars, err := OpenFolder(conformancetest.Shared(t, "fhir/sources/bars"))
	require.NoError(t, err)
	assert.Equal(t, "uk.nhsdigital.bars.r4#1.20.0-alpha", bars.ID(), "a folder with package.json is read as a package")

	empty := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(empty, "notes.txt"), []byte("x"), 0o644))
	_, err = OpenFolder(empty)
	require.ErrorContains(t, err, "no package.json and no FHIR resources")

	broken := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(broken, "cs.json"), []byte(`{"resourceType": "CodeSystem",`), 0o644))
	_, err = OpenFolder(broken)
	require.ErrorContains(t, err, "cs.json")
}
