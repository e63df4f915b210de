package report

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"strconv"
	"strings"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/runner"
)

func init() {
	register(Format{Name: "cucumber", File: "cucumber.json", Description: "Cucumber JSON: features, scenarios and steps, each exchange attached to its step", Write: writeCucumber})
}

type cukeFeature struct {
	URI         string        `json:"uri"`
	ID          string        `json:"id"`
	Keyword     string        `json:"keyword"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Line        int           `json:"line"`
	Elements    []cukeElement `json:"elements"`
}

type cukeElement struct {
	ID          string     `json:"id"`
	Keyword     string     `json:"keyword"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Line        int        `json:"line"`
	Type        string     `json:"type"`
	Tags        []cukeTag  `json:"tags,omitempty"`
	Steps       []cukeStep `json:"steps"`
}

type cukeTag struct {
	Name string `json:"name"`
	Line int    `json:"line"`
}

type cukeStep struct {
	Keyword    string          `json:"keyword"`
	Name       string          `json:"name"`
	Line       int             `json:"line"`
	Match      cukeMatch       `json:"match"`
	Result     cukeResult      `json:"result"`
	Embeddings []cukeEmbedding `json:"embeddings,omitempty"`
}

type cukeMatch struct {
	Location string `json:"location"`
}

type cukeResult struct {
	Status   string `json:"status"`
	Error    string `json:"error_message,omitempty"`
	Duration int64  `json:"duration"`
}

type cukeEmbedding struct {
	MimeType string `json:"mime_type"`
	Data     string `json:"data"`
	Name     string `json:"name,omitempty"`
}

// cucumberStatus maps conform's statuses onto Cucumber's.
func cucumberStatus(s conformance.Status) string {
	switch s {
	case conformance.StatusPass:
		return "passed"
	case conformance.StatusFail, conformance.StatusError:
		return "failed"
	case conformance.StatusUndefined:
		return "undefined"
	}
	return "skipped"
}

func cucumberID(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), "-"))
}

func writeCucumber(w io.Writer, rec *Record, _ Options) error {
	features := []cukeFeature{}
	index := map[string]int{}
	for _, s := range rec.Scenarios {
		i, ok := index[s.URI]
		if !ok {
			i = len(features)
			index[s.URI] = i
			features = append(features, cukeFeature{URI: s.URI, ID: cucumberID(s.Feature), Keyword: "Feature", Name: s.Feature, Line: 1, Elements: []cukeElement{}})
		}
		f := &features[i]
		el := cukeElement{ID: f.ID + ";" + cucumberID(s.Name), Keyword: "Scenario", Name: s.Name, Line: s.Line, Type: "scenario", Steps: []cukeStep{}}
		for _, t := range s.Tags {
			el.Tags = append(el.Tags, cukeTag{Name: t, Line: s.Line - 1})
		}
		for _, st := range s.Steps {
			el.Steps = append(el.Steps, cucumberStep(s, st))
		}
		f.Elements = append(f.Elements, el)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(features)
}

func cucumberStep(s runner.Scenario, st runner.Step) cukeStep {
	keyword := st.Keyword
	if !strings.HasSuffix(keyword, " ") {
		keyword += " "
	}
	out := cukeStep{Keyword: keyword, Name: st.Text, Line: st.Line, Match: cukeMatch{Location: s.URI + ":" + strconv.Itoa(st.Line)},
		Result: cukeResult{Status: cucumberStatus(st.Status), Error: st.Error, Duration: st.Duration.Nanoseconds()}}
	for _, ex := range st.Exchanges {
		data, err := json.Marshal(ex)
		if err != nil {
			continue
		}
		out.Embeddings = append(out.Embeddings, cukeEmbedding{MimeType: "application/json", Name: ex.Method + " " + ex.URL, Data: base64.StdEncoding.EncodeToString(data)})
	}
	for _, o := range st.Outcomes {
		data, err := json.Marshal(o)
		if err != nil {
			continue
		}
		out.Embeddings = append(out.Embeddings, cukeEmbedding{MimeType: "application/json", Name: "validation " + o.Source, Data: base64.StdEncoding.EncodeToString(data)})
	}
	return out
}
