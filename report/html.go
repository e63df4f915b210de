package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/runner"
	"github.com/nhsconform/conform/runner/fhirclient"
)

func init() {
	register(Format{Name: "html", File: "report.html", Description: "one self-contained HTML page (works offline): the verdict, the criteria, every scenario's steps down to the request and response bodies, with filters", Write: writeHTML})
}

type htmlScenario struct {
	runner.Scenario
	Index    int
	Criteria []string
	Pack     string
}

type htmlCriterion struct {
	conformance.CriterionVerdict
	Pack string
}

type htmlPage struct {
	Rec       *Record
	Criteria  []htmlCriterion
	Scenarios []htmlScenario
	Statuses  []conformance.Status
	Labels    []string
	Packages  string
}

var htmlFuncs = template.FuncMap{
	"upper": func(s conformance.Status) string { return strings.ToUpper(string(s)) },
	"join":  strings.Join,
	"ms":    func(d time.Duration) string { return d.Round(time.Millisecond).String() },
	"time":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"headers": func(h http.Header) string {
		var keys []string
		for k := range h {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			for _, v := range h[k] {
				fmt.Fprintf(&b, "%s: %s\n", k, v)
			}
		}
		return b.String()
	},
	"pretty": prettyJSON,
	"exchangeResult": func(ex fhirclient.Exchange) string {
		if ex.Status != 0 {
			return fmt.Sprint(ex.Status)
		}
		return string(ex.ErrorKind)
	},
	"label": func(rec *Record, k string) string { return rec.Labels[k] },
	"count": func(m map[conformance.Status]int, s conformance.Status) int { return m[s] },
}

// prettyJSON indents a JSON body as received, keeping its property order and
// the text of its numbers (1.50 stays 1.50); anything else is returned as is.
func prettyJSON(body string) string {
	var b bytes.Buffer
	if json.Indent(&b, []byte(body), "", "  ") != nil {
		return body
	}
	return b.String()
}

var htmlTemplate = template.Must(template.New("report").Funcs(htmlFuncs).Parse(htmlSource))

func writeHTML(w io.Writer, rec *Record, _ Options) error {
	page := htmlPage{Rec: rec, Labels: slices.Sorted(maps.Keys(rec.Labels))}
	packOf := map[string]string{}
	for _, p := range rec.Packs {
		for _, id := range p.Criteria {
			packOf[id] = p.ID
		}
	}
	for _, c := range rec.Criteria {
		page.Criteria = append(page.Criteria, htmlCriterion{CriterionVerdict: c, Pack: packOf[c.ID]})
	}
	seen := map[conformance.Status]bool{}
	for i, s := range rec.Scenarios {
		page.Scenarios = append(page.Scenarios, htmlScenario{Scenario: s, Index: i + 1, Criteria: rec.scenarioCriteria(s), Pack: rec.packOf(s)})
		seen[s.Status] = true
	}
	for _, c := range rec.Criteria {
		seen[c.Status] = true
	}
	for _, s := range []conformance.Status{conformance.StatusPass, conformance.StatusFail, conformance.StatusError, conformance.StatusSkipped, conformance.StatusUndefined, conformance.StatusWaived} {
		if seen[s] {
			page.Statuses = append(page.Statuses, s)
		}
	}
	var ids []string
	for _, p := range rec.Packages {
		ids = append(ids, p.ID)
	}
	page.Packages = strings.Join(ids, ", ")
	return htmlTemplate.Execute(w, page)
}

const htmlSource = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>conform: {{upper .Rec.Status}} against {{.Rec.Target}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;color:#212b32;background:#f0f4f5}
header{background:#005eb8;color:#fff;padding:16px 24px}
header h1{margin:0 0 4px;font-size:22px}
main{padding:16px 24px;max-width:1200px}
section{background:#fff;border:1px solid #d8dde0;border-radius:4px;padding:12px 16px;margin-bottom:16px}
h2{font-size:18px;margin:4px 0 12px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e8edee;vertical-align:top;font-size:14px}
.badge{display:inline-block;min-width:64px;text-align:center;border-radius:3px;padding:1px 6px;font-weight:600;font-size:12px;color:#fff;background:#768692}
.s-pass{background:#007f3b}.s-fail{background:#d5281b}.s-error{background:#ffb81c;color:#212b32}.s-undefined{background:#ffb81c;color:#212b32}.s-skipped{background:#768692}.s-waived{background:#330072}
#verdict{font-size:28px;font-weight:700;padding:12px 16px;border-radius:4px;color:#fff}
#verdict.s-error{color:#212b32}
.meta{font-size:13px;color:#4c6272}
.meta code{word-break:break-all}
.filters{display:flex;gap:12px;flex-wrap:wrap;align-items:center}
.filters label{font-size:14px}
details.scenario{border:1px solid #d8dde0;border-radius:4px;margin:6px 0;background:#fff}
details.scenario>summary{padding:6px 8px;cursor:pointer}
.steps{padding:0 8px 8px}
.step{border-top:1px solid #e8edee;padding:4px 0}
.err{white-space:pre-wrap;color:#d5281b;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;margin:2px 0 2px 72px}
details.exchange{margin:2px 0 2px 72px;font-size:13px}
pre{background:#f7f9fa;border:1px solid #e8edee;padding:6px;overflow:auto;max-height:480px;font-size:12px;white-space:pre-wrap;word-break:break-all}
.crit-link{cursor:pointer;text-decoration:underline;color:#005eb8}
.waiver{font-size:12px;color:#330072}
[hidden]{display:none!important}
</style>
</head>
<body>
<header>
<h1>conform conformance report</h1>
<div>{{.Rec.Tool.Name}} {{.Rec.Tool.Version}} &middot; target {{.Rec.Target}}{{if .Rec.Reference}} (in-process reference server){{end}}</div>
</header>
<main>
<section>
<div id="verdict" class="s-{{.Rec.Status}}" data-status="{{.Rec.Status}}">Overall: {{upper .Rec.Status}}</div>
<p class="meta">Started {{time .Rec.Started}}, ended {{time .Rec.Ended}}.
{{- range .Labels}} {{.}}: <strong>{{label $.Rec .}}</strong>;{{end}}
{{if .Packages}}<br>Judged by FHIR packages: <code>{{.Packages}}</code>{{end}}
{{with .Rec.Previous}}<br>Previous run: {{.Run}} (manifest SHA-256 <code>{{.ManifestSHA256}}</code>){{end}}
{{if .Rec.Faults}}<br>Faults switched on: {{join .Rec.Faults ", "}}{{end}}</p>
<p class="meta">{{len .Rec.Scenarios}} scenarios:
{{- range .Statuses}} {{count $.Rec.Summary.Scenarios .}} {{.}};{{end}}
{{if .Rec.Criteria}}{{len .Rec.Criteria}} criteria:{{range .Statuses}} {{count $.Rec.Summary.Criteria .}} {{.}};{{end}}{{end}}</p>
</section>
{{if .Rec.Packs}}<section id="packs">
<h2>Packs</h2>
<table><thead><tr><th>Verdict</th><th>Pack</th><th>Version</th><th>Judged against</th><th>Content hash</th></tr></thead><tbody>
{{range .Rec.Packs}}<tr class="pack" data-pack="{{.ID}}" data-status="{{.Status}}"><td><span class="badge s-{{.Status}}">{{upper .Status}}</span></td><td>{{.ID}}: {{.Title}}</td><td>{{.Version}}</td><td>{{.UKCore}}</td><td><code>{{.Hash}}</code></td></tr>
{{end}}</tbody></table>
</section>{{end}}
<section id="filters">
<h2>Filters</h2>
<div class="filters">
<label>Status <select id="f-status"><option value="">all</option>{{range .Statuses}}<option value="{{.}}">{{.}}</option>{{end}}</select></label>
<label>Criterion <select id="f-criterion"><option value="">all</option>{{range .Criteria}}<option value="{{.ID}}">{{.ID}}</option>{{end}}</select></label>
<label>Pack <select id="f-pack"><option value="">all</option>{{range .Rec.Packs}}<option value="{{.ID}}">{{.ID}}</option>{{end}}</select></label>
<label>Text <input id="f-text" type="search" placeholder="scenario, step or URL"></label>
<span id="shown" class="meta"></span>
</div>
</section>
{{if .Criteria}}<section id="criteria">
<h2>Acceptance criteria</h2>
<table><thead><tr><th>Verdict</th><th>Criterion</th><th>Level</th><th>Pack</th><th>Requirement</th></tr></thead><tbody>
{{range .Criteria}}<tr class="criterion" id="crit-{{.ID}}" data-status="{{.Status}}" data-criterion="{{.ID}}" data-pack="{{.Pack}}"><td><span class="badge s-{{.Status}}">{{upper .Status}}</span></td><td><span class="crit-link" data-filter-criterion="{{.ID}}">{{.ID}}</span></td><td>{{.Level}}</td><td>{{.Pack}}</td><td>{{.Text}}{{with .Waiver}}<div class="waiver">Waived by {{.By}} until {{.Expires}}: {{.Reason}}</div>{{end}}</td></tr>
{{end}}</tbody></table>
</section>{{end}}
<section id="scenarios">
<h2>Scenarios</h2>
{{range .Scenarios}}<details class="scenario" id="scenario-{{.Index}}" data-status="{{.Status}}" data-criteria="{{join .Criteria " "}}" data-pack="{{.Pack}}"{{if ne (print .Status) "pass"}} open{{end}}>
<summary><span class="badge s-{{.Status}}">{{upper .Status}}</span> {{.Name}} <span class="meta">{{.Feature}} &middot; {{.URI}}:{{.Line}} &middot; {{join .Criteria ", "}} &middot; {{ms .Duration}}</span></summary>
<div class="steps">
{{range .Steps}}<div class="step" data-status="{{.Status}}"><span class="badge s-{{.Status}}">{{upper .Status}}</span> <strong>{{.Keyword}}</strong> {{.Text}} <span class="meta">line {{.Line}}</span>
{{if .Error}}<div class="err">{{.Error}}</div>{{end}}
{{if .Suggestion}}<div class="err">did you mean: {{.Suggestion}}</div>{{end}}
{{range .Exchanges}}<details class="exchange"><summary>{{.Method}} {{.URL}} &rarr; {{exchangeResult .}} ({{ms .Duration}}, {{len .Attempts}} attempt(s))</summary>
<div>Request</div><pre>{{.Method}} {{.URL}}
{{headers .RequestHeaders}}
{{pretty .RequestBody}}</pre>
<div>Response</div><pre>{{if .Status}}{{.Status}}{{else}}{{.Error}}{{end}}
{{headers .ResponseHeaders}}
{{pretty .ResponseBody}}</pre>
</details>{{end}}
{{range .Outcomes}}<details class="exchange"><summary>validation of {{.Source}} against {{join .Profiles ", "}}: {{len .Issues}} issue(s)</summary>
<table>{{range .Issues}}<tr><td>{{.Severity}}</td><td>{{.Code}}</td><td>{{.Expression}}</td><td>{{.Message}}</td></tr>{{end}}</table>
</details>{{end}}
{{range .Received}}<details class="exchange"><summary>received {{.Method}} {{.Path}}</summary><pre>{{headers .Headers}}
{{pretty .Body}}</pre></details>{{end}}
</div>
{{end}}</div>
</details>
{{end}}</section>
</main>
<script>
(function () {
  var sel = {status: document.getElementById('f-status'), criterion: document.getElementById('f-criterion'), pack: document.getElementById('f-pack'), text: document.getElementById('f-text')};
  function read() {
    var f = {status: '', criterion: '', pack: '', text: ''};
    location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
      var i = kv.indexOf('=');
      if (i > 0) { var k = decodeURIComponent(kv.slice(0, i)); if (k in f) { f[k] = decodeURIComponent(kv.slice(i + 1)); } }
    });
    return f;
  }
  function apply(f) {
    Object.keys(sel).forEach(function (k) { sel[k].value = f[k]; });
    var text = f.text.toLowerCase(), shown = 0, all = document.querySelectorAll('details.scenario');
    all.forEach(function (el) {
      var ok = (!f.status || el.dataset.status === f.status) &&
        (!f.criterion || (' ' + el.dataset.criteria + ' ').indexOf(' ' + f.criterion + ' ') >= 0) &&
        (!f.pack || el.dataset.pack === f.pack) &&
        (!text || el.textContent.toLowerCase().indexOf(text) >= 0);
      el.hidden = !ok;
      if (ok) { shown++; }
    });
    document.querySelectorAll('tr.criterion').forEach(function (el) {
      el.hidden = !((!f.status || el.dataset.status === f.status) && (!f.criterion || el.dataset.criterion === f.criterion) && (!f.pack || el.dataset.pack === f.pack));
    });
    document.getElementById('shown').textContent = shown + ' of ' + all.length + ' scenarios shown';
    document.body.dataset.shown = String(shown);
  }
  function write() {
    var parts = [];
    Object.keys(sel).forEach(function (k) { if (sel[k].value) { parts.push(k + '=' + encodeURIComponent(sel[k].value)); } });
    history.replaceState(null, '', parts.length ? '#' + parts.join('&') : location.pathname + location.search);
    apply(read());
  }
  Object.keys(sel).forEach(function (k) { sel[k].addEventListener('input', write); });
  document.querySelectorAll('[data-filter-criterion]').forEach(function (el) {
    el.addEventListener('click', function () { sel.criterion.value = el.dataset.filterCriterion; write(); });
  });
  window.addEventListener('hashchange', function () { apply(read()); });
  apply(read());
})();
</script>
</body>
</html>
`
