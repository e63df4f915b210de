package fhirpath

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure an Engine.
type Options struct {
	// Model types the data; without one navigation is by JSON name only and
	// FHIR type tests fail.
	Model Model
	// Resolver finds resources that resolve() cannot find inside the
	// resource or its Bundle. Optional.
	Resolver Resolver
	// Terminology answers memberOf(), subsumes() and subsumedBy(). Optional:
	// without it those functions return empty.
	Terminology Terminology
	// Profiles answers conformsTo() for profiles other than base types. Optional.
	Profiles ProfileChecker
	// Strict rejects expressions that name types the input is not and order
	// functions applied to unordered collections.
	Strict bool
	// CollectionAs lets as() and the 'as' operator filter a collection of
	// several items instead of failing, as FHIR R4 invariants such as dom-3 expect.
	CollectionAs bool
	// NoPathChecks turns off the error raised when a path names an element
	// the model says the type does not have.
	NoPathChecks bool
	// MaxSteps bounds the work of one evaluation (default 20,000,000).
	MaxSteps int
	// MaxItems bounds the size of any collection (default 1,000,000).
	MaxItems int
	// Trace receives the output of trace(). Optional.
	Trace func(name string, values Collection)
	// Now replaces the clock for now(), today() and timeOfDay(). Optional.
	Now func() time.Time
}

// Resolver finds a resource by a reference that is neither contained nor in the enclosing Bundle.
type Resolver interface {
	Resolve(ctx context.Context, reference string) (map[string]any, bool)
}

// Terminology checks codes against value sets and code systems.
type Terminology interface {
	// MemberOf reports whether system|code is in the value set; known is
	// false when the value set or code system cannot be checked.
	MemberOf(ctx context.Context, valueSet, system, code string) (member, known bool, err error)
	// Subsumes reports whether code a subsumes code b in the code system;
	// known is false when it cannot be told.
	Subsumes(ctx context.Context, system, a, b string) (subsumes, known bool, err error)
}

// ProfileChecker tells whether a resource conforms to a profile.
type ProfileChecker interface {
	// ConformsTo reports conformance; known is false when the profile is not available.
	ConformsTo(ctx context.Context, resource map[string]any, profile string) (conforms, known bool, err error)
}

// Engine compiles FHIRPath expressions once and evaluates them many times.
// It is safe for concurrent use.
type Engine struct {
	opts     Options
	cache    sync.Map
	cacheFor sync.Map
	regexps  sync.Map
	doc      *document
	tables   tableModel
	cached   atomic.Int64
	cachedRE atomic.Int64
}

// maxCached bounds the compiled expressions an engine keeps; later ones are
// compiled on every call.
const maxCached = 50_000

// maxCachedRegexps bounds the compiled regular expressions an engine keeps:
// patterns can come from the data, so later ones are compiled on every call.
const maxCachedRegexps = 10_000

// NewEngine returns an engine with the given options.
func NewEngine(opts Options) *Engine {
	if opts.MaxSteps <= 0 {
		opts.MaxSteps = 20_000_000
	}
	if opts.MaxItems <= 0 {
		opts.MaxItems = 1_000_000
	}
	e := &Engine{opts: opts, doc: &document{model: opts.Model}}
	e.tables, _ = opts.Model.(tableModel)
	return e
}

// Expression is a compiled FHIRPath expression.
type Expression struct {
	src  string
	root expr
	eng  *Engine
}

// String returns the expression's text.
func (x *Expression) String() string { return x.src }

type cached struct {
	x   *Expression
	err error
}

// Compile parses and checks an expression, or returns the cached result of
// an earlier compile of the same text. Errors are *Error values.
func (e *Engine) Compile(src string) (*Expression, error) {
	if v, ok := e.cache.Load(src); ok {
		c := v.(cached)
		return c.x, c.err
	}
	// The expression keeps its text: a copy, not a window on a document.
	src = strings.Clone(src)
	x, err := e.compile(src)
	if e.cached.Add(1) <= maxCached {
		e.cache.Store(src, cached{x, err})
	}
	return x, err
}

func (e *Engine) compile(src string) (*Expression, error) {
	return e.compileAt(src, "")
}

func (e *Engine) compileAt(src, def string) (*Expression, error) {
	root, err := parse(src)
	if err != nil {
		return nil, err
	}
	if err := e.check(src, root, staticType{def: def}); err != nil {
		return nil, err
	}
	return &Expression{src: src, root: root, eng: e}, nil
}

// CompileFor compiles an expression to be evaluated on elements at path (a
// type name or an element path such as "Patient.contact" or
// "Observation.component.code"), checking every element it names against
// the model from there: a constraint that names an element its context does
// not have is a semantic error here rather than on data. Results are cached
// like Compile's.
func (e *Engine) CompileFor(path, src string) (*Expression, error) {
	def := e.definitionOf(path)
	if def == "" {
		return e.Compile(src)
	}
	key := [2]string{def, src}
	if v, ok := e.cacheFor.Load(key); ok {
		c := v.(cached)
		return c.x, c.err
	}
	src = strings.Clone(src)
	x, err := e.compileAt(src, def)
	if e.cached.Add(1) <= maxCached {
		key[1] = src
		e.cacheFor.Store(key, cached{x, err})
	}
	return x, err
}

// Env holds the values of caller-defined variables, by name without the %.
type Env map[string]Collection

// Evaluate runs the expression with input as its focus (%context; %resource
// and %rootResource are found from it). input may be nil for expressions
// that need no data.
func (x *Expression) Evaluate(ctx context.Context, input *Node, env Env) (res Collection, err error) {
	if ctx == nil {
		ctx = context.Background()
	}
	c := ctxPool.Get().(*evalCtx)
	*c = evalCtx{ctx: ctx, eng: x.eng, model: x.eng.opts.Model, tables: x.eng.tables, src: x.src, strict: x.eng.opts.Strict, env: env, input: input, options: &x.eng.opts}
	var focus Collection
	if input != nil {
		c.focus[0] = input
		focus = c.focus[:1:1]
	}
	c.this = focus
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, &Error{Kind: ExecutionError, Msg: fmt.Sprintf("internal failure: %v", r)}
		}
		*c = evalCtx{}
		ctxPool.Put(c)
	}()
	res, err = x.root.eval(c, focus)
	if cap(res) > 0 && &res[:cap(res)][cap(res)-1] == &c.focus[0] {
		res = append(make(Collection, 0, len(res)), res...)
	}
	return res, err
}

// Resource returns the root node of a decoded resource, typed by its resourceType.
func (e *Engine) Resource(resource map[string]any) *Node {
	t, _ := resource["resourceType"].(string)
	n := &Node{data: resource, typ: t, doc: e.doc}
	if e.tables != nil && t != "" {
		n.tbl = e.tables.rootTable(t)
	}
	return n
}

// NewNode returns a root node for decoded data of a given FHIR type; use it
// to evaluate against data that is not a whole resource.
func (e *Engine) NewNode(data any, typeName string) *Node {
	n := &Node{data: data, typ: typeName, doc: e.doc}
	if _, isObject := data.(map[string]any); isObject && e.tables != nil && typeName != "" {
		n.tbl = e.tables.rootTable(typeName)
	}
	return n
}

// Children returns the child elements called name (a FHIRPath name: value,
// not valueQuantity) of a node, typed by the model.
func (e *Engine) Children(n *Node, name string) []*Node {
	c := evalCtx{ctx: context.Background(), model: e.opts.Model, tables: e.tables, options: &navOptions}
	col, _ := c.children(0, n, name, nil)
	out := make([]*Node, 0, len(col))
	for _, v := range col {
		out = append(out, v.(*Node))
	}
	return out
}

// Truth interprets a result as FHIR invariants do: true only when the
// collection is a single true boolean (or a single non-boolean item); empty
// reports whether the result was empty.
func Truth(res Collection) (value, empty bool) {
	if len(res) == 0 {
		return false, true
	}
	if len(res) > 1 {
		return false, false
	}
	p, ok := primitive(res[0])
	if !ok {
		return true, false
	}
	if b, ok := p.(Boolean); ok {
		return bool(b), false
	}
	return true, false
}

func (c *evalCtx) regexp(at int, pat string, full bool) (*regexp.Regexp, error) {
	if len(pat) > 4096 {
		return nil, c.errorf(at, "regular expression longer than 4096 characters")
	}
	key := pat
	if full {
		key = "\x00" + pat
	}
	if v, ok := c.eng.regexps.Load(key); ok {
		return v.(*regexp.Regexp), nil
	}
	src := "(?s)" + pat
	if full {
		src = "(?s)^(?:" + pat + ")$"
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, c.errorf(at, "invalid regular expression %q: %v", pat, err)
	}
	if c.eng.cachedRE.Add(1) <= maxCachedRegexps {
		c.eng.regexps.Store(key, re)
	}
	return re, nil
}

func mapIdentity(m map[string]any) uintptr {
	return uintptr(reflect.ValueOf(m).UnsafePointer())
}

var navOptions = Options{MaxSteps: 1 << 30, MaxItems: 1 << 30, NoPathChecks: true}

var ctxPool = sync.Pool{New: func() any { return new(evalCtx) }}

// ChildNodes returns every child element of a node, as children() does,
// typed by the model.
func (e *Engine) ChildNodes(n *Node) []*Node {
	c := &evalCtx{ctx: context.Background(), model: e.opts.Model, tables: e.tables, options: &e.opts}
	col := c.allChildren(n, nil)
	out := make([]*Node, 0, len(col))
	for _, v := range col {
		out = append(out, v.(*Node))
	}
	return out
}

// DefinitionPath returns where the node's children are defined: the path of
// a backbone element ("Observation.component") or the node's type name.
func (n *Node) DefinitionPath() string {
	if n.def != "" {
		return n.def
	}
	return n.typ
}
