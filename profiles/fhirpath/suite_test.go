package fhirpath

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nhsconform/conform/conformance/conformancetest"
	"github.com/nhsconform/conform/profiles/model/modeltest"
)

// suiteMinimum is the number of official R4 tests the engine must pass strictly.
const suiteMinimum = 920

type suiteCase struct {
	Group                 string  `json:"group"`
	Name                  string  `json:"name"`
	InputFile             *string `json:"inputfile"`
	Predicate             *string `json:"predicate"`
	Mode                  *string `json:"mode"`
	Ordered               *string `json:"ordered"`
	CheckOrderedFunctions *string `json:"checkOrderedFunctions"`
	Expression            string  `json:"expression"`
	Invalid               *string `json:"invalid"`
	Outputs               []struct {
		Type  *string `json:"type"`
		Value string  `json:"value"`
	} `json:"outputs"`
}

func decodeJSON(t testing.TB, data []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	require.NoError(t, d.Decode(&m))
	return m
}

type suiteRun struct {
	passed, total int
	failures      []string
}

func runSuite(t *testing.T) suiteRun {
	t.Helper()
	dir := conformancetest.Shared(t, "testsuites/fhirpath")
	data, err := os.ReadFile(filepath.Join(dir, "tests-fhir-r4.cases.json"))
	require.NoError(t, err)
	var cases []suiteCase
	require.NoError(t, json.Unmarshal(data, &cases))
	m := FromModel(modeltest.Core(t))
	lenient := NewEngine(Options{Model: m})
	strict := NewEngine(Options{Model: m, Strict: true})
	inputs := map[string]map[string]any{}
	var run suiteRun
	for _, tc := range cases {
		run.total++
		eng := lenient
		if (tc.Mode != nil && *tc.Mode == "strict") || (tc.CheckOrderedFunctions != nil && *tc.CheckOrderedFunctions == "true") {
			eng = strict
		}
		var input *Node
		if tc.InputFile != nil {
			name := strings.TrimSuffix(*tc.InputFile, filepath.Ext(*tc.InputFile)) + ".json"
			res, ok := inputs[name]
			if !ok {
				raw, err := os.ReadFile(filepath.Join(dir, "input", name))
				require.NoError(t, err)
				res = decodeJSON(t, raw)
				inputs[name] = res
			}
			input = eng.Resource(res)
		}
		if reason := checkCase(eng, tc, input); reason != "" {
			run.failures = append(run.failures, tc.Name+": "+reason)
			continue
		}
		run.passed++
	}
	return run
}

func checkCase(eng *Engine, tc suiteCase, input *Node) string {
	x, err := eng.Compile(tc.Expression)
	var res Collection
	if err == nil {
		res, err = x.Evaluate(context.Background(), input, nil)
	}
	if tc.Invalid != nil {
		if err == nil {
			return "expected a " + *tc.Invalid + " error, got " + describe(res)
		}
		var fe *Error
		if !errors.As(err, &fe) {
			return "expected a " + *tc.Invalid + " error, got a failure: " + err.Error()
		}
		return ""
	}
	if err != nil {
		return "unexpected error: " + err.Error()
	}
	if tc.Predicate != nil && *tc.Predicate == "true" {
		res = Collection{Boolean(len(res) > 0)}
	}
	got := make([]string, len(res))
	for i, v := range res {
		got[i] = TypeName(v) + " " + Literal(v)
	}
	want := make([]string, len(tc.Outputs))
	for i, o := range tc.Outputs {
		typ := ""
		if o.Type != nil {
			typ = *o.Type
		}
		want[i] = typ + " " + o.Value
		if typ == "" && i < len(res) {
			got[i] = " " + Literal(res[i])
		}
	}
	if tc.Ordered != nil && *tc.Ordered == "false" {
		sort.Strings(got)
		sort.Strings(want)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		return "want [" + strings.Join(want, ", ") + "], got [" + strings.Join(got, ", ") + "]"
	}
	return ""
}

func describe(res Collection) string {
	parts := make([]string, len(res))
	for i, v := range res {
		parts[i] = TypeName(v) + " " + Literal(v)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func TestOfficialSuite(t *testing.T) {
	run := runSuite(t)
	t.Logf("official FHIRPath R4 suite: %d of %d passed", run.passed, run.total)
	for _, f := range run.failures {
		t.Log("FAIL " + f)
	}
	require.GreaterOrEqual(t, run.passed, suiteMinimum, "official FHIRPath R4 suite")
}
