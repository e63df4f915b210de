package validate

import (
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"sort"
	"strings"
)

const xhtmlNS = "http://www.w3.org/1999/xhtml"

// xhtmlElements are the HTML elements FHIR narrative may use (no script,
// form, style or embedded objects).
var xhtmlElements = setOf("p", "br", "div", "h1", "h2", "h3", "h4", "h5", "h6", "a", "span", "b", "em", "i", "strong",
	"small", "big", "tt", "small", "dfn", "q", "var", "abbr", "acronym", "cite", "blockquote", "hr", "address", "bdo", "kbd", "samp", "code",
	"ins", "del", "sub", "sup", "ul", "ol", "li", "dl", "dt", "dd", "pre", "table", "caption", "colgroup", "col", "thead", "tr", "tfoot",
	"tbody", "th", "td", "img", "map", "area", "u", "s", "strike", "font", "center", "section", "header", "footer", "article", "aside", "nav", "figure", "figcaption", "mark", "time", "wbr", "label")

var xhtmlAttributes = setOf("title", "style", "xml:space", "class", "id", "lang", "xml:lang", "dir", "accesskey", "tabindex",
	"href", "name", "xmlns", "src", "alt", "width", "height", "border", "cellpadding", "cellspacing", "colspan", "rowspan", "span",
	"align", "valign", "char", "charoff", "abbr", "axis", "headers", "scope", "summary", "frame", "rules", "start", "type", "value",
	"compact", "cite", "datetime", "shape", "coords", "nohref", "usemap", "longdesc", "hreflang", "rel", "rev", "charset", "target",
	"size", "color", "face", "bgcolor", "nowrap", "hspace", "vspace", "clear", "noshade", "ismap", "reversed")

var hyperlinkSchemes = setOf("http", "https", "mailto", "tel", "ftp", "data", "sms", "urn")

func setOf(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}

var errXHTMLRoot = errors.New("the narrative must be a div element in the XHTML namespace")

// xhtml checks a narrative div: well-formed XML, an XHTML div root, and only
// the elements and attributes FHIR allows.
func (r *run) xhtml(s string) {
	if xhtmlClean(s) {
		return
	}
	dec := xml.NewDecoder(strings.NewReader(s))
	dec.Strict = true
	depth := 0
	root := true
	content := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.errorf("invalid", "xhtml-malformed", "The narrative is not well-formed XHTML: %v", err)
			return
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !root && depth == 0 {
				r.errorf("invalid", "xhtml-after-root", "The narrative has content after its root div")
				return
			}
			depth++
			if depth > 200 {
				r.errorf("invalid", "xhtml-too-deep", "The narrative nests elements too deeply")
				return
			}
			if root {
				root = false
				if t.Name.Local != "div" || t.Name.Space != xhtmlNS {
					r.errorf("invalid", "xhtml-root", "%s (found %s in namespace '%s')", errXHTMLRoot.Error(), t.Name.Local, t.Name.Space)
					return
				}
			}
			if t.Name.Space != xhtmlNS {
				r.errorf("invalid", "xhtml-namespace", "Wrong namespace on the XHTML element '%s' ('%s')", t.Name.Local, t.Name.Space)
				continue
			}
			if t.Name.Local == "img" {
				content = true
			}
			if !xhtmlElements[t.Name.Local] {
				r.errorf("invalid", "xhtml-element", "Illegal element name in the XHTML ('%s')", t.Name.Local)
			}
			for _, a := range t.Attr {
				name := a.Name.Local
				if a.Name.Space == "xmlns" || name == "xmlns" {
					continue
				}
				if a.Name.Space == "http://www.w3.org/XML/1998/namespace" {
					name = "xml:" + name
				}
				if !xhtmlAttributes[name] {
					r.errorf("invalid", "xhtml-attribute", "Illegal attribute name in the XHTML ('%s' on '%s')", name, t.Name.Local)
				}
				if name == "href" && t.Name.Local == "a" {
					r.hyperlink(a.Value)
				}
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				if !root && depth == 0 {
					r.errorf("invalid", "xhtml-after-root", "The narrative has content after its root div")
					return
				}
				content = true
			}
		case xml.ProcInst:
			if t.Target != "xml" {
				r.errorf("invalid", "xhtml-processing-instruction", "Processing instructions are not allowed in the narrative")
			}
		}
	}
	if root {
		r.errorf("invalid", "xhtml-root", "%s", errXHTMLRoot.Error())
		return
	}
	if !content {
		r.errorf("invariant", "constraint-txt-2", "Constraint failed: txt-2: 'The narrative SHALL have some non-whitespace content' (defined in http://hl7.org/fhir/StructureDefinition/Narrative)")
	}
}

func (r *run) hyperlink(href string) {
	i := strings.IndexByte(href, ':')
	if i <= 0 || strings.ContainsAny(href[:i], "/?#") {
		return
	}
	scheme := strings.ToLower(href[:i])
	if scheme == "urn" || !hyperlinkSchemes[scheme] {
		r.errorf("invalid", "xhtml-hyperlink-scheme", "Hyperlink scheme '%s' in '%s' is not a valid hyperlinkable scheme", scheme, href)
	}
}

var reLangAttr = regexp.MustCompile(`\s(?:xml:)?lang=["']([^"']+)["']`)

// narrativeLanguages applies the narrative-language-control extension of a
// profile: language sections required (_yes), prohibited (_no), required for
// the resource's language (_resource) or for the listed languages.
func (r *run) narrativeLanguages(n *node, val any) {
	m, _ := val.(map[string]any)
	div, _ := m["div"].(string)
	langs := map[string]bool{}
	body := div
	if i := strings.IndexByte(body, '>'); i >= 0 {
		body = body[i+1:]
	}
	for _, g := range reLangAttr.FindAllStringSubmatch(body, -1) {
		langs[g[1]] = true
	}
	names := make([]string, 0, len(langs))
	for l := range langs {
		names = append(names, l)
	}
	sort.Strings(names)
	for _, c := range n.langControl {
		switch c {
		case "_yes":
			if len(langs) == 0 {
				r.errorf("business-rule", "narrative-language-required", "The xhtml has no language sections, but language sections are required in this context by the profile %s", canonicalOf(n.owner))
			}
		case "_no":
			if len(langs) > 0 {
				r.errorf("business-rule", "narrative-language-prohibited", "The xhtml has some language sections (%s), but language sections are prohibited in this context by the profile %s", strings.Join(names, ", "), canonicalOf(n.owner))
			}
		case "_resource":
			lang := ""
			if len(r.resources) > 0 {
				lang, _ = r.resources[len(r.resources)-1]["language"].(string)
			}
			if lang != "" && !langs[lang] {
				r.errorf("business-rule", "narrative-language-missing", "The profile %s requires a section in the narrative for the resource language %s", canonicalOf(n.owner), lang)
			}
		default:
			if !langs[c] {
				r.errorf("business-rule", "narrative-language-missing", "The profile %s requires a section in the narrative for the language %s", canonicalOf(n.owner), c)
			}
		}
	}
}
