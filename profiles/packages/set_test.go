package packages

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testPackage(name, version string, resources ...*Resource) *Package {
	p := &Package{Name: name, Version: version, Source: "test"}
	for _, r := range resources {
		r.Package = p
		if r.File == "" {
			r.File = fmt.Sprintf("%s-%s-%s.json", r.ResourceType, r.ID, r.Version)
		}
		r.data = []byte(fmt.Sprintf(`{"resourceType":%q,"id":%q,"url":%q,"version":%q}`, r.ResourceType, r.ID, r.URL, r.Version))
	}
	p.Resources = resources
	return p
}

func TestSetResolve(t *testing.T) {
	const url = "http://example.org/StructureDefinition/a"
	a := testPackage("a", "1.0.0",
		&Resource{Summary: Summary{ResourceType: "StructureDefinition", ID: "a1", URL: url, Version: "1.0.0"}},
		&Resource{Summary: Summary{ResourceType: "StructureDefinition", ID: "a2", URL: url, Version: "1.10.0"}},
		&Resource{Summary: Summary{ResourceType: "ValueSet", ID: "vs", URL: "http://example.org/vs"}},
		&Resource{Summary: Summary{ResourceType: "Patient", ID: "p"}},
	)
	b := testPackage("b", "2.0.0",
		&Resource{Summary: Summary{ResourceType: "StructureDefinition", ID: "b1", URL: url, Version: "1.9.0"}},
		&Resource{Summary: Summary{ResourceType: "StructureDefinition", ID: "b2", URL: url, Version: "1.10.0-ballot"}},
		&Resource{Summary: Summary{ResourceType: "StructureDefinition", ID: "b3", URL: url, Version: "1.0.0"}},
	)
	s := NewSet(a, b)
	tests := []struct {
		name      string
		canonical string
		wantID    string
		wantOK    bool
	}{
		{name: "no version gives the latest", canonical: url, wantID: "a2", wantOK: true},
		{name: "exact version", canonical: url + "|1.9.0", wantID: "b1", wantOK: true},
		{name: "pre-release exact", canonical: url + "|1.10.0-ballot", wantID: "b2", wantOK: true},
		{name: "same version in two packages: first added", canonical: url + "|1.0.0", wantID: "a1", wantOK: true},
		{name: "partial version", canonical: url + "|1.10", wantID: "a2", wantOK: true},
		{name: "partial major", canonical: url + "|1", wantID: "a2", wantOK: true},
		{name: "unknown version", canonical: url + "|3.0.0", wantOK: false},
		{name: "unversioned resource", canonical: "http://example.org/vs", wantID: "vs", wantOK: true},
		{name: "unversioned resource asked with version", canonical: "http://example.org/vs|1.0", wantOK: false},
		{name: "unknown url", canonical: "http://example.org/none", wantOK: false},
		{name: "empty", canonical: "", wantOK: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := s.Resolve(tc.canonical)
			require.Equal(t, tc.wantOK, ok)
			if ok {
				assert.Equal(t, tc.wantID, r.ID)
			}
		})
	}
	assert.Len(t, s.ByType("StructureDefinition"), 5)
	assert.Len(t, s.ByType("Patient"), 1)
	assert.Empty(t, s.ByType("Observation"))
	assert.Equal(t, []*Package{a, b}, s.Packages())

	m, ok := s.ResolveJSON(url + "|1.9.0")
	require.True(t, ok)
	assert.Equal(t, "b1", m["id"])
}

func TestSetResolvePrefersRepublishedCoreCanonicals(t *testing.T) {
	const url = "http://terminology.hl7.org/CodeSystem/v2-0203"
	core := testPackage(CoreName, CoreVersion, &Resource{Summary: Summary{ResourceType: "CodeSystem", ID: "core", URL: url, Version: "4.0.1"}})
	tho := testPackage(TerminologyName, "7.0.1",
		&Resource{Summary: Summary{ResourceType: "CodeSystem", ID: "tho3", URL: url, Version: "3.0.0"}},
		&Resource{Summary: Summary{ResourceType: "CodeSystem", ID: "tho2", URL: url, Version: "2.9"}},
	)
	for _, s := range []*Set{NewSet(core, tho), NewSet(tho, core)} {
		r, ok := s.Resolve(url)
		require.True(t, ok)
		assert.Equal(t, "tho3", r.ID)
		r, ok = s.Resolve(url + "|4.0.1")
		require.True(t, ok)
		assert.Equal(t, "core", r.ID)
	}
}

func TestSetWarnings(t *testing.T) {
	const url = "http://example.org/vs"
	a := testPackage("a", "1.0.0", &Resource{Summary: Summary{ResourceType: "ValueSet", ID: "x", URL: url, Version: "1"}})
	b := testPackage("b", "1.0.0", &Resource{Summary: Summary{ResourceType: "ValueSet", ID: "y", URL: url, Version: "1"}})
	again := testPackage("a", "1.0.0")
	s := NewSet(a, b, again)
	ws := s.Warnings()
	require.Len(t, ws, 2)
	assert.Equal(t, WarnDuplicateCanonical, ws[0].Kind)
	assert.Equal(t, url, ws[0].Subject)
	assert.Equal(t, "b#1.0.0", ws[0].Package)
	assert.Contains(t, ws[0].Message, "a#1.0.0:ValueSet-x-1.json")
	assert.Equal(t, WarnDuplicatePackage, ws[1].Kind)
	assert.Len(t, s.Packages(), 2)
	assert.Contains(t, ws[0].String(), "duplicate-canonical in b#1.0.0: http://example.org/vs")
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{a: "1.0.0", b: "1.0.0", want: 0},
		{a: "1.0.0", b: "1.0.1", want: -1},
		{a: "1.10.0", b: "1.9.0", want: 1},
		{a: "1.0.0-alpha", b: "1.0.0", want: -1},
		{a: "1.0.0", b: "1.0.0-alpha", want: 1},
		{a: "1.0.0-alpha.2", b: "1.0.0-alpha.10", want: -1},
		{a: "1.0.0-alpha", b: "1.0.0-beta", want: -1},
		{a: "2", b: "1.9.9", want: 1},
		{a: "1.0", b: "1.0.0", want: -1},
		{a: "", b: "0.0.1", want: -1},
		{a: "0.0.1", b: "", want: 1},
		{a: "4.0.1", b: "current", want: -1},
		{a: "1.0.0+build1", b: "1.0.0+build2", want: 0},
		{a: "20130510", b: "4.0.1", want: 1},
	}
	for _, tc := range tests {
		t.Run(tc.a+" vs "+tc.b, func(t *testing.T) {
			assert.Equal(t, tc.want, CompareVersions(tc.a, tc.b))
			assert.Equal(t, -tc.want, CompareVersions(tc.b, tc.a))
		})
	}
}
