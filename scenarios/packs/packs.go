// Package packs owns conform's workflow packs as data: reading a pack folder
// (manifest, features, fixtures), checking it against the manifest schema and
// the rules that tie scenarios to acceptance criteria, and the content hash
// recorded with every result.
package packs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	gherkin "github.com/cucumber/gherkin/go/v26"
	messages "github.com/cucumber/messages/go/v21"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/profiles/fhirjson"
	"github.com/nhsconform/conform/profiles/model"
	"github.com/nhsconform/conform/scenarios"
)

// ManifestFile is the name of a pack's manifest inside its folder.
const ManifestFile = "pack.json"

// MaxFileBytes bounds any one file of a pack.
const MaxFileBytes = 4 << 20

// maxFiles bounds the files of one pack.
const maxFiles = 2000

// Manifest is what a pack declares about itself.
type Manifest struct {
	ID          string `json:"id"`
	Version     string `json:"version"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// UKCore is the UK Core package (id#version) the pack judges against.
	UKCore   string                  `json:"ukCore"`
	Criteria []conformance.Criterion `json:"criteria"`
}

// Scenario is one scenario of a pack (one row of a Scenario Outline), with
// what its tags say.
type Scenario struct {
	Name string `json:"name"`
	// URI is the feature file inside the pack source, Line the scenario's line.
	URI  string `json:"uri"`
	Line int    `json:"line"`
	// Criteria are the criterion ids it is evidence for.
	Criteria []string `json:"criteria"`
	// Requires lists what the server must declare for the scenario to run.
	Requires []Requirement `json:"requires,omitempty"`
}

// Pack is a loaded, checked workflow pack.
type Pack struct {
	Manifest
	// Dir is the pack's folder inside the source file system.
	Dir string `json:"dir"`
	// Hash is the SHA-256 over the pack's files (manifest, features,
	// fixtures), "sha256:" followed by hex.
	Hash      string     `json:"hash"`
	Features  []string   `json:"features"`
	Fixtures  []string   `json:"fixtures"`
	Scenarios []Scenario `json:"scenarios"`
}

// Criterion returns the pack's criterion with id.
func (p *Pack) Criterion(id string) (conformance.Criterion, bool) {
	for _, c := range p.Criteria {
		if c.ID == id {
			return c, true
		}
	}
	return conformance.Criterion{}, false
}

// LoadError is a pack that cannot be used, naming the file and line at fault.
type LoadError struct {
	File string
	// Line is 1-based; 0 when the problem concerns the whole file.
	Line int
	Msg  string
}

// Error implements error.
func (e *LoadError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("pack file %s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("pack file %s: %s", e.File, e.Msg)
}

func loadErr(file string, line int, format string, args ...any) *LoadError {
	return &LoadError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// ErrNoPacks means a source holds no pack folder.
var ErrNoPacks = errors.New("no pack folder (a folder holding " + ManifestFile + ") found")

// Load reads every pack in fsys: each top-level folder holding a pack.json.
// Criterion ids must be unique across packs. Packs come back sorted by id.
func Load(fsys fs.FS) ([]*Pack, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("list packs: %w", err)
	}
	var out []*Pack
	owner := map[string]string{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := fs.Stat(fsys, path.Join(e.Name(), ManifestFile)); err != nil {
			continue
		}
		p, err := LoadPack(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		for _, c := range p.Criteria {
			if other, dup := owner[c.ID]; dup {
				return nil, loadErr(path.Join(p.Dir, ManifestFile), 0, "criterion %s is also defined by pack %s", c.ID, other)
			}
			owner[c.ID] = p.ID
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, ErrNoPacks
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// LoadPack reads and checks the pack in folder dir of fsys: the manifest
// against its JSON Schema, every feature's tags against the criteria, every
// fixture as a FHIR resource, and every criterion having a scenario.
func LoadPack(fsys fs.FS, dir string) (*Pack, error) {
	files, err := packFiles(fsys, dir)
	if err != nil {
		return nil, err
	}
	manifestName := path.Join(dir, ManifestFile)
	raw, ok := files[manifestName]
	if !ok {
		return nil, loadErr(manifestName, 0, "missing")
	}
	m, err := parseManifest(manifestName, raw)
	if err != nil {
		return nil, err
	}
	if m.ID != path.Base(dir) {
		return nil, loadErr(manifestName, lineOf(raw, "id"), "pack id %q does not match its folder name %q", m.ID, path.Base(dir))
	}
	p := &Pack{Manifest: m, Dir: dir, Hash: hashFiles(dir, files)}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		rel := strings.TrimPrefix(n, dir+"/")
		switch {
		case n == manifestName:
		case strings.HasSuffix(n, ".feature"):
			p.Features = append(p.Features, rel)
		case strings.HasPrefix(rel, "fixtures/") && strings.HasSuffix(n, ".json"):
			if err := checkFixture(n, files[n]); err != nil {
				return nil, err
			}
			p.Fixtures = append(p.Fixtures, rel)
		case path.Base(n) == "README.md":
		default:
			return nil, loadErr(n, 0, "not a pack file: a pack holds %s, README.md, *.feature and fixtures/*.json", ManifestFile)
		}
	}
	if len(p.Features) == 0 {
		return nil, loadErr(dir, 0, "the pack has no .feature file")
	}
	covered := map[string]bool{}
	for _, f := range p.Features {
		name := path.Join(dir, f)
		scs, err := p.readFeature(name, files[name], files)
		if err != nil {
			return nil, err
		}
		for _, s := range scs {
			for _, c := range s.Criteria {
				covered[c] = true
			}
		}
		p.Scenarios = append(p.Scenarios, scs...)
	}
	for _, c := range p.Criteria {
		if !covered[c.ID] {
			return nil, loadErr(manifestName, lineOfValue(raw, c.ID), "criterion %s has no scenario tagged @%s", c.ID, c.ID)
		}
	}
	return p, nil
}

func packFiles(fsys fs.FS, dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(fsys, dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read pack %s: %w", dir, err)
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return loadErr(name, 0, "not a regular file")
		}
		if len(files) >= maxFiles {
			return loadErr(dir, 0, "more than %d files", maxFiles)
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("read pack file %s: %w", name, err)
		}
		if info.Size() > MaxFileBytes {
			return loadErr(name, 0, "%d bytes is above the limit of %d", info.Size(), MaxFileBytes)
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("read pack file %s: %w", name, err)
		}
		if len(data) > MaxFileBytes {
			return loadErr(name, 0, "above the limit of %d bytes", MaxFileBytes)
		}
		files[name] = data
		return nil
	})
	if err != nil {
		return nil, err
	}
	return files, nil
}

// hashFiles hashes each file's path inside the pack and its content, in path order.
func hashFiles(dir string, files map[string][]byte) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		rel := strings.TrimPrefix(n, dir+"/")
		fmt.Fprintf(h, "%s\x00%d\x00", rel, len(files[n]))
		h.Write(files[n])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

var (
	criterionTag = regexp.MustCompile(`^@[A-Z]{2,5}-[0-9]{2,3}$`)
	fixtureRef   = regexp.MustCompile(`from "([^"{}<>]+)"`)
)

func (p *Pack) readFeature(name string, data []byte, files map[string][]byte) ([]Scenario, error) {
	var n int
	newID := func() string { n++; return fmt.Sprint(n) }
	doc, err := gherkin.ParseGherkinDocument(bytes.NewReader(data), newID)
	if err != nil {
		return nil, featureErr(name, err)
	}
	if doc.Feature == nil {
		return nil, loadErr(name, 0, "no Feature")
	}
	lines := map[string]int{}
	var visit func(children []*messages.FeatureChild) error
	visit = func(children []*messages.FeatureChild) error {
		for _, c := range children {
			switch {
			case c.Rule != nil:
				rc := make([]*messages.FeatureChild, 0, len(c.Rule.Children))
				for _, r := range c.Rule.Children {
					rc = append(rc, &messages.FeatureChild{Background: r.Background, Scenario: r.Scenario})
				}
				if err := visit(rc); err != nil {
					return err
				}
			case c.Background != nil:
				if err := checkSteps(name, c.Background.Steps, files); err != nil {
					return err
				}
			case c.Scenario != nil:
				lines[c.Scenario.Id] = int(c.Scenario.Location.Line)
				for _, ex := range c.Scenario.Examples {
					for _, row := range ex.TableBody {
						lines[row.Id] = int(row.Location.Line)
					}
				}
				if err := checkSteps(name, c.Scenario.Steps, files); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := visit(doc.Feature.Children); err != nil {
		return nil, err
	}
	var out []Scenario
	for _, pk := range gherkin.Pickles(*doc, name, newID) {
		line := 0
		if ids := pk.AstNodeIds; len(ids) > 0 {
			line = lines[ids[len(ids)-1]]
			if line == 0 {
				line = lines[ids[0]]
			}
		}
		s := Scenario{Name: pk.Name, URI: strings.TrimPrefix(name, p.Dir+"/"), Line: line}
		var levels []conformance.Level
		for _, t := range pk.Tags {
			switch {
			case t.Name == "@MUST" || t.Name == "@SHOULD" || t.Name == "@MAY":
				levels = append(levels, conformance.Level(strings.TrimPrefix(t.Name, "@")))
			case criterionTag.MatchString(t.Name):
				id := strings.TrimPrefix(t.Name, "@")
				if _, ok := p.Criterion(id); !ok {
					return nil, loadErr(name, line, "scenario %q is tagged with unknown criterion %s (the manifest defines %s)", pk.Name, t.Name, p.criterionList())
				}
				s.Criteria = append(s.Criteria, id)
			case strings.HasPrefix(t.Name, RequiresTag):
				r, err := ParseRequirement(strings.TrimPrefix(t.Name, RequiresTag))
				if err != nil {
					return nil, loadErr(name, line, "scenario %q: tag %s: %v", pk.Name, t.Name, err)
				}
				s.Requires = append(s.Requires, r)
			}
		}
		if len(s.Criteria) == 0 {
			return nil, loadErr(name, line, "scenario %q is tagged with no acceptance criterion (tag it @ID @LEVEL, e.g. @%s @MUST)", pk.Name, p.Criteria[0].ID)
		}
		if len(levels) != 1 {
			return nil, loadErr(name, line, "scenario %q needs exactly one level tag (@MUST, @SHOULD or @MAY), it has %d", pk.Name, len(levels))
		}
		for _, id := range s.Criteria {
			c, _ := p.Criterion(id)
			if c.Level != levels[0] {
				return nil, loadErr(name, line, "scenario %q is tagged @%s but criterion %s is %s", pk.Name, levels[0], id, c.Level)
			}
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, loadErr(name, 0, "no scenario")
	}
	return out, nil
}

func (p *Pack) criterionList() string {
	ids := make([]string, len(p.Criteria))
	for i, c := range p.Criteria {
		ids[i] = c.ID
	}
	return strings.Join(ids, ", ")
}

func checkSteps(feature string, list []*messages.Step, files map[string][]byte) error {
	for _, st := range list {
		for _, m := range fixtureRef.FindAllStringSubmatch(st.Text, -1) {
			ref := path.Join(path.Dir(feature), m[1])
			if _, ok := files[ref]; !ok {
				return loadErr(feature, int(st.Location.Line), "step refers to %s, which the pack does not hold", m[1])
			}
		}
	}
	return nil
}

var gherkinLine = regexp.MustCompile(`\((\d+):\d+\)`)

func featureErr(name string, err error) error {
	msg := err.Error()
	line := 0
	if m := gherkinLine.FindStringSubmatch(msg); m != nil {
		fmt.Sscan(m[1], &line)
	}
	if i := strings.Index(msg, "\n"); i > 0 {
		msg = msg[:i]
	}
	return loadErr(name, line, "not valid Gherkin: %s", msg)
}

// checkFixture requires a fixture to be one FHIR R4 resource in strict JSON:
// a known resourceType, and the same for every contained or Bundle entry resource.
func checkFixture(name string, data []byte) error {
	res, err := fhirjson.DecodeObject(data)
	if err != nil {
		var se *fhirjson.SyntaxError
		if errors.As(err, &se) {
			return loadErr(name, se.Line, "not valid JSON: %s", se.Msg)
		}
		return loadErr(name, 0, "not a FHIR JSON resource: %v", err)
	}
	return checkResource(name, data, res, nil)
}

func checkResource(name string, data []byte, res map[string]any, at []fhirjson.Step) error {
	rt, ok := res["resourceType"].(string)
	if !ok || !model.IsR4ResourceType(rt) {
		line, _, _ := fhirjson.Locate(data, append(at, fhirjson.Key("resourceType")))
		if line == 0 {
			line, _, _ = fhirjson.Locate(data, at)
		}
		if !ok {
			return loadErr(name, line, "not a FHIR resource: no resourceType")
		}
		return loadErr(name, line, "resourceType %q is not a FHIR R4 resource type", rt)
	}
	for _, key := range []string{"contained", "entry"} {
		list, _ := res[key].([]any)
		for i, x := range list {
			item, _ := x.(map[string]any)
			step := append(append([]fhirjson.Step(nil), at...), fhirjson.Key(key), fhirjson.Index(i))
			if key == "entry" {
				inner, ok := item["resource"].(map[string]any)
				if !ok {
					continue
				}
				item = inner
				step = append(step, fhirjson.Key("resource"))
			}
			if item == nil {
				line, _, _ := fhirjson.Locate(data, step)
				return loadErr(name, line, "%s[%d] is not a resource", key, i)
			}
			if err := checkResource(name, data, item, step); err != nil {
				return err
			}
		}
	}
	return nil
}

// Builtin loads the packs embedded in the binary.
func Builtin() ([]*Pack, error) {
	return Load(scenarios.FS)
}
