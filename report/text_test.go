package report

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTextStreamsWithAProgressBarOnATerminal(t *testing.T) {
	rec, err := fixtureRecord()
	require.NoError(t, err)
	var buf bytes.Buffer
	s := NewTextStream(&buf, len(rec.Scenarios), true)
	s.Scenario(rec.Scenarios[0])
	first := buf.String()
	assert.Contains(t, first, "FAIL      Creating a Patient", "a scenario is written as soon as it is handed over")
	assert.Contains(t, first, "\r[#######.......................] 1/4  1 failed")
	for _, sc := range rec.Scenarios[1:] {
		s.Scenario(sc)
	}
	require.NoError(t, s.Finish(rec))
	out := buf.String()
	assert.Contains(t, out, "] 4/4  1 failed")
	assert.True(t, strings.HasSuffix(out, "overall: FAIL\n"))
	assert.Equal(t, 4, strings.Count(out, "\r\033[K"), "the bar is cleared before each later scenario and before the verdicts")

	var plain bytes.Buffer
	p := NewTextStream(&plain, len(rec.Scenarios), false)
	for _, sc := range rec.Scenarios {
		p.Scenario(sc)
	}
	require.NoError(t, p.Finish(rec))
	assert.NotContains(t, plain.String(), "\r", "no bar when the output is not a terminal")
	golden, err := Render("text", rec, Options{}, nil)
	require.NoError(t, err)
	assert.Equal(t, string(golden), plain.String())
}

func TestWriterStreamsTextAndWritesTheRest(t *testing.T) {
	rec, err := fixtureRecord()
	require.NoError(t, err)
	dir := t.TempDir()
	var stdout bytes.Buffer
	w := NewWriter(&stdout, []Output{{Format: "text"}, {Format: "json", Path: dir + "/r.json"}}, 0, Options{},
		func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("Smith"), []byte("*****")) })
	for _, sc := range rec.Scenarios {
		w.Scenario(sc)
	}
	require.NoError(t, w.Finish(rec))
	assert.Contains(t, stdout.String(), "overall: FAIL")
	assert.Equal(t, 1, strings.Count(stdout.String(), "Creating a Patient"), "streamed scenarios are not written twice")
	data, err := os.ReadFile(dir + "/r.json")
	require.NoError(t, err)
	assert.Contains(t, string(data), "*****")
	assert.NotContains(t, string(data), "Smith", "every output passes through the redactor")
	require.NoError(t, NewWriter(&stdout, nil, 0, Options{}, nil).Finish(nil))
}

func TestTextStreamCountsWhenTheTotalIsUnknown(t *testing.T) {
	rec, err := fixtureRecord()
	require.NoError(t, err)
	var buf bytes.Buffer
	s := NewTextStream(&buf, 0, true)
	s.Scenario(rec.Scenarios[0])
	s.Scenario(rec.Scenarios[1])
	assert.Contains(t, buf.String(), "\r2 scenarios done, 1 failed")
	require.NoError(t, s.Finish(rec))
	assert.NotContains(t, buf.String(), "[#")
}

func TestTextEscapesControlCharactersFromTheServer(t *testing.T) {
	rec, err := fixtureRecord()
	require.NoError(t, err)
	rec.Scenarios[0].Steps[2].Error = "bad\x1b[2J\roverall: PASS\nsecond line\tok"
	out, err := Render("text", rec, Options{}, nil)
	require.NoError(t, err)
	assert.Contains(t, string(out), `bad\x1b[2J\x0doverall: PASS`)
	assert.Contains(t, string(out), "\n        second line\tok")
	assert.NotContains(t, string(out), "\x1b")
}
