package steps

import (
	"fmt"
	"regexp"
	"strings"
)

// Markdown renders the step catalogue as the content of docs/STEPS.md.
func Markdown() string {
	var b strings.Builder
	b.WriteString("# Steps\n\n")
	b.WriteString("Every step conform understands, generated from the step library (`conform steps` prints the same list).\n")
	b.WriteString("Any step may start with Given, When, Then, And or But.\n\n")
	b.WriteString("## Values\n\n")
	b.WriteString("`{{NAME}}` in paths, headers, bodies and expected values is replaced by a stored value or a built-in one;\n")
	b.WriteString("in FHIRPath expressions a stored value is `%NAME`. A name never stored stops the step with an error (exit code 3).\n\n")
	b.WriteString("| built-in | value |\n|---|---|\n")
	b.WriteString("| `{{run}}` | unique per run, the same in every scenario of the run |\n")
	b.WriteString("| `{{uuid}}` | a fresh random UUID at each use |\n")
	b.WriteString("| `{{nhsNumber}}` | a fresh test NHS Number (999 range) with a valid Modulus 11 check digit |\n")
	b.WriteString("| `{{now}}` | the current time as a FHIR instant, UTC, seconds |\n")
	b.WriteString("| `{{target}}` | the target FHIR base URL |\n")
	b.WriteString("| `{{receiver}}` | the base URL of the receiving endpoint (`--listen`) |\n\n")
	b.WriteString("The subject of response assertions is the last response or, after a message step, the last received message.\n\n")
	group := ""
	for _, d := range catalogue {
		if d.Group != group {
			group = d.Group
			fmt.Fprintf(&b, "## %s\n\n", group)
		}
		fmt.Fprintf(&b, "### `%s`\n\n%s\n\n```gherkin\n%s\n```\n\n", firstLine(d.Phrase), d.Doc, d.Example)
	}
	return b.String()
}

// Text renders the catalogue for a terminal: phrase, description, example.
func Text() string {
	var b strings.Builder
	group := ""
	for _, d := range catalogue {
		if d.Group != group {
			if group != "" {
				b.WriteString("\n")
			}
			group = d.Group
			fmt.Fprintf(&b, "%s\n%s\n", group, strings.Repeat("=", len(group)))
		}
		fmt.Fprintf(&b, "\n  %s\n      %s\n      e.g. %s\n", firstLine(d.Phrase), d.Doc, strings.ReplaceAll(d.Example, "\n", "\n           "))
	}
	return b.String()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

var (
	quoted  = regexp.MustCompile(`"[^"]*"`)
	numbers = regexp.MustCompile(`\b\d+\b`)
	keyword = regexp.MustCompile(`^(Given|When|Then|And|But|\*)\s+`)
)

func shape(s string) []string {
	s = keyword.ReplaceAllString(firstLine(s), "")
	s = quoted.ReplaceAllString(s, `"_"`)
	s = numbers.ReplaceAllString(s, "N")
	words := strings.Fields(strings.ToLower(s))
	for i, w := range words {
		if w == "code" {
			words[i] = "n"
		}
	}
	return words
}

// Suggest returns the step closest to an undefined step's text, if any is
// close enough to be a likely typo or rewording.
func Suggest(text string) (Def, bool) {
	want := shape(text)
	best, bestDist := -1, 1<<30
	for i, d := range catalogue {
		dist := wordDistance(want, shape(d.Phrase))
		if dist < bestDist {
			best, bestDist = i, dist
		}
	}
	if best < 0 || bestDist > max(2, len(want)/2) {
		return Def{}, false
	}
	return catalogue[best], true
}

func wordDistance(a, b []string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
