package validate

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nhsconform/conform/conformance"
)

// xhtmlIssues runs the full XHTML check and reports whether it found an error.
func xhtmlIssues(s string) bool {
	r := &run{path: []seg{{expr: "Patient", index: -1}}, nodes: nil}
	r.xhtml(s)
	for _, is := range r.issues {
		if is.Severity == conformance.SeverityError {
			return true
		}
	}
	return false
}

func TestXHTML(t *testing.T) {
	tests := []struct {
		name    string
		div     string
		invalid bool
	}{
		{name: "plain", div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>Hello &amp; <b>bye</b></p><br/></div>`},
		{name: "table with attributes", div: `<div xmlns="http://www.w3.org/1999/xhtml"><table class="grid"><tr><td colspan="2">x</td></tr></table></div>`},
		{name: "image only", div: `<div xmlns="http://www.w3.org/1999/xhtml"><img src="#a" alt="x"/></div>`},
		{name: "comment", div: `<div xmlns="http://www.w3.org/1999/xhtml"><!-- c -->text</div>`},
		{name: "numeric entity", div: `<div xmlns="http://www.w3.org/1999/xhtml">&#169; &#xA9;</div>`},
		{name: "html entity", div: `<div xmlns="http://www.w3.org/1999/xhtml">&reg;</div>`, invalid: true},
		{name: "script", div: `<div xmlns="http://www.w3.org/1999/xhtml"><script>x</script></div>`, invalid: true},
		{name: "event attribute", div: `<div xmlns="http://www.w3.org/1999/xhtml"><p onclick="x()">a</p></div>`, invalid: true},
		{name: "no namespace", div: `<div><p>a</p></div>`, invalid: true},
		{name: "not a div", div: `<p xmlns="http://www.w3.org/1999/xhtml">a</p>`, invalid: true},
		{name: "unclosed", div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>a</div>`, invalid: true},
		{name: "empty", div: `<div xmlns="http://www.w3.org/1999/xhtml">  </div>`, invalid: true},
		{name: "javascript link", div: `<div xmlns="http://www.w3.org/1999/xhtml"><a href="javascript:alert(1)">a</a></div>`, invalid: true},
		{name: "urn link", div: `<div xmlns="http://www.w3.org/1999/xhtml"><a href="urn:uuid:1">a</a></div>`, invalid: true},
		{name: "http link", div: `<div xmlns="http://www.w3.org/1999/xhtml"><a href="http://example.org/x">a</a></div>`},
		{name: "trailing text", div: `<div xmlns="http://www.w3.org/1999/xhtml">a</div>b`, invalid: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.invalid, xhtmlIssues(tc.div))
			if xhtmlClean(tc.div) {
				assert.False(t, tc.invalid, "the fast path accepted an invalid narrative")
			}
		})
	}
}

func FuzzXHTMLFastPath(f *testing.F) {
	f.Add(`<div xmlns="http://www.w3.org/1999/xhtml"><p>a &amp; b</p></div>`)
	f.Add(`<div xmlns="http://www.w3.org/1999/xhtml"><a href="#x">x</a><img src="y"/></div>`)
	f.Fuzz(func(t *testing.T, s string) {
		if xhtmlClean(s) && xhtmlIssues(s) {
			t.Fatalf("fast path accepts %q, the full check rejects it", s)
		}
	})
}
