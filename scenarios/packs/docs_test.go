package packs

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the generated criteria section of docs/PACKS.md")

const (
	docsBegin = "<!-- criteria:begin (generated from the manifests by go test ./scenarios/packs -update) -->"
	docsEnd   = "<!-- criteria:end -->"
)

func criteriaMarkdown(ps []*Pack) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "\n### %s %s: %s\n\nJudged against `%s`; %d scenarios.\n\n| id | level | criterion | source |\n|---|---|---|---|\n",
			p.ID, p.Version, p.Title, p.UKCore, len(p.Scenarios))
		for _, c := range p.Criteria {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.ID, c.Level, strings.ReplaceAll(c.Text, "|", "\\|"), strings.ReplaceAll(c.Source, "|", "\\|"))
		}
	}
	return b.String()
}

// TestPacksDocListsEveryCriterion keeps docs/PACKS.md's criteria tables
// equal to the manifests.
func TestPacksDocListsEveryCriterion(t *testing.T) {
	ps, err := Builtin()
	require.NoError(t, err)
	path := filepath.Join("..", "..", "docs", "PACKS.md")
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	doc := string(raw)
	i, j := strings.Index(doc, docsBegin), strings.Index(doc, docsEnd)
	require.True(t, i >= 0 && j > i, "docs/PACKS.md lacks the generated criteria markers")
	want := doc[:i+len(docsBegin)] + "\n" + criteriaMarkdown(ps) + "\n" + doc[j:]
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(want), 0o644))
		return
	}
	assert.Equal(t, want, doc, "docs/PACKS.md is out of date: run go test ./scenarios/packs -update")
}
