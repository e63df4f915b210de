package fhirpath

import (
	"encoding/xml"
	"io"
	"strings"
)

func referenceOf(v Value) (string, bool) {
	switch x := v.(type) {
	case String:
		return string(x), true
	case *Node:
		switch d := x.data.(type) {
		case string:
			return d, true
		case map[string]any:
			r, ok := d["reference"].(string)
			return r, ok
		}
	}
	return "", false
}

func resolveFn(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
	var out Collection
	for _, v := range in {
		ref, ok := referenceOf(v)
		if !ok || ref == "" {
			continue
		}
		var from *Node
		if n, ok := v.(*Node); ok {
			from = n
		} else {
			from = c.input
		}
		if r := c.resolveReference(from, ref); r != nil {
			out = append(out, r)
		}
	}
	return out, nil
}

func (c *evalCtx) resolveReference(from *Node, ref string) *Node {
	if strings.HasPrefix(ref, "#") {
		root := rootResourceOf(from)
		if root == nil {
			return nil
		}
		if ref == "#" {
			return root
		}
		contained, _ := c.children(0, root, "contained", nil)
		for _, r := range contained {
			if n, ok := r.(*Node); ok {
				if m, ok := n.data.(map[string]any); ok && m["id"] == ref[1:] {
					return n
				}
			}
		}
		return nil
	}
	for n := from; n != nil; n = n.parent {
		m, ok := n.data.(map[string]any)
		if !ok || m["resourceType"] != "Bundle" {
			continue
		}
		if r := c.findInBundle(n, from, ref); r != nil {
			return r
		}
	}
	if c.options.Resolver != nil {
		if m, ok := c.options.Resolver.Resolve(c.ctx, ref); ok {
			t, _ := m["resourceType"].(string)
			return &Node{data: m, typ: t, doc: c.eng.doc}
		}
	}
	return nil
}

func (c *evalCtx) findInBundle(bundle, from *Node, ref string) *Node {
	entries, _ := c.children(0, bundle, "entry", nil)
	base := ""
	for n := from; n != nil && n != bundle; n = n.parent {
		if n.name == "entry" {
			if m, ok := n.data.(map[string]any); ok {
				if fu, ok := m["fullUrl"].(string); ok {
					base = fu
				}
			}
		}
	}
	want := ref
	if !strings.Contains(ref, "://") && !strings.HasPrefix(ref, "urn:") && strings.Contains(base, "://") {
		if i := strings.LastIndexByte(base, '/'); i > 0 {
			if j := strings.LastIndexByte(base[:i], '/'); j > 0 {
				want = base[:j+1] + ref
			}
		}
	}
	for _, ev := range entries {
		en := ev.(*Node)
		m, ok := en.data.(map[string]any)
		if !ok {
			continue
		}
		res, _ := c.children(0, en, "resource", nil)
		if len(res) == 0 {
			continue
		}
		fu, _ := m["fullUrl"].(string)
		if fu != "" && (fu == want || fu == ref) {
			return res[0].(*Node)
		}
		rm, _ := res[0].(*Node).data.(map[string]any)
		if rt, ok := rm["resourceType"].(string); ok {
			if id, ok := rm["id"].(string); ok && (rt+"/"+id == ref || strings.HasSuffix(ref, "/"+rt+"/"+id)) && fu == "" {
				return res[0].(*Node)
			}
		}
	}
	return nil
}

const baseProfilePrefix = "http://hl7.org/fhir/StructureDefinition/"

func conformsToFn(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
	url, ok, err := c.stringArg(e, 0, focus)
	if err != nil || !ok {
		return nil, err
	}
	var out Collection
	for _, v := range in {
		n, ok := v.(*Node)
		if !ok {
			return nil, c.errorf(e.at, "conformsTo() applies to resources")
		}
		if c.options.Profiles != nil {
			m, _ := n.data.(map[string]any)
			conforms, known, err := c.options.Profiles.ConformsTo(c.ctx, m, url)
			if err != nil {
				return nil, c.errorf(e.at, "conformsTo(%s): %v", url, err)
			}
			if known {
				out = append(out, Boolean(conforms))
				continue
			}
		}
		if strings.HasPrefix(url, baseProfilePrefix) {
			t := url[len(baseProfilePrefix):]
			if c.model != nil && c.model.HasType(t) {
				out = append(out, Boolean(derivesFrom(c.model, n.typ, t)))
				continue
			}
		}
		return nil, c.errorf(e.at, "conformsTo(): profile %s is not available", url)
	}
	return out, nil
}

// codings lists the system|code pairs of a code, Coding or CodeableConcept item.
func codings(v Value) [][2]string {
	switch x := v.(type) {
	case String:
		return [][2]string{{"", string(x)}}
	case *Node:
		switch d := x.data.(type) {
		case string:
			return [][2]string{{"", d}}
		case map[string]any:
			if list, ok := d["coding"].([]any); ok {
				var out [][2]string
				for _, item := range list {
					if m, ok := item.(map[string]any); ok {
						s, _ := m["system"].(string)
						cd, _ := m["code"].(string)
						out = append(out, [2]string{s, cd})
					}
				}
				return out
			}
			if cd, ok := d["code"].(string); ok {
				s, _ := d["system"].(string)
				return [][2]string{{s, cd}}
			}
		}
	}
	return nil
}

func memberOfFn(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
	vs, ok, err := c.stringArg(e, 0, focus)
	if err != nil || !ok || len(in) == 0 {
		return nil, err
	}
	if len(in) > 1 {
		return nil, c.errorf(e.at, "memberOf() needs a single input item, got %d", len(in))
	}
	if c.options.Terminology == nil {
		return nil, nil
	}
	unknown := false
	for _, sc := range codings(in[0]) {
		member, known, err := c.options.Terminology.MemberOf(c.ctx, vs, sc[0], sc[1])
		if err != nil {
			return nil, c.errorf(e.at, "memberOf(%s): %v", vs, err)
		}
		if !known {
			unknown = true
			continue
		}
		if member {
			return boolResult(true)
		}
	}
	if unknown {
		return nil, nil
	}
	return boolResult(false)
}

func subsumesFn(reverse bool) func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
	return func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
		other, err := c.arg(e, 0, focus)
		if err != nil || len(in) != 1 || len(other) != 1 || c.options.Terminology == nil {
			return nil, err
		}
		a, b := codings(in[0]), codings(other[0])
		if len(a) == 0 || len(b) == 0 {
			return nil, nil
		}
		if reverse {
			a, b = b, a
		}
		if a[0][0] != b[0][0] && a[0][0] != "" && b[0][0] != "" {
			return boolResult(false)
		}
		sys := a[0][0]
		if sys == "" {
			sys = b[0][0]
		}
		res, known, err := c.options.Terminology.Subsumes(c.ctx, sys, a[0][1], b[0][1])
		if err != nil {
			return nil, c.errorf(e.at, "%s(): %v", e.name, err)
		}
		if !known {
			return nil, nil
		}
		return boolResult(res)
	}
}

var forbiddenHTML = map[string]bool{
	"script": true, "object": true, "applet": true, "embed": true, "iframe": true, "frame": true,
	"frameset": true, "form": true, "input": true, "button": true, "select": true, "textarea": true,
	"base": true, "link": true, "meta": true, "style": true, "head": true, "body": true, "html": true, "title": true,
}

// htmlChecksFn implements htmlChecks(): the narrative is well-formed XHTML
// rooted in a div with no active content.
func htmlChecksFn(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
	if len(in) == 0 {
		return boolResult(false)
	}
	for _, v := range in {
		p, _ := primitive(v)
		s, ok := p.(String)
		if !ok {
			return boolResult(false)
		}
		if !xhtmlSafe(string(s)) {
			return boolResult(false)
		}
	}
	return boolResult(true)
}

func xhtmlSafe(s string) bool {
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	d.Entity = xml.HTMLEntity
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return depth == 0 && roots == 1
		}
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if t.Name.Local != "div" {
					return false
				}
			}
			if forbiddenHTML[strings.ToLower(t.Name.Local)] {
				return false
			}
			for _, a := range t.Attr {
				name := strings.ToLower(a.Name.Local)
				if strings.HasPrefix(name, "on") {
					return false
				}
				if (name == "href" || name == "src") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Value)), "javascript:") {
					return false
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && strings.TrimSpace(string(t)) != "" {
				return false
			}
		}
	}
}
