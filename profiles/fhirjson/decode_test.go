package fhirjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func stdDecode(t testing.TB, data []byte) any {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("encoding/json rejects %q: %v", data, err)
	}
	return v
}

func TestDecodeMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{name: "resource", in: `{"resourceType":"Patient","id":"x","active":true,"name":[{"given":["A","B"]}],"deceasedBoolean":false,"x":null}`},
		{name: "numbers", in: `[0, -1, 1.50, 2e10, -3.25E-3, 12345678901234567890.000]`},
		{name: "escapes", in: `{"a":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","b":"é"}`},
		{name: "empty containers", in: ` { "a" : { } , "b" : [ ] } `},
		{name: "byte order mark", in: "\xEF\xBB\xBF{\"a\":1}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode([]byte(tc.in))
			require.NoError(t, err)
			assert.Equal(t, stdDecode(t, []byte(strings.TrimPrefix(tc.in, "\xEF\xBB\xBF"))), got)
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		kind       Kind
		line, col  int
		msgContain string
	}{
		{name: "duplicate key", in: "{\n  \"a\": 1,\n  \"a\": 2\n}", kind: KindDuplicateKey, line: 3, col: 3, msgContain: `duplicate JSON property "a"`},
		{name: "invalid utf-8", in: "{\"a\": \"\xff\xfe\"}", kind: KindInvalidUTF8, line: 1, col: 8},
		{name: "unpaired surrogate", in: `{"a": "\ud800x"}`, kind: KindInvalidUTF8},
		{name: "trailing comma", in: "{\"a\": 1,}", kind: KindSyntax, line: 1, col: 9},
		{name: "wrong close", in: "{\"a\": [1, 2}", kind: KindSyntax, line: 1, col: 12, msgContain: "expected ',' or ']'"},
		{name: "unquoted key", in: "{a: 1}", kind: KindSyntax, msgContain: "quoted property name"},
		{name: "comment", in: "{/* c */}", kind: KindSyntax},
		{name: "leading zero", in: "[01]", kind: KindSyntax},
		{name: "trailing garbage", in: "{} x", kind: KindTrailingData, msgContain: "after the end"},
		{name: "control character", in: "[\"a\tb\"]", kind: KindSyntax},
		{name: "truncated", in: `{"a": "b`, kind: KindSyntax, msgContain: "unterminated"},
		{name: "empty", in: ``, kind: KindSyntax},
		{name: "too deep", in: strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), kind: KindTooDeep},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.in))
			var se *SyntaxError
			require.True(t, errors.As(err, &se), "error %v", err)
			assert.Equal(t, tc.kind, se.Kind)
			if tc.line != 0 {
				assert.Equal(t, tc.line, se.Line, "line")
				assert.Equal(t, tc.col, se.Column, "column")
			}
			assert.Contains(t, se.Error(), tc.msgContain)
		})
	}
}

func TestDecodeAcceptsMaxDepth(t *testing.T) {
	in := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	_, err := Decode([]byte(in))
	assert.NoError(t, err)
}

func TestDecodeObject(t *testing.T) {
	_, err := DecodeObject([]byte(`[1]`))
	assert.ErrorIs(t, err, ErrNotObject)
	m, err := DecodeObject([]byte(`{"resourceType":"Basic"}`))
	require.NoError(t, err)
	assert.Equal(t, "Basic", m["resourceType"])
}

func TestLocate(t *testing.T) {
	doc := []byte("{\n  \"resourceType\": \"Patient\",\n  \"identifier\": [\n    {\"use\": \"x\"},\n    {\n      \"sys\\u0074em\": \"urn:a\",\n      \"value\": [1, {\"b\": 2}]\n    }\n  ]\n}")
	tests := []struct {
		name      string
		path      []Step
		line, col int
		ok        bool
	}{
		{name: "root", path: nil, line: 1, col: 1, ok: true},
		{name: "top key", path: []Step{Key("identifier")}, line: 3, col: 3, ok: true},
		{name: "array element", path: []Step{Key("identifier"), Index(1)}, line: 5, col: 5, ok: true},
		{name: "escaped key", path: []Step{Key("identifier"), Index(1), Key("system")}, line: 6, col: 7, ok: true},
		{name: "deep", path: []Step{Key("identifier"), Index(1), Key("value"), Index(1), Key("b")}, line: 7, col: 21, ok: true},
		{name: "missing key", path: []Step{Key("name")}, ok: false},
		{name: "index out of range", path: []Step{Key("identifier"), Index(2)}, ok: false},
		{name: "key into array", path: []Step{Key("identifier"), Key("use")}, ok: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			line, col, ok := Locate(doc, tc.path)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.line, line, "line")
			assert.Equal(t, tc.col, col, "column")
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":"c"}]}`, `{"a":"\u00e9","b":1e5}`, `[`, `{"a":1,"a":2}`, "\"\xff\"", `[-0.0e+1]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Decode(data)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || se.Column < 1 {
				t.Fatalf("error without position: %v", err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		assert.Equal(t, stdDecode(t, data), got)
		if m, ok := got.(map[string]any); ok {
			for k := range m {
				if _, _, found := Locate(data, []Step{Key(k)}); !found {
					t.Fatalf("cannot locate key %q", k)
				}
			}
		}
	})
}

func FuzzLocate(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":2}]}`), "a", 1, "b")
	f.Fuzz(func(t *testing.T, data []byte, k1 string, i int, k2 string) {
		p := []Step{Key(k1), Index(i), Key(k2)}
		l1, c1, ok1 := Locate(data, p)
		l2, c2, ok2 := NewLocator(data).Locate(p)
		if ok1 && (l1 != l2 || c1 != c2 || !ok2) {
			t.Fatalf("locator disagrees: %d:%d vs %d:%d", l1, c1, l2, c2)
		}
		var spans Spans
		if _, err := DecodeSpans(data, &spans); err == nil {
			l3, c3, ok3 := NewIndexedLocator(data, &spans).Locate(p)
			if l1 != l3 || c1 != c3 || ok1 != ok3 {
				t.Fatalf("indexed locator disagrees: %d:%d %v vs %d:%d %v", l1, c1, ok1, l3, c3, ok3)
			}
		}
	})
}

func TestLocatorMatchesLocate(t *testing.T) {
	doc := []byte("{\n  \"resourceType\": \"Patient\",\n  \"identifier\": [\n    {\"use\": \"x\"},\n    {\n      \"sys\\u0074em\": \"urn:a\",\n      \"value\": [1, {\"b\": 2}]\n    }\n  ]\n}")
	var spans Spans
	_, err := DecodeSpans(doc, &spans)
	require.NoError(t, err)
	plain, indexed := NewLocator(doc), NewIndexedLocator(doc, &spans)
	paths := [][]Step{
		nil,
		{Key("identifier")},
		{Key("identifier"), Index(1)},
		{Key("identifier"), Index(1), Key("system")},
		{Key("identifier"), Index(1), Key("value"), Index(1), Key("b")},
		{Key("name")},
		{Key("identifier"), Index(2)},
		{Key("identifier"), Key("use")},
	}
	for _, p := range paths {
		wl, wc, wok := Locate(doc, p)
		for _, l := range []*Locator{plain, indexed} {
			gl, gc, gok := l.Locate(p)
			assert.Equal(t, []any{wl, wc, wok}, []any{gl, gc, gok}, "path %v", p)
		}
	}
	// Asked backwards, after a Reset onto another document and back.
	indexed.Reset([]byte(`{"other": [{}]}`), nil)
	_, _, ok := indexed.Locate([]Step{Key("other"), Index(0)})
	require.True(t, ok)
	indexed.Reset(doc, &spans)
	for i := len(paths) - 1; i >= 0; i-- {
		wl, wc, wok := Locate(doc, paths[i])
		gl, gc, gok := indexed.Locate(paths[i])
		assert.Equal(t, []any{wl, wc, wok}, []any{gl, gc, gok}, "path %v asked backwards", paths[i])
	}
	// Asked back and forth until lines are indexed rather than counted.
	for round := 0; round < 20; round++ {
		for _, i := range []int{4, 0, 3, 1} {
			wl, wc, wok := Locate(doc, paths[i])
			gl, gc, gok := indexed.Locate(paths[i])
			require.Equal(t, []any{wl, wc, wok}, []any{gl, gc, gok}, "path %v in round %d", paths[i], round)
		}
	}
	assert.NotEmpty(t, indexed.lineStarts, "lines end up indexed")
}

// TestLocatorWorkIsBounded asks many positions of long documents, one of a
// single line, in and out of order: the bytes scanned to find lines and
// columns stay within a few passes over the document.
func TestLocatorWorkIsBounded(t *testing.T) {
	var oneLine, manyLines strings.Builder
	oneLine.WriteString(`{"entry": [`)
	manyLines.WriteString("{\"entry\": [\n")
	const n = 2000
	for i := 0; i < n; i++ {
		if i > 0 {
			oneLine.WriteString(",")
			manyLines.WriteString(",\n")
		}
		oneLine.WriteString(`{"id": "x"}`)
		manyLines.WriteString("  {\"id\": \"x\"}")
	}
	oneLine.WriteString("]}")
	manyLines.WriteString("\n]}")
	for _, doc := range [][]byte{[]byte(oneLine.String()), []byte(manyLines.String())} {
		var spans Spans
		_, err := DecodeSpans(doc, &spans)
		require.NoError(t, err)
		l := NewIndexedLocator(doc, &spans)
		for _, order := range [][]int{{0, 1, 2}, {2, 1, 0}} {
			for i := 0; i < n; i++ {
				j := i
				if order[0] == 2 {
					j = n - 1 - i
				}
				path := []Step{Key("entry"), Index(j), Key("id")}
				wl, wc, _ := Locate(doc, path)
				gl, gc, ok := l.Locate(path)
				require.True(t, ok)
				require.Equal(t, []int{wl, wc}, []int{gl, gc}, "entry %d", j)
			}
		}
		assert.LessOrEqual(t, l.counted, 6*len(doc), "bytes scanned for positions")
	}
}

func TestSpansRecordEveryContainer(t *testing.T) {
	doc := []byte(` {"a": [1, {"b": []}, "[{"], "c": {}}`)
	var spans Spans
	_, err := DecodeSpans(doc, &spans)
	require.NoError(t, err)
	for _, tc := range []struct{ start, end int }{{1, len(doc)}, {7, 27}, {11, 20}, {17, 19}, {34, 36}} {
		end, ok := spans.endOf(tc.start)
		assert.True(t, ok, "container at %d", tc.start)
		assert.Equal(t, tc.end, end, "end of the container at %d", tc.start)
	}
	_, ok := spans.endOf(2)
	assert.False(t, ok, "no container starts at 2")
	_, err = DecodeSpans([]byte(`{"a": [1,`), &spans)
	require.Error(t, err)
	_, err = DecodeSpans([]byte(`[]`), &spans)
	require.NoError(t, err)
	assert.Len(t, spans.start, 1, "a reused Spans starts empty")

	// Escaped strings decoded through a reused Spans stay intact.
	first, err := DecodeSpans([]byte(`{"a": "x\"y\u00e9", "b": ["\n\t"]}`), &spans)
	require.NoError(t, err)
	second, err := DecodeSpans([]byte(`{"c": "\\\\long\"er string\""}`), &spans)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"a": "x\"yé", "b": []any{"\n\t"}}, first)
	assert.Equal(t, map[string]any{"c": `\\long"er string"`}, second)
}

func plainASCIIByteByByte(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x80 || c == '\\' {
			return false
		}
	}
	return true
}

func TestPlainASCII(t *testing.T) {
	for _, s := range []string{"", "abc", "abcdefgh", "abcdefghi", "abcdefg\\", "\\abcdefghijklmno", "abcdefgh\x1f", "abcd\x7fefgh", "abcdefgh\x80", "\x00", " !\"#$%&'()*+,-./0123456789:;<=>?@[]^_`{|}~", "é"} {
		assert.Equal(t, plainASCIIByteByByte([]byte(s)), plainASCII([]byte(s)), "%q", s)
	}
}

func FuzzPlainASCII(f *testing.F) {
	f.Add([]byte("abcdefgh\\ij"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if plainASCIIByteByByte(b) != plainASCII(b) {
			t.Fatalf("plainASCII(%q) = %v", b, plainASCII(b))
		}
	})
}

func TestSpansCountIDs(t *testing.T) {
	var spans Spans
	_, err := DecodeSpans([]byte(`{"id": "a", "x": [{"id": "b"}, {"\u0069d": "c", "idx": "d"}], "y": "id"}`), &spans)
	require.NoError(t, err)
	assert.Equal(t, 3, spans.IDs(), "escaped names count; values and other names do not")
	_, err = DecodeSpans([]byte(`{}`), &spans)
	require.NoError(t, err)
	assert.Equal(t, 0, spans.IDs())
}
