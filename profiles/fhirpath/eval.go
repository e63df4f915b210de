package fhirpath

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

type evalCtx struct {
	ctx     context.Context
	eng     *Engine
	model   Model
	src     string
	strict  bool
	env     map[string]Collection
	input   *Node
	this    Collection
	index   int
	total   Collection
	steps   int
	options *Options
	tables  tableModel
	// descendants memoises descendants() of single nodes within one evaluation.
	descendants map[*Node]Collection
	// focus backs the one-node input collection of an evaluation.
	focus [1]Value
}

func (c *evalCtx) errorf(at int, format string, args ...any) error {
	return &Error{Kind: ExecutionError, Pos: positionOf(c.src, at), Msg: fmt.Sprintf(format, args...)}
}

func (c *evalCtx) semanticf(at int, format string, args ...any) error {
	return &Error{Kind: SemanticError, Pos: positionOf(c.src, at), Msg: fmt.Sprintf(format, args...)}
}

// tick counts work and stops runaway evaluations.
func (c *evalCtx) tick(at, n int) error {
	c.steps += n
	if c.steps > c.options.MaxSteps {
		return c.errorf(at, "evaluation exceeded %d steps", c.options.MaxSteps)
	}
	if c.steps&0x3fff < n || n > 0x3fff {
		if err := c.ctx.Err(); err != nil {
			return c.errorf(at, "evaluation stopped: %v", err)
		}
	}
	return nil
}

func (c *evalCtx) checkSize(at int, col Collection) error {
	if len(col) > c.options.MaxItems {
		return c.errorf(at, "collection exceeds %d items", c.options.MaxItems)
	}
	return nil
}

func (e *litExpr) eval(c *evalCtx, focus Collection) (Collection, error) { return e.val, nil }

func (e *thisExpr) eval(c *evalCtx, focus Collection) (Collection, error) { return c.this, nil }

func (e *indexVarExpr) eval(c *evalCtx, focus Collection) (Collection, error) {
	return Collection{Integer(c.index)}, nil
}

func (e *totalExpr) eval(c *evalCtx, focus Collection) (Collection, error) { return c.total, nil }

// maxStringLength bounds the strings an evaluation can build.
const maxStringLength = 1 << 24

var wellKnownConstants = map[string]string{
	"sct":   "http://snomed.info/sct",
	"loinc": "http://loinc.org",
	"ucum":  "http://unitsofmeasure.org",
}

func (e *envExpr) eval(c *evalCtx, focus Collection) (Collection, error) {
	if v, ok := c.env[e.name]; ok {
		return v, nil
	}
	switch e.name {
	case "context":
		if c.input != nil {
			return Collection{c.input}, nil
		}
		return nil, nil
	case "resource":
		if r := resourceOf(c.input); r != nil {
			return Collection{r}, nil
		}
		return nil, nil
	case "rootResource":
		if r := rootResourceOf(c.input); r != nil {
			return Collection{r}, nil
		}
		return nil, nil
	}
	if u, ok := wellKnownConstants[e.name]; ok {
		return Collection{String(u)}, nil
	}
	if strings.HasPrefix(e.name, "vs-") {
		return Collection{String("http://hl7.org/fhir/ValueSet/" + e.name[3:])}, nil
	}
	if strings.HasPrefix(e.name, "ext-") {
		return Collection{String("http://hl7.org/fhir/StructureDefinition/" + e.name[4:])}, nil
	}
	return nil, c.semanticf(e.at, "unknown variable %%%s", e.name)
}

func resourceOf(n *Node) *Node {
	for ; n != nil; n = n.parent {
		if n.isResource() {
			return n
		}
	}
	return nil
}

func rootResourceOf(n *Node) *Node {
	r := resourceOf(n)
	for r != nil && r.parent != nil && r.name == "contained" {
		up := resourceOf(r.parent)
		if up == nil {
			break
		}
		r = up
	}
	return r
}

func (e *memberExpr) eval(c *evalCtx, focus Collection) (Collection, error) {
	in := focus
	if e.target != nil {
		var err error
		if in, err = e.target.eval(c, focus); err != nil {
			return nil, err
		}
	} else if e.name != "" && e.name[0] >= 'A' && e.name[0] <= 'Z' {
		if out, handled, err := c.typeRoot(e, focus); handled {
			return out, err
		}
	}
	var out Collection
	for _, v := range in {
		n, ok := v.(*Node)
		if !ok {
			continue
		}
		var err error
		if out, err = c.children(e.at, n, e.name, out); err != nil {
			return nil, err
		}
	}
	if err := c.tick(e.at, len(out)+1); err != nil {
		return nil, err
	}
	return out, nil
}

// typeRoot handles a path that starts with a type name, as in Patient.name.
func (c *evalCtx) typeRoot(e *memberExpr, focus Collection) (Collection, bool, error) {
	var out Collection
	matched := false
	for _, v := range focus {
		n, ok := v.(*Node)
		if !ok {
			continue
		}
		if n.typ == e.name || derivesFrom(c.model, n.typ, e.name) {
			out = append(out, n)
			matched = true
		}
	}
	if matched {
		return out, true, nil
	}
	known := c.model != nil && c.model.HasType(e.name)
	if c.model == nil {
		known = true
		for _, v := range focus {
			if n, ok := v.(*Node); ok {
				if m, ok := n.object(); ok {
					if _, has := m[e.name]; has {
						known = false
					}
				}
			}
		}
	}
	if !known {
		return nil, false, nil
	}
	if c.strict && len(focus) > 0 {
		return nil, true, c.semanticf(e.at, "the expression starts with type %s but the input is %s", e.name, typeNames(focus))
	}
	return nil, true, nil
}

func typeNames(col Collection) string {
	var names []string
	for _, v := range col {
		names = append(names, v.Type().String())
	}
	return strings.Join(names, ", ")
}

// children appends the children called name of node n to out.
func (c *evalCtx) children(at int, n *Node, name string, out Collection) (Collection, error) {
	obj, ok := n.data.(map[string]any)
	if !ok {
		if n.ext == nil {
			return out, nil
		}
		obj = n.ext
	}
	if c.model != nil && n.typ != "" && !strings.HasPrefix(n.typ, "System.") {
		def := n.def
		if def == "" {
			def = n.typ
		}
		if !ok {
			def = "Element"
		}
		if tm := c.tables; tm != nil {
			tbl := n.tbl
			if tbl == nil || !ok {
				tbl = tm.rootTable(def)
			}
			if e := tbl.entries[name]; e != nil {
				return c.typedChildren(n, obj, name, e.info, e, out), nil
			}
		} else if info, found := c.model.Child(def, name); found {
			return c.typedChildren(n, obj, name, info, nil, out), nil
		}
		if !n.poly() && !c.options.NoPathChecks {
			if _, raw := obj[name]; !raw {
				return out, c.semanticf(at, "%s has no element %s", n.typ, name)
			}
		}
		if c.tables != nil {
			if _, raw := obj[name]; !raw {
				return out, nil
			}
		}
	}
	return c.untypedChildren(n, obj, name, out), nil
}

func (n *Node) poly() bool { return n.flags&flagPoly != 0 }

const flagPoly = 1

func (c *evalCtx) typedChildren(n *Node, obj map[string]any, name string, info ElementInfo, ent *entry, out Collection) Collection {
	if len(info.Types) > 1 {
		for key, v := range obj {
			if len(key) <= len(name) || !strings.HasPrefix(key, name) {
				continue
			}
			suffix := key[len(name):]
			for _, t := range info.Types {
				if upperFirst(t) == suffix {
					out = appendValues(out, n, name, t, "", v, obj["_"+key], flagPoly)
					break
				}
			}
		}
		for key, v := range obj {
			if len(key) <= len(name)+1 || key[0] != '_' || !strings.HasPrefix(key[1:], name) {
				continue
			}
			if _, has := obj[key[1:]]; has {
				continue
			}
			suffix := key[1+len(name):]
			for _, t := range info.Types {
				if upperFirst(t) == suffix {
					out = appendValues(out, n, name, t, "", nil, v, flagPoly)
					break
				}
			}
		}
		return out
	}
	typ := ""
	if len(info.Types) == 1 {
		typ = info.Types[0]
	}
	var flags uint8
	if typ == "Resource" || typ == "DomainResource" {
		flags = flagPoly
	}
	start := len(out)
	var extKey string
	if ent != nil {
		extKey = ent.ext
	} else {
		extKey = "_" + name
	}
	out = appendValues(out, n, name, typ, info.Path, obj[name], obj[extKey], flags)
	if ent != nil && flags == 0 && len(out) > start {
		sub := c.tables.subTable(ent)
		for _, v := range out[start:] {
			v.(*Node).tbl = sub
		}
	}
	return out
}

func appendValues(out Collection, parent *Node, name, typ, def string, v any, ext any, flags uint8) Collection {
	switch vv := v.(type) {
	case []any:
		exts, _ := ext.([]any)
		if out == nil {
			out = make(Collection, 0, len(vv))
		}
		var slab []Node
		if typ != "" && typ != "Resource" && typ != "DomainResource" {
			slab = make([]Node, len(vv))
		}
		for i, item := range vv {
			var e map[string]any
			if i < len(exts) {
				e, _ = exts[i].(map[string]any)
			}
			if item == nil && e == nil {
				continue
			}
			if slab != nil {
				slab[i] = Node{data: item, ext: e, typ: typ, def: def, name: name, parent: parent, doc: parent.doc, flags: flags}
				out = append(out, &slab[i])
				continue
			}
			out = append(out, newChild(parent, name, typ, def, item, e, flags))
		}
		for i := len(vv); i < len(exts); i++ {
			if e, ok := exts[i].(map[string]any); ok {
				out = append(out, newChild(parent, name, typ, def, nil, e, flags))
			}
		}
		return out
	case nil:
		switch e := ext.(type) {
		case map[string]any:
			return append(out, newChild(parent, name, typ, def, nil, e, flags))
		case []any:
			for _, item := range e {
				if m, ok := item.(map[string]any); ok {
					out = append(out, newChild(parent, name, typ, def, nil, m, flags))
				}
			}
		}
		return out
	default:
		e, _ := ext.(map[string]any)
		return append(out, newChild(parent, name, typ, def, v, e, flags))
	}
}

func newChild(parent *Node, name, typ, def string, v any, ext map[string]any, flags uint8) *Node {
	if typ != "" && typ != "Resource" && typ != "DomainResource" {
		return &Node{data: v, ext: ext, typ: typ, def: def, name: name, parent: parent, doc: parent.doc, flags: flags}
	}
	if m, ok := v.(map[string]any); ok {
		if rt, ok := m["resourceType"].(string); ok {
			typ, def = rt, ""
		}
	}
	return &Node{data: v, ext: ext, typ: typ, def: def, name: name, parent: parent, doc: parent.doc, flags: flags}
}

func (c *evalCtx) untypedChildren(n *Node, obj map[string]any, name string, out Collection) Collection {
	if v, ok := obj[name]; ok {
		return appendValues(out, n, name, guessType(v), "", v, obj["_"+name], flagPoly)
	}
	if ext, ok := obj["_"+name]; ok {
		return appendValues(out, n, name, "", "", nil, ext, flagPoly)
	}
	for key, v := range obj {
		if len(key) > len(name) && strings.HasPrefix(key, name) && key[len(name)] >= 'A' && key[len(name)] <= 'Z' {
			suffix := key[len(name):]
			typ := suffix
			if IsPrimitiveType(lowerFirst(suffix)) {
				typ = lowerFirst(suffix)
			}
			out = appendValues(out, n, name, typ, "", v, obj["_"+key], flagPoly)
		}
	}
	return out
}

func guessType(v any) string {
	if m, ok := v.(map[string]any); ok {
		if rt, ok := m["resourceType"].(string); ok {
			return rt
		}
	}
	return ""
}

// allChildren returns every child element of a node, in document order of its keys.
func (c *evalCtx) allChildren(n *Node, out Collection) Collection {
	obj, ok := n.data.(map[string]any)
	if !ok {
		if n.ext == nil {
			return out
		}
		obj = n.ext
	}
	keys, hasExt := sortedKeys(obj)
	for _, key := range keys {
		if key == "resourceType" || key == "fhir_comments" || key == "" {
			continue
		}
		raw := key
		if key[0] == '_' {
			raw = key[1:]
			if _, has := obj[raw]; has {
				continue
			}
		}
		name, typ, def := c.elementOfKey(n, raw)
		var v, ext any
		if key[0] != '_' {
			v = obj[key]
		}
		if hasExt {
			ext = obj["_"+raw]
		}
		out = appendValues(out, n, name, typ, def, v, ext, flagPoly)
	}
	return out
}

// elementOfKey maps a JSON property to its element name and type.
func (c *evalCtx) elementOfKey(n *Node, key string) (string, string, string) {
	if c.model == nil || n.typ == "" {
		return key, "", ""
	}
	def := n.def
	if def == "" {
		def = n.typ
	}
	if _, ok := n.data.(map[string]any); !ok {
		def = "Element"
	}
	if info, ok := c.model.Child(def, key); ok && len(info.Types) <= 1 {
		t := ""
		if len(info.Types) == 1 {
			t = info.Types[0]
		}
		return key, t, info.Path
	}
	for i := len(key) - 1; i > 0; i-- {
		if key[i] < 'A' || key[i] > 'Z' {
			continue
		}
		if info, ok := c.model.Child(def, key[:i]); ok {
			for _, t := range info.Types {
				if upperFirst(t) == key[i:] {
					return key[:i], t, ""
				}
			}
		}
	}
	return key, "", ""
}

func sortedKeys(m map[string]any) ([]string, bool) {
	keys := make([]string, 0, len(m))
	hasExt := false
	for k := range m {
		keys = append(keys, k)
		if k != "" && k[0] == '_' {
			hasExt = true
		}
	}
	if len(keys) > 16 {
		sort.Strings(keys)
		return keys, hasExt
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys, hasExt
}

func (e *indexerExpr) eval(c *evalCtx, focus Collection) (Collection, error) {
	in, err := e.target.eval(c, focus)
	if err != nil {
		return nil, err
	}
	idx, err := e.index.eval(c, c.this)
	if err != nil {
		return nil, err
	}
	if len(idx) == 0 {
		return nil, nil
	}
	i, ok := idx[0].(Integer)
	if len(idx) != 1 || !ok {
		return nil, c.errorf(e.at, "index must be a single integer")
	}
	if i < 0 || int(i) >= len(in) {
		return nil, nil
	}
	return Collection{in[i]}, nil
}

func (e *unaryExpr) eval(c *evalCtx, focus Collection) (Collection, error) {
	in, err := e.x.eval(c, focus)
	if err != nil {
		return nil, err
	}
	if e.op == '+' || len(in) == 0 {
		return in, nil
	}
	if len(in) > 1 {
		return nil, c.errorf(e.at, "unary minus on a collection of %d items", len(in))
	}
	v, _ := primitive(in[0])
	switch x := v.(type) {
	case Integer:
		if x == -x && x != 0 {
			return nil, nil
		}
		return Collection{-x}, nil
	case Decimal:
		return Collection{x.neg()}, nil
	case Quantity:
		return Collection{Quantity{Value: x.Value.neg(), Unit: x.Unit}}, nil
	}
	return nil, c.errorf(e.at, "unary minus on %s", in[0].Type())
}

func (e *typeExpr) eval(c *evalCtx, focus Collection) (Collection, error) {
	in, err := e.x.eval(c, focus)
	if err != nil {
		return nil, err
	}
	if err := c.checkType(e.at, e.t); err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return nil, nil
	}
	if e.op == "is" {
		if len(in) > 1 {
			return nil, c.errorf(e.at, "'is' on a collection of %d items", len(in))
		}
		return Collection{Boolean(c.isType(in[0], e.t))}, nil
	}
	if len(in) > 1 && !c.options.CollectionAs {
		return nil, c.errorf(e.at, "'as' on a collection of %d items", len(in))
	}
	var out Collection
	for _, v := range in {
		if c.isExactType(v, e.t) {
			out = append(out, v)
		}
	}
	return out, nil
}

var systemTypeNames = map[string]bool{
	"Boolean": true, "String": true, "Integer": true, "Long": true, "Decimal": true, "Date": true,
	"DateTime": true, "Time": true, "Quantity": true, "Any": true,
}

func (c *evalCtx) checkType(at int, t TypeSpec) error {
	switch t.Namespace {
	case NamespaceSystem:
		return nil
	case "", NamespaceFHIR:
		if c.model == nil || c.model.HasType(t.Name) || (t.Namespace == "" && systemTypeNames[t.Name]) {
			return nil
		}
		return c.errorf(at, "unknown type %s", t)
	}
	return c.errorf(at, "unknown type namespace %s", t.Namespace)
}

// isType implements 'is': the value's type is t or derives from it.
func (c *evalCtx) isType(v Value, t TypeSpec) bool {
	return c.typeMatches(v, t, true)
}

// isExactType implements 'as' and ofType(): the value's type is t.
func (c *evalCtx) isExactType(v Value, t TypeSpec) bool {
	return c.typeMatches(v, t, false)
}

func (c *evalCtx) typeMatches(v Value, t TypeSpec, inherit bool) bool {
	n, isNode := v.(*Node)
	if !isNode || strings.HasPrefix(n.typ, "System.") {
		if t.Namespace == NamespaceFHIR {
			return false
		}
		vt := v.Type()
		if isNode {
			sv, ok := n.systemValue()
			if !ok {
				return false
			}
			vt = sv.Type()
		}
		return vt.Name == t.Name || (t.Name == "Any")
	}
	if t.Namespace == NamespaceSystem {
		return false
	}
	if n.typ == "" {
		return false
	}
	if inherit {
		return derivesFrom(c.model, n.typ, t.Name)
	}
	return n.typ == t.Name
}

func (e *binExpr) eval(c *evalCtx, focus Collection) (Collection, error) {
	switch e.op {
	case "and", "or", "xor", "implies":
		return e.logic(c, focus)
	}
	l, err := e.l.eval(c, focus)
	if err != nil {
		return nil, err
	}
	r, err := e.r.eval(c, focus)
	if err != nil {
		return nil, err
	}
	switch e.op {
	case "|":
		return c.union(e.at, l, r)
	case "=", "!=":
		res, ok := collectionsEqual(l, r)
		if !ok {
			return nil, nil
		}
		return boolCollection(res == (e.op == "=")), nil
	case "~", "!~":
		res := collectionsEquivalent(l, r)
		return boolCollection(res == (e.op == "~")), nil
	case "in", "contains":
		item, coll := l, r
		if e.op == "contains" {
			item, coll = r, l
		}
		if len(item) == 0 {
			return nil, nil
		}
		if len(item) > 1 {
			return nil, c.errorf(e.at, "'%s' needs a single item, got %d", e.op, len(item))
		}
		if err := c.tick(e.at, len(coll)); err != nil {
			return nil, err
		}
		for _, v := range coll {
			if eq, ok := itemsEqual(item[0], v); ok && eq {
				return boolCollection(true), nil
			}
		}
		return boolCollection(false), nil
	case "<", ">", "<=", ">=":
		return c.compare(e, l, r)
	case "&":
		if len(l) > 1 || len(r) > 1 {
			return nil, c.errorf(e.at, "'&' needs single items")
		}
		ls, err := c.stringOf(e.at, l)
		if err != nil {
			return nil, err
		}
		rs, err := c.stringOf(e.at, r)
		if err != nil {
			return nil, err
		}
		if len(ls)+len(rs) > maxStringLength {
			return nil, c.errorf(e.at, "string longer than %d bytes", maxStringLength)
		}
		return Collection{String(ls + rs)}, nil
	}
	return c.arithmetic(e, l, r)
}

func (c *evalCtx) stringOf(at int, col Collection) (string, error) {
	if len(col) == 0 {
		return "", nil
	}
	v, _ := primitive(col[0])
	if s, ok := v.(String); ok {
		return string(s), nil
	}
	return "", c.errorf(at, "expected a string, got %s", col[0].Type())
}

// toBool3 converts a collection to a three-valued boolean: 0 false, 1 true, -1 empty.
func (c *evalCtx) toBool3(at int, col Collection, what string) (int, error) {
	if len(col) == 0 {
		return -1, nil
	}
	if len(col) > 1 {
		return 0, c.errorf(at, "%s needs a single boolean, got %d items", what, len(col))
	}
	v, ok := primitive(col[0])
	if !ok {
		return 1, nil
	}
	if b, ok := v.(Boolean); ok {
		if b {
			return 1, nil
		}
		return 0, nil
	}
	return 1, nil
}

var (
	trueCollection  = Collection{Boolean(true)}
	falseCollection = Collection{Boolean(false)}
)

// boolCollection returns a shared one-item collection; results are never written to in place.
func boolCollection(b bool) Collection {
	if b {
		return trueCollection[:1:1]
	}
	return falseCollection[:1:1]
}

func bool3(v int) Collection {
	switch v {
	case 0:
		return boolCollection(false)
	case 1:
		return boolCollection(true)
	}
	return nil
}

func (e *binExpr) logic(c *evalCtx, focus Collection) (Collection, error) {
	lc, err := e.l.eval(c, focus)
	if err != nil {
		return nil, err
	}
	l, err := c.toBool3(e.at, lc, e.op)
	if err != nil {
		return nil, err
	}
	if (e.op == "and" && l == 0) || (e.op == "or" && l == 1) || (e.op == "implies" && l == 0) {
		if e.op == "implies" {
			return bool3(1), nil
		}
		return bool3(l), nil
	}
	rc, err := e.r.eval(c, focus)
	if err != nil {
		return nil, err
	}
	r, err := c.toBool3(e.at, rc, e.op)
	if err != nil {
		return nil, err
	}
	switch e.op {
	case "and":
		switch {
		case r == 0:
			return bool3(0), nil
		case l == 1 && r == 1:
			return bool3(1), nil
		}
		return nil, nil
	case "or":
		switch {
		case r == 1:
			return bool3(1), nil
		case l == 0 && r == 0:
			return bool3(0), nil
		}
		return nil, nil
	case "xor":
		if l < 0 || r < 0 {
			return nil, nil
		}
		return bool3(l ^ r), nil
	}
	if r == 1 {
		return bool3(1), nil
	}
	if l == 1 && r == 0 {
		return bool3(0), nil
	}
	return nil, nil
}

func (c *evalCtx) union(at int, l, r Collection) (Collection, error) {
	if err := c.tick(at, len(l)+len(r)); err != nil {
		return nil, err
	}
	out := make(Collection, 0, len(l)+len(r))
	out = appendDistinct(out, l)
	out = appendDistinct(out, r)
	return out, nil
}

// appendDistinct appends the items of add not already in out.
func appendDistinct(out, add Collection) Collection {
	if len(out)+len(add) > 64 {
		seen := newItemSet(out)
		for _, v := range add {
			if seen.add(v) {
				out = append(out, v)
			}
		}
		return out
	}
	for _, v := range add {
		dup := false
		for _, o := range out {
			if eq, ok := itemsEqual(o, v); ok && eq {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out
}

// itemSet finds equal items by a canonical key.
type itemSet map[string]struct{}

func newItemSet(col Collection) itemSet {
	s := itemSet{}
	for _, v := range col {
		s.add(v)
	}
	return s
}

func (s itemSet) add(v Value) bool {
	k := itemKey(v)
	if _, ok := s[k]; ok {
		return false
	}
	s[k] = struct{}{}
	return true
}

func itemKey(v Value) string {
	p, ok := primitive(v)
	if !ok {
		if n, isNode := v.(*Node); isNode {
			b, _ := json.Marshal(n.data)
			return "N" + string(b)
		}
	}
	switch x := p.(type) {
	case Integer:
		return "D" + DecimalFromInt(int64(x)).normalized()
	case Decimal:
		return "D" + x.normalized()
	case String:
		return "S" + string(x)
	case Boolean:
		return fmt.Sprintf("B%v", bool(x))
	case Quantity:
		if u, ok := parseUnit(x.Unit); ok {
			if v, ok := x.Value.mul(Decimal{u.factor}); ok {
				return "Q" + v.normalized() + fmt.Sprint(u.dims)
			}
		}
		return "Q" + x.Value.normalized() + x.Unit
	}
	return fmt.Sprintf("%T%v", p, p)
}

func (d Decimal) normalized() string {
	r := newDec()
	r.Reduce(d.dec())
	return r.Text('f')
}

func (e *childCountExpr) eval(c *evalCtx, focus Collection) (Collection, error) {
	in := focus
	if e.target != nil {
		var err error
		if in, err = e.target.eval(c, focus); err != nil {
			return nil, err
		}
	}
	total := 0
	for _, v := range in {
		if n, ok := v.(*Node); ok {
			total += countChildren(n)
		}
	}
	return Collection{Integer(total)}, nil
}

// countChildren counts what allChildren would return for n.
func countChildren(n *Node) int {
	obj, ok := n.data.(map[string]any)
	if !ok {
		if n.ext == nil {
			return 0
		}
		obj = n.ext
	}
	count := 0
	for key, v := range obj {
		if key == "resourceType" || key == "fhir_comments" || key == "" {
			continue
		}
		if key[0] == '_' {
			if _, has := obj[key[1:]]; has {
				continue
			}
			count += countValues(nil, v)
			continue
		}
		var ext any
		if e, has := obj["_"+key]; has {
			ext = e
		}
		count += countValues(v, ext)
	}
	return count
}

func countValues(v, ext any) int {
	switch vv := v.(type) {
	case []any:
		exts, _ := ext.([]any)
		n := 0
		for i, item := range vv {
			if item != nil {
				n++
			} else if i < len(exts) {
				if _, ok := exts[i].(map[string]any); ok {
					n++
				}
			}
		}
		for i := len(vv); i < len(exts); i++ {
			if _, ok := exts[i].(map[string]any); ok {
				n++
			}
		}
		return n
	case nil:
		switch e := ext.(type) {
		case map[string]any:
			return 1
		case []any:
			n := 0
			for _, item := range e {
				if _, ok := item.(map[string]any); ok {
					n++
				}
			}
			return n
		}
		return 0
	}
	return 1
}
