package runner

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/cucumber/godog"
)

// FuzzCheckTags proves every tag expression normalizeTags accepts is one godog's
// filter handles without panicking.
func FuzzCheckTags(f *testing.F) {
	for _, s := range []string{"@a", "@a && ~@b", "@a,@b", "@a,,@b", "&&", "~", "@MUST && @ADM-01,@ADM-02", " "} {
		f.Add(s)
	}
	fsys := fstest.MapFS{"a.feature": {Data: []byte("Feature: a\n  @a @MUST\n  Scenario: s\n    Given I store \"x\" as \"y\"\n")}}
	f.Fuzz(func(t *testing.T, expr string) {
		expr, err := normalizeTags(expr)
		if err != nil {
			return
		}
		suite := godog.TestSuite{Options: &godog.Options{FS: fsys, Paths: []string{"a.feature"}, Tags: expr}}
		if _, err := suite.RetrieveFeatures(); err != nil {
			t.Fatalf("parse with tags %q: %v", expr, err)
		}
	})
}

// FuzzParseMessage feeds godog-shaped parse errors through the rewriting.
func FuzzParseMessage(f *testing.F) {
	f.Add("x.feature - Parser errors:\n(6:3): expected: #EOF, got 'y'")
	f.Add("no separator")
	f.Fuzz(func(t *testing.T, msg string) {
		_ = parseMessage(errString(msg))
	})
}

type errString string

func (e errString) Error() string { return string(e) }

// FuzzFeatureParse feeds hostile feature files through godog's parser and
// the record index: an error is fine, a panic is not.
func FuzzFeatureParse(f *testing.F) {
	for _, name := range []string{"pass/patient.feature", "pass/rules.feature", "bad/syntax.feature", "push/discharge.feature"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "features", name))
		if err != nil {
			f.Fatalf("read seed feature: %v", err)
		}
		f.Add(data)
	}
	f.Add([]byte("Feature: x\n  Scenario Outline: y\n    Given <a>\n    Examples:\n      | a |\n      | b |\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{"a.feature": {Data: data}}
		features, err := (godog.TestSuite{Options: &godog.Options{FS: fsys, Paths: []string{"a.feature"}}}).RetrieveFeatures()
		if err != nil {
			_ = parseMessage(err)
			return
		}
		ix := newIndex(&Record{})
		for _, ft := range features {
			ix.add(ft.GherkinDocument, ft.Pickles)
		}
	})
}
