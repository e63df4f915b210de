package validate

import "strings"

// xhtmlClean is a fast recogniser for the common narrative: it returns true
// only when the XHTML is certainly well-formed, rooted in an XHTML div, uses
// allowed elements, attributes and hyperlink schemes, only the XML entities,
// and has content. Anything else goes to the full check, which explains
// what is wrong.
func xhtmlClean(s string) bool {
	i := 0
	skipSpace := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
			i++
		}
	}
	skipSpace()
	if !strings.HasPrefix(s[i:], "<div") {
		return false
	}
	var stack []string
	content := false
	root := true
	for i < len(s) {
		if s[i] != '<' {
			// A run of text up to the next tag: no '>', known entities only.
			j := strings.IndexByte(s[i:], '<')
			if j < 0 {
				j = len(s) - i
			}
			text := s[i : i+j]
			if strings.IndexByte(text, '>') >= 0 {
				return false
			}
			for {
				a := strings.IndexByte(text, '&')
				if a < 0 {
					break
				}
				end := strings.IndexByte(text[a:], ';')
				if end < 0 || !knownEntity(text[a+1:a+end]) {
					return false
				}
				content = true
				text = text[a+end+1:]
			}
			if !content && strings.TrimLeft(text, " \t\r\n") != "" {
				content = true
			}
			i += j
			continue
		}
		if strings.HasPrefix(s[i:], "<!--") {
			end := strings.Index(s[i+4:], "-->")
			if end < 0 {
				return false
			}
			i += 4 + end + 3
			continue
		}
		if i+1 < len(s) && s[i+1] == '/' {
			j := i + 2
			for j < len(s) && isNameByte(s[j]) {
				j++
			}
			name := s[i+2 : j]
			for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n') {
				j++
			}
			if j >= len(s) || s[j] != '>' || len(stack) == 0 || stack[len(stack)-1] != name {
				return false
			}
			stack = stack[:len(stack)-1]
			i = j + 1
			if len(stack) == 0 {
				skipSpace()
				return i == len(s) && content
			}
			continue
		}
		j := i + 1
		for j < len(s) && isNameByte(s[j]) {
			j++
		}
		name := s[i+1 : j]
		if name == "" || !xhtmlElements[name] {
			return false
		}
		if name == "img" {
			content = true
		}
		sawNS := false
		for {
			k := j
			for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n') {
				j++
			}
			if j >= len(s) {
				return false
			}
			if s[j] == '>' || (s[j] == '/' && j+1 < len(s) && s[j+1] == '>') {
				break
			}
			if j == k {
				return false
			}
			a := j
			for j < len(s) && (isNameByte(s[j]) || s[j] == ':') {
				j++
			}
			attr := s[a:j]
			if j >= len(s) || s[j] != '=' || j+1 >= len(s) || (s[j+1] != '"' && s[j+1] != '\'') {
				return false
			}
			q := s[j+1]
			end := strings.IndexByte(s[j+2:], q)
			if end < 0 {
				return false
			}
			val := s[j+2 : j+2+end]
			if strings.ContainsAny(val, "<&") {
				return false
			}
			j = j + 2 + end + 1
			switch {
			case attr == "xmlns":
				if val != xhtmlNS {
					return false
				}
				sawNS = true
			case strings.Contains(attr, ":") && attr != "xml:lang" && attr != "xml:space":
				return false
			case !xhtmlAttributes[attr]:
				return false
			case attr == "href" && name == "a":
				if k := strings.IndexByte(val, ':'); k > 0 && !strings.ContainsAny(val[:k], "/?#") {
					scheme := strings.ToLower(val[:k])
					if scheme == "urn" || !hyperlinkSchemes[scheme] {
						return false
					}
				}
			}
		}
		if root {
			if name != "div" || !sawNS {
				return false
			}
			root = false
		}
		if s[j] == '/' {
			i = j + 2
			if len(stack) == 0 {
				return false
			}
			continue
		}
		stack = append(stack, name)
		i = j + 1
	}
	return false
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
}

func knownEntity(e string) bool {
	switch e {
	case "amp", "lt", "gt", "quot", "apos":
		return true
	}
	if len(e) < 2 || e[0] != '#' {
		return false
	}
	digitsOnly := e[1:]
	hex := false
	if digitsOnly[0] == 'x' || digitsOnly[0] == 'X' {
		hex, digitsOnly = true, digitsOnly[1:]
	}
	if digitsOnly == "" || len(digitsOnly) > 8 {
		return false
	}
	for i := 0; i < len(digitsOnly); i++ {
		c := digitsOnly[i]
		if !(c >= '0' && c <= '9' || hex && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
			return false
		}
	}
	return true
}
