package packages

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance/conformancetest"
)

func TestDefaultCache(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{name: "environment wins", env: map[string]string{"CONFORM_FHIR_CACHE": "/c", "HOME": "/h"}, want: "/c"},
		{name: "home", env: map[string]string{"HOME": "/h"}, want: filepath.Join("/h", ".fhir", "packages")},
		{name: "windows profile", env: map[string]string{"USERPROFILE": "/u"}, want: filepath.Join("/u", ".fhir", "packages")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, DefaultCache(func(k string) string { return tc.env[k] }).Dir)
		})
	}
}

func TestParseRef(t *testing.T) {
	tests := []struct {
		ref           string
		name, version string
		wantErr       string
	}{
		{ref: "hl7.fhir.r4.core#4.0.1", name: "hl7.fhir.r4.core", version: "4.0.1"},
		{ref: "uk.nhsdigital.bars.r4#1.20.0-alpha", name: "uk.nhsdigital.bars.r4", version: "1.20.0-alpha"},
		{ref: "hl7.fhir.r4.core", wantErr: "not name#version"},
		{ref: "../x#1", wantErr: "invalid package name"},
		{ref: "x#../1", wantErr: "invalid version"},
		{ref: "x#1/2", wantErr: "invalid version"},
		{ref: "#1", wantErr: "invalid package name"},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			name, version, err := ParseRef(tc.ref)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.name, name)
			assert.Equal(t, tc.version, version)
		})
	}
}

func TestCacheInstalledCore(t *testing.T) {
	c := installedCache(t)
	refs, err := c.List()
	require.NoError(t, err)
	assert.Equal(t, []Ref{{Name: "fhir.r4.ukcore.stu3.currentbuild", Version: "0.0.0-main.55dd5f7"}, {Name: CoreName, Version: CoreVersion}}, refs)

	core, err := c.Open(CoreName, CoreVersion)
	require.NoError(t, err)
	assert.Len(t, core.Resources, 4580)
	s := NewSet(core)
	r, ok := s.Resolve("http://hl7.org/fhir/StructureDefinition/Patient")
	require.True(t, ok)
	assert.Equal(t, "specialization", r.Derivation, "the generated index carries derivation")
	assert.Equal(t, "resource", r.Kind)
	m, err := r.JSON()
	require.NoError(t, err)
	assert.Equal(t, "Patient", m["type"])

	data, err := os.ReadFile(filepath.Join(c.Dir, "hl7.fhir.r4.core#4.0.1", "package", ".index.json"))
	require.NoError(t, err)
	var idx Index
	require.NoError(t, json.Unmarshal(data, &idx))
	assert.Equal(t, 2, idx.IndexVersion)
	assert.Len(t, idx.Files, 4580)
}

func TestCacheInstalledSourceFolderIsJSON(t *testing.T) {
	c := installedCache(t)
	uk, err := c.Open("fhir.r4.ukcore.stu3.currentbuild", "0.0.0-main.55dd5f7")
	require.NoError(t, err)
	assert.Len(t, uk.Resources, 594)
	assert.Equal(t, map[string]string{"hl7.fhir.r4.core": "4.0.1", "hl7.fhir.r5.core": "5.0.0"}, uk.Dependencies)
	for _, r := range uk.Resources {
		assert.Equal(t, FormatJSON, r.Format, r.File)
	}
	s := NewSet(uk)
	r, ok := s.Resolve("https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient")
	require.True(t, ok)
	assert.Equal(t, "StructureDefinition-UKCore-Patient.json", r.File)
	assert.Equal(t, "constraint", r.Derivation)
	m, err := r.JSON()
	require.NoError(t, err, "read without any XML decoder")
	assert.Equal(t, "http://hl7.org/fhir/StructureDefinition/Patient", m["baseDefinition"])
	manifest, err := os.ReadFile(filepath.Join(c.Dir, "fhir.r4.ukcore.stu3.currentbuild#0.0.0-main.55dd5f7", "package", "package.json"))
	require.NoError(t, err)
	assert.Contains(t, string(manifest), "UK Core FHIR profiles and assets", "package.json kept as published")
}

func TestCacheInstall(t *testing.T) {
	src := writeFiles(t, t.TempDir(), map[string]string{
		"package.json":           testManifest,
		"a/Patient-x.json":       `{"resourceType":"Patient","id":"x"}`,
		"b/Patient-x.json":       `{"resourceType":"Patient","id":"x","active":true}`,
		"c/Observation-o.xml":    `<Observation xmlns="http://hl7.org/fhir"><id value="o"/><status value="final"/></Observation>`,
		"d/weird name?.json":     `{"resourceType":"Basic"}`,
		"e/Patient-PATIENT.json": `{"resourceType":"Patient","id":"patient-x"}`,
	})
	p, err := Open(src)
	require.NoError(t, err)
	c := Cache{Dir: filepath.Join(t.TempDir(), "cache")}

	res, err := c.Install(p, InstallOptions{})
	require.NoError(t, err)
	assert.Equal(t, 5, res.Resources)
	assert.Equal(t, 1, res.KeptXML, "no core in the set: XML kept")
	assert.False(t, res.AlreadyInstalled)

	got, err := c.Open("example.test", "1.0.0")
	require.NoError(t, err)
	var files []string
	for _, r := range got.Resources {
		files = append(files, r.File)
	}
	assert.ElementsMatch(t, []string{"Patient-x.json", "Patient-x-2.json", "Observation-o.xml", "Basic-weird_name_.json", "Patient-patient-x.json"}, files)

	again, err := c.Install(p, InstallOptions{})
	require.NoError(t, err)
	assert.True(t, again.AlreadyInstalled)

	p.Resources = p.Resources[:1]
	replaced, err := c.Install(p, InstallOptions{Replace: true})
	require.NoError(t, err)
	assert.Equal(t, 1, replaced.Resources)
	got, err = c.Open("example.test", "1.0.0")
	require.NoError(t, err)
	assert.Len(t, got.Resources, 1)

	entries, err := os.ReadDir(c.Dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary folders left behind")
	assert.Equal(t, "example.test#1.0.0", entries[0].Name())
}

func TestCacheOpenErrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"wrong#1.0.0/package/package.json": `{"name":"other","version":"1.0.0"}`,
	})
	c := Cache{Dir: dir}
	_, err := c.Open("missing", "1.0.0")
	var ni *NotInstalledError
	require.ErrorAs(t, err, &ni)
	assert.Contains(t, err.Error(), "conform packages install missing#1.0.0")

	_, err = c.Open("wrong", "1.0.0")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "holds other#1.0.0")

	_, err = c.Open("../etc", "1")
	require.Error(t, err)

	refs, err := Cache{Dir: filepath.Join(dir, "none")}.List()
	require.NoError(t, err)
	assert.Empty(t, refs)
}

func TestLoad(t *testing.T) {
	c := installedCache(t)
	tests := []struct {
		name         string
		igs          []string
		wantPackages []string
		wantWarn     map[WarningKind][]string
		wantResolve  string
		wantErr      string
	}{
		{
			name:         "core only",
			wantPackages: []string{"hl7.fhir.r4.core#4.0.1"},
			wantResolve:  "http://hl7.org/fhir/StructureDefinition/Patient|4.0.1",
		},
		{
			name:         "UK Core from the cache by name#version",
			igs:          []string{"fhir.r4.ukcore.stu3.currentbuild#0.0.0-main.55dd5f7"},
			wantPackages: []string{"hl7.fhir.r4.core#4.0.1", "fhir.r4.ukcore.stu3.currentbuild#0.0.0-main.55dd5f7"},
			wantWarn:     map[WarningKind][]string{WarnUnresolvedDependency: {"hl7.fhir.r5.core#5.0.0"}},
			wantResolve:  "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient",
		},
		{
			name:         "BaRS source folder with missing dependencies",
			igs:          []string{conformancetest.Shared(t, "fhir/sources/bars")},
			wantPackages: []string{"hl7.fhir.r4.core#4.0.1", "uk.nhsdigital.bars.r4#1.20.0-alpha"},
			wantWarn:     map[WarningKind][]string{WarnUnresolvedDependency: {"fhir.r4.ukcore.stu1#0.5.1", "uk.nhsdigital.r4#2.5.0"}},
		},
		{
			name:    "unknown IG",
			igs:     []string{"nothing.here#1.0.0"},
			wantErr: "nothing.here#1.0.0 is not installed",
		},
		{
			name:    "neither path nor reference",
			igs:     []string{"no-such-folder"},
			wantErr: "not name#version",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Load(context.Background(), LoadOptions{Cache: c, IGs: tc.igs})
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			var ids []string
			for _, p := range s.Packages() {
				ids = append(ids, p.ID())
			}
			assert.Equal(t, tc.wantPackages, ids)
			got := map[WarningKind][]string{}
			for _, w := range s.Warnings() {
				if w.Kind == WarnUnresolvedDependency || w.Kind == WarnSkippedDependency {
					got[w.Kind] = append(got[w.Kind], w.Subject)
				}
			}
			if tc.wantWarn == nil {
				tc.wantWarn = map[WarningKind][]string{}
			}
			assert.Equal(t, tc.wantWarn, got)
			if tc.wantResolve != "" {
				_, ok := s.Resolve(tc.wantResolve)
				assert.True(t, ok, tc.wantResolve)
			}
		})
	}
}

func TestLoadWithoutCore(t *testing.T) {
	_, err := Load(context.Background(), LoadOptions{Cache: Cache{Dir: t.TempDir()}})
	var ni *NotInstalledError
	require.ErrorAs(t, err, &ni)
	assert.Equal(t, CoreName, ni.Name)
}

func TestLoadCoreFromIGAndDependencies(t *testing.T) {
	dir := t.TempDir()
	c := Cache{Dir: dir}
	writeFiles(t, dir, map[string]string{
		"dep.a#1.0.0/package/package.json":     `{"name":"dep.a","version":"1.0.0","fhirVersions":["4.0.1"],"dependencies":{"dep.b":"2.0.x"}}`,
		"dep.a#1.0.0/package/ValueSet-a.json":  `{"resourceType":"ValueSet","id":"a","url":"http://x/a"}`,
		"dep.b#2.0.1/package/package.json":     `{"name":"dep.b","version":"2.0.1"}`,
		"dep.b#2.0.3/package/package.json":     `{"name":"dep.b","version":"2.0.3","dependencies":{"dep.r5":"5.0.0"}}`,
		"dep.r5#5.0.0/package/package.json":    `{"name":"dep.r5","version":"5.0.0","fhirVersions":["5.0.0"]}`,
		"dep.r5#5.0.0/package/ValueSet-a.json": `{"resourceType":"ValueSet","id":"a","url":"http://x/a"}`,
		"src/package.json":                     `{"name":"ig","version":"0.1.0","dependencies":{"dep.a":"1.0.0","gone":"9.9.9"}}`,
		"src/input/resources/ValueSet-vs.json": `{"resourceType":"ValueSet","id":"vs","url":"http://x/vs"}`,
	})
	s, err := Load(context.Background(), LoadOptions{Cache: c, IGs: []string{sharedCoreSource(t), filepath.Join(dir, "src")}})
	require.NoError(t, err)
	var ids []string
	for _, p := range s.Packages() {
		ids = append(ids, p.ID())
	}
	assert.Equal(t, []string{"hl7.fhir.r4.core#4.0.1", "ig#0.1.0", "dep.a#1.0.0", "dep.b#2.0.3"}, ids)
	var kinds []string
	for _, w := range s.Warnings() {
		if w.Kind != WarnDuplicateCanonical {
			kinds = append(kinds, string(w.Kind)+" "+w.Subject)
		}
	}
	assert.Equal(t, []string{"unresolved-dependency gone#9.9.9", "skipped-dependency dep.r5#5.0.0"}, kinds)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Load(ctx, LoadOptions{Cache: c, IGs: []string{filepath.Join(dir, "src")}})
	assert.ErrorIs(t, err, context.Canceled)
}

func sharedCoreSource(t testing.TB) string {
	return conformancetest.Shared(t, "fhir/packages/hl7.fhir.r4.core-4.0.1.tgz")
}

func sharedUKCoreSource(t testing.TB) string {
	return conformancetest.Shared(t, "fhir/sources/uk-core")
}

func TestCacheKeptXMLConvertedOnLoad(t *testing.T) {
	c := Cache{Dir: t.TempDir()}
	uk, err := Open(conformancetest.Shared(t, "fhir/sources/uk-core-2.0.2"))
	require.NoError(t, err)
	res, err := c.Install(uk, InstallOptions{})
	require.NoError(t, err)
	assert.Equal(t, res.Resources, res.KeptXML, "no core installed: every resource kept as XML")

	s, err := Load(context.Background(), LoadOptions{Cache: c, IGs: []string{sharedCoreSource(t), "fhir.r4.ukcore.stu2#2.0.2"}})
	require.NoError(t, err)
	r, ok := s.Resolve("https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient")
	require.True(t, ok)
	assert.Equal(t, FormatXML, r.Format)
	assert.Equal(t, "StructureDefinition-UKCore-Patient.xml", r.File)
	assert.Equal(t, "constraint", r.Derivation)
	m, err := r.JSON()
	require.NoError(t, err)
	assert.Equal(t, "UKCore-Patient", m["id"])
}
