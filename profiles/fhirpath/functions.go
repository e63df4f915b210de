package fhirpath

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"html"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"
)

type function struct {
	minArgs, maxArgs int
	typeArg          bool
	impl             func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error)
}

var functions map[string]*function

func fn(minArgs, maxArgs int, impl func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error)) *function {
	return &function{minArgs: minArgs, maxArgs: maxArgs, impl: impl}
}

func (e *callExpr) eval(c *evalCtx, focus Collection) (Collection, error) {
	in := focus
	if e.target != nil {
		var err error
		if in, err = e.target.eval(c, focus); err != nil {
			return nil, err
		}
	}
	if err := c.tick(e.at, 1); err != nil {
		return nil, err
	}
	out, err := e.fn.impl(c, e, in, focus)
	if err != nil {
		return nil, err
	}
	if err := c.checkSize(e.at, out); err != nil {
		return nil, err
	}
	return out, nil
}

// arg evaluates a plain (non-lambda) argument against the call site's focus.
func (c *evalCtx) arg(e *callExpr, i int, focus Collection) (Collection, error) {
	return e.args[i].eval(c, focus)
}

func (c *evalCtx) singleArg(e *callExpr, i int, focus Collection) (Value, bool, error) {
	col, err := c.arg(e, i, focus)
	if err != nil || len(col) == 0 {
		return nil, false, err
	}
	if len(col) > 1 {
		return nil, false, c.errorf(e.args[i].position(), "argument %d of %s() must be a single item", i+1, e.name)
	}
	v, ok := primitive(col[0])
	if !ok {
		return col[0], true, nil
	}
	return v, true, nil
}

func (c *evalCtx) stringArg(e *callExpr, i int, focus Collection) (string, bool, error) {
	v, ok, err := c.singleArg(e, i, focus)
	if err != nil || !ok {
		return "", false, err
	}
	s, isStr := v.(String)
	if !isStr {
		return "", false, c.errorf(e.args[i].position(), "argument %d of %s() must be a string", i+1, e.name)
	}
	return string(s), true, nil
}

func (c *evalCtx) intArg(e *callExpr, i int, focus Collection) (int, bool, error) {
	v, ok, err := c.singleArg(e, i, focus)
	if err != nil || !ok {
		return 0, false, err
	}
	n, isInt := v.(Integer)
	if !isInt {
		return 0, false, c.errorf(e.args[i].position(), "argument %d of %s() must be an integer", i+1, e.name)
	}
	return int(n), true, nil
}

// singleInput returns the single input item as a System value.
func (c *evalCtx) singleInput(e *callExpr, in Collection) (Value, bool, error) {
	if len(in) == 0 {
		return nil, false, nil
	}
	if len(in) > 1 {
		return nil, false, c.errorf(e.at, "%s() needs a single input item, got %d", e.name, len(in))
	}
	v, ok := primitive(in[0])
	if !ok {
		return in[0], true, nil
	}
	return v, true, nil
}

func (c *evalCtx) stringInput(e *callExpr, in Collection) (string, bool, error) {
	v, ok, err := c.singleInput(e, in)
	if err != nil || !ok {
		return "", false, err
	}
	s, isStr := v.(String)
	if !isStr {
		return "", false, c.semanticf(e.at, "%s() applies to strings, not %s", e.name, in[0].Type())
	}
	return string(s), true, nil
}

// each evaluates a lambda argument once per input item with $this and $index set.
func (c *evalCtx) each(e *callExpr, arg int, in Collection, f func(i int, item Value, res Collection) (bool, error)) error {
	savedThis, savedIndex := c.this, c.index
	defer func() { c.this, c.index = savedThis, savedIndex }()
	for i, item := range in {
		if err := c.tick(e.at, 1); err != nil {
			return err
		}
		c.this, c.index = Collection{item}, i
		res, err := e.args[arg].eval(c, c.this)
		if err != nil {
			return err
		}
		more, err := f(i, item, res)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func boolResult(b bool) (Collection, error) { return boolCollection(b), nil }

func init() {
	functions = map[string]*function{
		"empty": fn(0, 0, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			return boolResult(len(in) == 0)
		}),
		"exists": fn(0, 1, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			if len(e.args) == 0 {
				return boolResult(len(in) > 0)
			}
			found := false
			err := c.each(e, 0, in, func(_ int, _ Value, res Collection) (bool, error) {
				b, err := c.toBool3(e.at, res, "exists")
				if b == 1 {
					found = true
					return false, err
				}
				return true, err
			})
			if err != nil {
				return nil, err
			}
			return boolResult(found)
		}),
		"all": fn(1, 1, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			all := true
			err := c.each(e, 0, in, func(_ int, _ Value, res Collection) (bool, error) {
				b, err := c.toBool3(e.at, res, "all")
				if b != 1 {
					all = false
					return false, err
				}
				return true, err
			})
			if err != nil {
				return nil, err
			}
			return boolResult(all)
		}),
		"allTrue":  fn(0, 0, boolsFn(func(all, any bool, t, f int) bool { return f == 0 })),
		"anyTrue":  fn(0, 0, boolsFn(func(all, any bool, t, f int) bool { return t > 0 })),
		"allFalse": fn(0, 0, boolsFn(func(all, any bool, t, f int) bool { return t == 0 })),
		"anyFalse": fn(0, 0, boolsFn(func(all, any bool, t, f int) bool { return f > 0 })),
		"subsetOf": fn(1, 1, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			other, err := c.arg(e, 0, focus)
			if err != nil {
				return nil, err
			}
			return boolResult(subset(in, other))
		}),
		"supersetOf": fn(1, 1, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			other, err := c.arg(e, 0, focus)
			if err != nil {
				return nil, err
			}
			return boolResult(subset(other, in))
		}),
		"count": fn(0, 0, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			return Collection{Integer(len(in))}, nil
		}),
		"distinct": fn(0, 0, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			if err := c.tick(e.at, len(in)); err != nil {
				return nil, err
			}
			return appendDistinct(nil, in), nil
		}),
		"isDistinct": fn(0, 0, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			if err := c.tick(e.at, len(in)); err != nil {
				return nil, err
			}
			return boolResult(len(appendDistinct(nil, in)) == len(in))
		}),
		"where": fn(1, 1, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			var out Collection
			err := c.each(e, 0, in, func(_ int, item Value, res Collection) (bool, error) {
				b, err := c.toBool3(e.at, res, "where")
				if b == 1 {
					out = append(out, item)
				}
				return true, err
			})
			return out, err
		}),
		"select": fn(1, 1, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			var out Collection
			err := c.each(e, 0, in, func(_ int, item Value, res Collection) (bool, error) {
				out = append(out, res...)
				return true, c.checkSize(e.at, out)
			})
			return out, err
		}),
		"repeat": fn(1, 1, repeatFn),
		"ofType": {minArgs: 1, maxArgs: 1, typeArg: true, impl: func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			if err := c.checkType(e.at, e.typ); err != nil {
				return nil, err
			}
			var out Collection
			for _, v := range in {
				if c.isExactType(v, e.typ) {
					out = append(out, v)
				}
			}
			return out, nil
		}},
		"is": {minArgs: 1, maxArgs: 1, typeArg: true, impl: func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			if err := c.checkType(e.at, e.typ); err != nil {
				return nil, err
			}
			if len(in) == 0 {
				return nil, nil
			}
			if len(in) > 1 {
				return nil, c.errorf(e.at, "is() on a collection of %d items", len(in))
			}
			return boolResult(c.isType(in[0], e.typ))
		}},
		"as": {minArgs: 1, maxArgs: 1, typeArg: true, impl: func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			if err := c.checkType(e.at, e.typ); err != nil {
				return nil, err
			}
			if len(in) > 1 && !c.options.CollectionAs {
				return nil, c.errorf(e.at, "as() on a collection of %d items", len(in))
			}
			var out Collection
			for _, v := range in {
				if c.isExactType(v, e.typ) {
					out = append(out, v)
				}
			}
			return out, nil
		}},
		"single": fn(0, 0, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			if len(in) > 1 {
				return nil, c.errorf(e.at, "single() on a collection of %d items", len(in))
			}
			return in, nil
		}),
		"first": fn(0, 0, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			if len(in) == 0 {
				return nil, nil
			}
			return in[:1:1], nil
		}),
		"last": fn(0, 0, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			if len(in) == 0 {
				return nil, nil
			}
			return in[len(in)-1:], nil
		}),
		"tail": fn(0, 0, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			if len(in) < 2 {
				return nil, nil
			}
			return in[1:len(in):len(in)], nil
		}),
		"skip": fn(1, 1, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			n, ok, err := c.intArg(e, 0, focus)
			if err != nil || !ok {
				return nil, err
			}
			if n <= 0 {
				return in, nil
			}
			if n >= len(in) {
				return nil, nil
			}
			return in[n:len(in):len(in)], nil
		}),
		"take": fn(1, 1, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			n, ok, err := c.intArg(e, 0, focus)
			if err != nil || !ok || n <= 0 {
				return nil, err
			}
			if n >= len(in) {
				return in, nil
			}
			return in[:n:n], nil
		}),
		"intersect": fn(1, 1, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			other, err := c.arg(e, 0, focus)
			if err != nil {
				return nil, err
			}
			if err := c.tick(e.at, len(in)*len(other)/8+1); err != nil {
				return nil, err
			}
			var out Collection
			for _, v := range appendDistinct(nil, in) {
				if containsItem(other, v) {
					out = append(out, v)
				}
			}
			return out, nil
		}),
		"exclude": fn(1, 1, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			other, err := c.arg(e, 0, focus)
			if err != nil {
				return nil, err
			}
			if err := c.tick(e.at, len(in)*len(other)/8+1); err != nil {
				return nil, err
			}
			var out Collection
			for _, v := range in {
				if !containsItem(other, v) {
					out = append(out, v)
				}
			}
			return out, nil
		}),
		"union": fn(1, 1, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			other, err := c.arg(e, 0, focus)
			if err != nil {
				return nil, err
			}
			return c.union(e.at, in, other)
		}),
		"combine": fn(1, 1, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			other, err := c.arg(e, 0, focus)
			if err != nil {
				return nil, err
			}
			out := make(Collection, 0, len(in)+len(other))
			return append(append(out, in...), other...), nil
		}),
		"iif":   fn(2, 3, iifFn),
		"not":   fn(0, 0, notFn),
		"trace": fn(1, 2, traceFn),
		"aggregate": fn(1, 2, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			savedTotal := c.total
			defer func() { c.total = savedTotal }()
			var total Collection
			if len(e.args) > 1 {
				var err error
				if total, err = c.arg(e, 1, focus); err != nil {
					return nil, err
				}
			}
			c.total = total
			err := c.each(e, 0, in, func(_ int, _ Value, res Collection) (bool, error) {
				c.total = res
				return true, nil
			})
			return c.total, err
		}),
		"sort":        {minArgs: 0, maxArgs: 10, impl: sortFn},
		"children":    fn(0, 0, childrenFn),
		"descendants": fn(0, 0, descendantsFn),
		"type": fn(0, 0, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			var out Collection
			for _, v := range in {
				t := v.Type()
				if n, ok := v.(*Node); ok && t.Name == "" {
					if sv, ok := n.systemValue(); ok {
						t = sv.Type()
					}
				}
				out = append(out, &Node{data: map[string]any{"namespace": t.Namespace, "name": t.Name}, typ: "System.SimpleTypeInfo", doc: &document{}})
			}
			return out, nil
		}),
		"now": fn(0, 0, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			t := c.now()
			_, off := t.Zone()
			d := fromGoTime(t, dt{prec: precMillisecond, hasTZ: true, offset: off / 60, zulu: off == 0})
			return Collection{DateTime{d}}, nil
		}),
		"today": fn(0, 0, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			t := c.now()
			return Collection{Date{dt{year: t.Year(), month: int(t.Month()), day: t.Day(), prec: precDay}}}, nil
		}),
		"timeOfDay": fn(0, 0, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			t := c.now()
			return Collection{Time{dt{hour: t.Hour(), minute: t.Minute(), second: t.Second(), ms: t.Nanosecond() / 1e6, prec: precMillisecond}}}, nil
		}),
		"hasValue": fn(0, 0, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			if len(in) != 1 {
				return boolResult(false)
			}
			n, ok := in[0].(*Node)
			if !ok {
				return boolResult(true)
			}
			_, has := n.systemValue()
			return boolResult(has)
		}),
		"getValue": fn(0, 0, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			if len(in) != 1 {
				return nil, nil
			}
			if v, ok := primitive(in[0]); ok {
				return Collection{v}, nil
			}
			return nil, nil
		}),
		"extension": fn(1, 1, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			url, ok, err := c.stringArg(e, 0, focus)
			if err != nil || !ok {
				return nil, err
			}
			var out Collection
			for _, v := range in {
				n, ok := v.(*Node)
				if !ok {
					continue
				}
				exts, err := c.children(e.at, n, "extension", nil)
				if err != nil {
					return nil, err
				}
				for _, x := range exts {
					if xn, ok := x.(*Node); ok {
						if m, ok := xn.data.(map[string]any); ok && m["url"] == url {
							out = append(out, x)
						}
					}
				}
			}
			return out, nil
		}),
		"hasExtension": fn(1, 1, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			exts, err := functions["extension"].impl(c, e, in, focus)
			if err != nil {
				return nil, err
			}
			return boolResult(len(exts) > 0)
		}),
		"resolve":      fn(0, 0, resolveFn),
		"conformsTo":   fn(1, 1, conformsToFn),
		"memberOf":     fn(1, 1, memberOfFn),
		"htmlChecks":   fn(0, 0, htmlChecksFn),
		"htmlchecks":   fn(0, 0, htmlChecksFn),
		"subsumes":     fn(1, 1, subsumesFn(false)),
		"subsumedBy":   fn(1, 1, subsumesFn(true)),
		"lowBoundary":  fn(0, 1, boundaryFn(false)),
		"highBoundary": fn(0, 1, boundaryFn(true)),
		"precision": fn(0, 0, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			v, ok, err := c.singleInput(e, in)
			if err != nil || !ok {
				return nil, err
			}
			switch x := v.(type) {
			case Decimal:
				return Collection{Integer(x.scale())}, nil
			case Integer:
				return Collection{Integer(0)}, nil
			case Date, DateTime, Time:
				d, kind, _ := temporalOf(x)
				return Collection{Integer(digitPrecision(d, kind == 2))}, nil
			case Quantity:
				return Collection{Integer(x.Value.scale())}, nil
			}
			return nil, nil
		}),
		"comparable": fn(1, 1, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			v, ok, err := c.singleInput(e, in)
			if err != nil || !ok {
				return nil, err
			}
			w, ok, err := c.singleArg(e, 0, focus)
			if err != nil || !ok {
				return nil, err
			}
			a, ok1 := v.(Quantity)
			b, ok2 := w.(Quantity)
			if !ok1 || !ok2 {
				return nil, c.errorf(e.at, "comparable() applies to quantities")
			}
			_, _, same := canonicalPair(a, b)
			return boolResult(same)
		}),
	}
	addConversionFunctions()
	addStringFunctions()
	addMathFunctions()
	addAggregateFunctions()
}

// addAggregateFunctions adds sum(), min(), max() and avg() of FHIRPath 2.0.
func addAggregateFunctions() {
	values := func(c *evalCtx, e *callExpr, in Collection) ([]Value, error) {
		out := make([]Value, 0, len(in))
		for _, v := range in {
			p, ok := operand(v)
			if !ok {
				return nil, c.errorf(e.at, "%s() needs values, got %s", e.name, v.Type())
			}
			out = append(out, p)
		}
		return out, nil
	}
	functions["sum"] = fn(0, 0, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
		vs, err := values(c, e, in)
		if err != nil || len(vs) == 0 {
			return nil, err
		}
		total := vs[0]
		for _, v := range vs[1:] {
			if total, err = arith("+", total, v); err != nil {
				return nil, c.errorf(e.at, "sum(): %v", err)
			}
			if total == nil {
				return nil, nil
			}
		}
		return Collection{total}, nil
	})
	extreme := func(want int) func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
		return func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			vs, err := values(c, e, in)
			if err != nil || len(vs) == 0 {
				return nil, err
			}
			best := vs[0]
			for _, v := range vs[1:] {
				cmp, ok, err := compareValues(v, best)
				if err != nil {
					return nil, c.errorf(e.at, "%s(): %v", e.name, err)
				}
				if !ok {
					return nil, nil
				}
				if cmp == want {
					best = v
				}
			}
			return Collection{best}, nil
		}
	}
	functions["min"] = fn(0, 0, extreme(-1))
	functions["max"] = fn(0, 0, extreme(1))
	functions["avg"] = fn(0, 0, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
		sum, err := functions["sum"].impl(c, e, in, focus)
		if err != nil || len(sum) == 0 {
			return nil, err
		}
		r, err := arith("/", sum[0], Integer(len(in)))
		if err != nil {
			return nil, c.errorf(e.at, "avg(): %v", err)
		}
		if r == nil {
			return nil, nil
		}
		return Collection{r}, nil
	})
}

func (c *evalCtx) now() time.Time {
	if c.options.Now != nil {
		return c.options.Now()
	}
	return time.Now()
}

func boolsFn(test func(all, any bool, t, f int) bool) func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
	return func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
		t, f := 0, 0
		for _, v := range in {
			p, _ := primitive(v)
			b, ok := p.(Boolean)
			if !ok {
				return nil, c.errorf(e.at, "%s() needs booleans, got %s", e.name, v.Type())
			}
			if b {
				t++
			} else {
				f++
			}
		}
		return boolResult(test(true, false, t, f))
	}
}

func subset(a, b Collection) bool {
	for _, v := range a {
		if !containsItem(b, v) {
			return false
		}
	}
	return true
}

func containsItem(col Collection, v Value) bool {
	for _, o := range col {
		if eq, ok := itemsEqual(o, v); ok && eq {
			return true
		}
	}
	return false
}

func repeatFn(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
	var out Collection
	seen := map[any]bool{}
	keys := itemSet{}
	isNew := func(v Value) bool {
		if n, ok := v.(*Node); ok {
			if m, ok := n.data.(map[string]any); ok {
				k := mapIdentity(m)
				if seen[k] {
					return false
				}
				seen[k] = true
				return true
			}
		}
		return keys.add(v)
	}
	queue := in
	for len(queue) > 0 {
		var next Collection
		err := c.each(e, 0, queue, func(_ int, _ Value, res Collection) (bool, error) {
			for _, v := range res {
				if isNew(v) {
					out = append(out, v)
					next = append(next, v)
				}
			}
			return true, c.checkSize(e.at, out)
		})
		if err != nil {
			return nil, err
		}
		queue = next
	}
	return out, nil
}

func iifFn(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
	if e.target != nil && len(in) > 1 {
		return nil, c.errorf(e.at, "iif() on a collection of %d items", len(in))
	}
	scope := focus
	if e.target != nil {
		scope = in
	}
	savedThis := c.this
	if e.target != nil {
		c.this = in
	}
	defer func() { c.this = savedThis }()
	cond, err := e.args[0].eval(c, scope)
	if err != nil {
		return nil, err
	}
	if len(cond) > 1 {
		return nil, c.semanticf(e.at, "iif() criterion must be a single boolean")
	}
	b := -1
	if len(cond) == 1 {
		p, _ := primitive(cond[0])
		bv, ok := p.(Boolean)
		if !ok {
			return nil, c.semanticf(e.at, "iif() criterion must be a boolean, got %s", cond[0].Type())
		}
		b = 0
		if bv {
			b = 1
		}
	}
	if b == 1 {
		return e.args[1].eval(c, scope)
	}
	if len(e.args) > 2 {
		return e.args[2].eval(c, scope)
	}
	return nil, nil
}

func notFn(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
	b, err := c.toBool3(e.at, in, "not")
	if err != nil {
		return nil, err
	}
	switch b {
	case 0:
		return boolResult(true)
	case 1:
		return boolResult(false)
	}
	return nil, nil
}

func traceFn(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
	name, _, err := c.stringArg(e, 0, focus)
	if err != nil {
		return nil, err
	}
	if c.options.Trace == nil {
		if len(e.args) > 1 {
			err := c.each(e, 1, in, func(int, Value, Collection) (bool, error) { return true, nil })
			return in, err
		}
		return in, nil
	}
	shown := in
	if len(e.args) > 1 {
		shown = nil
		err := c.each(e, 1, in, func(_ int, _ Value, res Collection) (bool, error) {
			shown = append(shown, res...)
			return true, nil
		})
		if err != nil {
			return nil, err
		}
	}
	c.options.Trace(name, shown)
	return in, nil
}

func sortFn(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
	type keyed struct {
		v    Value
		keys []Value
	}
	items := make([]keyed, len(in))
	for i, v := range in {
		items[i].v = v
	}
	desc := make([]bool, len(e.args))
	for k, a := range e.args {
		arg := a
		if u, ok := a.(*unaryExpr); ok && u.op == '-' {
			arg, desc[k] = u.x, true
		}
		call := &callExpr{at: e.at, name: e.name, args: []expr{arg}}
		err := c.each(call, 0, in, func(i int, _ Value, res Collection) (bool, error) {
			var key Value
			if len(res) > 0 {
				key, _ = primitive(res[0])
			}
			items[i].keys = append(items[i].keys, key)
			return true, nil
		})
		if err != nil {
			return nil, err
		}
	}
	var sortErr error
	less := func(a, b Value, descending bool) int {
		if a == nil || b == nil {
			switch {
			case a == nil && b == nil:
				return 0
			case a == nil:
				return -1
			}
			return 1
		}
		cmp, _, err := compareValues(a, b)
		if err != nil && sortErr == nil {
			sortErr = err
		}
		if descending {
			return -cmp
		}
		return cmp
	}
	sort.SliceStable(items, func(i, j int) bool {
		if len(e.args) == 0 {
			a, _ := primitive(items[i].v)
			b, _ := primitive(items[j].v)
			return less(a, b, false) < 0
		}
		for k := range e.args {
			if r := less(items[i].keys[k], items[j].keys[k], desc[k]); r != 0 {
				return r < 0
			}
		}
		return false
	})
	if sortErr != nil {
		return nil, c.errorf(e.at, "sort(): %v", sortErr)
	}
	out := make(Collection, len(items))
	for i := range items {
		out[i] = items[i].v
	}
	return out, nil
}

func childrenFn(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
	var out Collection
	for _, v := range in {
		if n, ok := v.(*Node); ok {
			out = c.allChildren(n, out)
		}
	}
	return out, c.tick(e.at, len(out))
}

func descendantsFn(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
	var key *Node
	if len(in) == 1 {
		key, _ = in[0].(*Node)
		if key != nil {
			if memo, ok := c.descendants[key]; ok {
				return memo, nil
			}
		}
	}
	var out Collection
	queue := in
	for len(queue) > 0 {
		var next Collection
		for _, v := range queue {
			if n, ok := v.(*Node); ok {
				next = c.allChildren(n, next)
			}
		}
		if err := c.tick(e.at, len(next)); err != nil {
			return nil, err
		}
		out = append(out, next...)
		if err := c.checkSize(e.at, out); err != nil {
			return nil, err
		}
		queue = next
	}
	if key != nil {
		if c.descendants == nil {
			c.descendants = map[*Node]Collection{}
		}
		c.descendants[key] = out[:len(out):len(out)]
	}
	return out, nil
}

func boundaryFn(high bool) func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
	return func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
		v, ok, err := c.singleInput(e, in)
		if err != nil || !ok {
			return nil, err
		}
		p, hasP := -1, false
		if len(e.args) > 0 {
			if p, hasP, err = c.intArg(e, 0, focus); err != nil {
				return nil, err
			}
		}
		switch x := v.(type) {
		case Integer, Decimal:
			d, _ := asDecimal(x)
			if !hasP {
				p = 8
			}
			r, ok := decimalBoundary(d, p, high)
			if !ok {
				return nil, nil
			}
			return Collection{r}, nil
		case Quantity:
			if !hasP {
				p = 8
			}
			r, ok := decimalBoundary(x.Value, p, high)
			if !ok {
				return nil, nil
			}
			return Collection{Quantity{Value: r, Unit: x.Unit}}, nil
		case Date, DateTime, Time:
			_, kind, _ := temporalOf(x)
			if !hasP {
				p = [...]int{8, 17, 9}[kind]
			}
			r, ok := temporalBoundary(x, p, high)
			if !ok {
				return nil, nil
			}
			return Collection{r}, nil
		}
		return nil, nil
	}
}

func addConversionFunctions() {
	conv := func(name string, to func(v Value) (Value, bool)) {
		functions["to"+name] = fn(0, 0, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			v, ok, err := c.singleInput(e, in)
			if err != nil || !ok {
				return nil, err
			}
			r, ok := to(v)
			if !ok {
				return nil, nil
			}
			return Collection{r}, nil
		})
		functions["convertsTo"+name] = fn(0, 0, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			v, ok, err := c.singleInput(e, in)
			if err != nil || !ok {
				return nil, err
			}
			_, ok = to(v)
			return boolResult(ok)
		})
	}
	conv("Boolean", toBoolean)
	conv("Integer", toInteger)
	conv("Decimal", toDecimal)
	conv("String", toStringValue)
	conv("Date", toDate)
	conv("DateTime", toDateTime)
	conv("Time", toTime)
	quantity := func(c *evalCtx, e *callExpr, in, focus Collection) (Value, bool, error) {
		v, ok, err := c.singleInput(e, in)
		if err != nil || !ok {
			return nil, false, err
		}
		q, ok := toQuantity(v)
		if !ok {
			return nil, false, nil
		}
		if len(e.args) > 0 {
			unit, ok, err := c.stringArg(e, 0, focus)
			if err != nil || !ok {
				return nil, false, err
			}
			qq := q.(Quantity)
			if qq.Unit == unit {
				return q, true, nil
			}
			va, _, ok := canonicalPair(qq, Quantity{DecimalFromInt(1), unit})
			if !ok {
				return nil, false, nil
			}
			_, f, _ := canonicalPair(Quantity{DecimalFromInt(1), unit}, Quantity{DecimalFromInt(1), unit})
			r, ok := va.quo(f)
			if !ok {
				return nil, false, nil
			}
			return Quantity{Value: r, Unit: unit}, true, nil
		}
		return q, true, nil
	}
	functions["toQuantity"] = fn(0, 1, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
		q, ok, err := quantity(c, e, in, focus)
		if err != nil || !ok {
			return nil, err
		}
		return Collection{q}, nil
	})
	functions["convertsToQuantity"] = fn(0, 1, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
		if len(in) == 0 {
			return nil, nil
		}
		_, ok, err := quantity(c, e, in, focus)
		if err != nil {
			return nil, err
		}
		return boolResult(ok)
	})
}

func toBoolean(v Value) (Value, bool) {
	switch x := v.(type) {
	case Boolean:
		return x, true
	case Integer:
		switch x {
		case 0:
			return Boolean(false), true
		case 1:
			return Boolean(true), true
		}
	case Decimal:
		switch {
		case x.cmp(DecimalFromInt(0)) == 0:
			return Boolean(false), true
		case x.cmp(DecimalFromInt(1)) == 0:
			return Boolean(true), true
		}
	case String:
		switch strings.ToLower(string(x)) {
		case "true", "t", "yes", "y", "1", "1.0":
			return Boolean(true), true
		case "false", "f", "no", "n", "0", "0.0":
			return Boolean(false), true
		}
	}
	return nil, false
}

func toInteger(v Value) (Value, bool) {
	switch x := v.(type) {
	case Integer:
		return x, true
	case Boolean:
		if x {
			return Integer(1), true
		}
		return Integer(0), true
	case String:
		s := string(x)
		if s == "" {
			return nil, false
		}
		body := strings.TrimLeft(s, "+-")
		if len(s)-len(body) > 1 || body == "" {
			return nil, false
		}
		for i := 0; i < len(body); i++ {
			if !isDigit(body[i]) {
				return nil, false
			}
		}
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, false
		}
		return Integer(i), true
	}
	return nil, false
}

func toDecimal(v Value) (Value, bool) {
	switch x := v.(type) {
	case Decimal:
		return x, true
	case Integer:
		return DecimalFromInt(int64(x)), true
	case Boolean:
		if x {
			return DecimalFromInt(1), true
		}
		return DecimalFromInt(0), true
	case String:
		s := string(x)
		body := strings.TrimLeft(s, "+-")
		if len(s)-len(body) > 1 || body == "" || body[0] == '.' || body[len(body)-1] == '.' {
			return nil, false
		}
		for i := 0; i < len(body); i++ {
			if !isDigit(body[i]) && body[i] != '.' {
				return nil, false
			}
		}
		d, ok := ParseDecimal(s)
		if !ok {
			return nil, false
		}
		return d, true
	}
	return nil, false
}

func toStringValue(v Value) (Value, bool) {
	switch x := v.(type) {
	case String:
		return x, true
	case Boolean:
		return String(strconv.FormatBool(bool(x))), true
	case Integer:
		return String(strconv.FormatInt(int64(x), 10)), true
	case Decimal:
		return String(x.String()), true
	case Quantity:
		return String(x.String()), true
	case Date:
		return String(x.String()), true
	case DateTime:
		return String(x.String()), true
	case Time:
		return String(x.String()), true
	}
	return nil, false
}

func toDate(v Value) (Value, bool) {
	switch x := v.(type) {
	case Date:
		return x, true
	case DateTime:
		d := x.dt
		if d.prec > precDay {
			d.prec = precDay
		}
		d.hour, d.minute, d.second, d.ms, d.hasTZ, d.zulu, d.offset = 0, 0, 0, 0, false, false, 0
		return Date{d}, true
	case String:
		if d, ok := parseDate(string(x)); ok {
			return d, true
		}
		if d, ok := parseDateTime(string(x)); ok {
			return toDate(d)
		}
	}
	return nil, false
}

func toDateTime(v Value) (Value, bool) {
	switch x := v.(type) {
	case DateTime:
		return x, true
	case Date:
		return DateTime(x), true
	case String:
		if d, ok := parseDateTime(string(x)); ok {
			return d, true
		}
	}
	return nil, false
}

func toTime(v Value) (Value, bool) {
	switch x := v.(type) {
	case Time:
		return x, true
	case String:
		s := strings.TrimPrefix(string(x), "T")
		if t, ok := parseTime(s); ok {
			return t, true
		}
	}
	return nil, false
}

func toQuantity(v Value) (Value, bool) {
	switch x := v.(type) {
	case Quantity:
		return x, true
	case Integer:
		return Quantity{Value: DecimalFromInt(int64(x)), Unit: "1"}, true
	case Decimal:
		return Quantity{Value: x, Unit: "1"}, true
	case Boolean:
		if x {
			return Quantity{Value: DecimalFromInt(1), Unit: "1"}, true
		}
		return Quantity{Value: DecimalFromInt(0), Unit: "1"}, true
	case String:
		return parseQuantityString(string(x))
	case *Node:
		return nodeQuantity(x)
	}
	return nil, false
}

func parseQuantityString(s string) (Value, bool) {
	s = strings.TrimSpace(s)
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	for i < len(s) && (isDigit(s[i]) || s[i] == '.') {
		i++
	}
	num, rest := s[:i], strings.TrimSpace(s[i:])
	d, ok := toDecimal(String(num))
	if !ok {
		return nil, false
	}
	unit := "1"
	switch {
	case rest == "":
	case len(rest) >= 2 && rest[0] == '\'' && rest[len(rest)-1] == '\'':
		unit = rest[1 : len(rest)-1]
	case isCalendarUnit(rest):
		unit = rest
	default:
		return nil, false
	}
	return Quantity{Value: d.(Decimal), Unit: unit}, true
}

// nodeQuantity converts a FHIR Quantity element to a System Quantity.
func nodeQuantity(n *Node) (Value, bool) {
	m, ok := n.data.(map[string]any)
	if !ok {
		return nil, false
	}
	num, ok := m["value"].(json.Number)
	if !ok {
		return nil, false
	}
	d, ok := ParseDecimal(string(num))
	if !ok {
		return nil, false
	}
	unit := "1"
	if code, ok := m["code"].(string); ok && (m["system"] == "http://unitsofmeasure.org" || m["system"] == nil) {
		unit = code
	} else if u, ok := m["unit"].(string); ok {
		unit = u
	}
	return Quantity{Value: d, Unit: unit}, true
}

func addStringFunctions() {
	str := func(minArgs, maxArgs int, f func(c *evalCtx, e *callExpr, s string, focus Collection) (Collection, error)) *function {
		return fn(minArgs, maxArgs, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			s, ok, err := c.stringInput(e, in)
			if err != nil || !ok {
				return nil, err
			}
			return f(c, e, s, focus)
		})
	}
	withString := func(f func(s, a string) Value) *function {
		return str(1, 1, func(c *evalCtx, e *callExpr, s string, focus Collection) (Collection, error) {
			a, ok, err := c.stringArg(e, 0, focus)
			if err != nil || !ok {
				return nil, err
			}
			return Collection{f(s, a)}, nil
		})
	}
	functions["indexOf"] = withString(func(s, a string) Value { return Integer(runeIndex(s, strings.Index(s, a))) })
	functions["lastIndexOf"] = withString(func(s, a string) Value { return Integer(runeIndex(s, strings.LastIndex(s, a))) })
	functions["startsWith"] = withString(func(s, a string) Value { return Boolean(strings.HasPrefix(s, a)) })
	functions["endsWith"] = withString(func(s, a string) Value { return Boolean(strings.HasSuffix(s, a)) })
	functions["contains"] = withString(func(s, a string) Value { return Boolean(strings.Contains(s, a)) })
	functions["substring"] = str(1, 2, func(c *evalCtx, e *callExpr, s string, focus Collection) (Collection, error) {
		start, ok, err := c.intArg(e, 0, focus)
		if err != nil || !ok {
			return nil, err
		}
		runes := []rune(s)
		if start < 0 || start >= len(runes) {
			return nil, nil
		}
		end := len(runes)
		if len(e.args) > 1 {
			n, ok, err := c.intArg(e, 1, focus)
			if err != nil {
				return nil, err
			}
			if ok {
				if n < 0 {
					n = 0
				}
				if start+n < end {
					end = start + n
				}
			}
		}
		return Collection{String(string(runes[start:end]))}, nil
	})
	functions["upper"] = str(0, 0, func(c *evalCtx, e *callExpr, s string, focus Collection) (Collection, error) {
		return Collection{String(strings.ToUpper(s))}, nil
	})
	functions["lower"] = str(0, 0, func(c *evalCtx, e *callExpr, s string, focus Collection) (Collection, error) {
		return Collection{String(strings.ToLower(s))}, nil
	})
	functions["trim"] = str(0, 0, func(c *evalCtx, e *callExpr, s string, focus Collection) (Collection, error) {
		return Collection{String(strings.TrimSpace(s))}, nil
	})
	functions["length"] = str(0, 0, func(c *evalCtx, e *callExpr, s string, focus Collection) (Collection, error) {
		return Collection{Integer(utf8.RuneCountInString(s))}, nil
	})
	functions["toChars"] = str(0, 0, func(c *evalCtx, e *callExpr, s string, focus Collection) (Collection, error) {
		var out Collection
		for _, r := range s {
			out = append(out, String(string(r)))
		}
		return out, nil
	})
	functions["replace"] = str(2, 2, func(c *evalCtx, e *callExpr, s string, focus Collection) (Collection, error) {
		pat, ok, err := c.stringArg(e, 0, focus)
		if err != nil || !ok {
			return nil, err
		}
		rep, ok, err := c.stringArg(e, 1, focus)
		if err != nil || !ok {
			return nil, err
		}
		if pat == "" {
			var b strings.Builder
			b.WriteString(rep)
			for _, r := range s {
				b.WriteRune(r)
				b.WriteString(rep)
			}
			return Collection{String(b.String())}, nil
		}
		if len(s)*max(1, len(rep)) > 1<<26 {
			return nil, c.errorf(e.at, "replace() result too large")
		}
		return Collection{String(strings.ReplaceAll(s, pat, rep))}, nil
	})
	functions["matches"] = str(1, 1, matchFunc(false))
	functions["matchesFull"] = str(1, 1, matchFunc(true))
	functions["replaceMatches"] = str(2, 2, func(c *evalCtx, e *callExpr, s string, focus Collection) (Collection, error) {
		pat, ok, err := c.stringArg(e, 0, focus)
		if err != nil || !ok {
			return nil, err
		}
		rep, ok, err := c.stringArg(e, 1, focus)
		if err != nil || !ok {
			return nil, err
		}
		if pat == "" {
			return Collection{String(s)}, nil
		}
		re, err := c.regexp(e.at, pat, false)
		if err != nil {
			return nil, err
		}
		return Collection{String(re.ReplaceAllString(s, javaReplacement(rep)))}, nil
	})
	functions["split"] = str(1, 1, func(c *evalCtx, e *callExpr, s string, focus Collection) (Collection, error) {
		sep, ok, err := c.stringArg(e, 0, focus)
		if err != nil || !ok {
			return nil, err
		}
		var out Collection
		for _, part := range strings.Split(s, sep) {
			out = append(out, String(part))
		}
		return out, c.checkSize(e.at, out)
	})
	functions["join"] = fn(0, 1, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
		sep := ""
		if len(e.args) > 0 {
			s, ok, err := c.stringArg(e, 0, focus)
			if err != nil {
				return nil, err
			}
			if ok {
				sep = s
			}
		}
		parts := make([]string, 0, len(in))
		for _, v := range in {
			p, _ := primitive(v)
			s, ok := p.(String)
			if !ok {
				return nil, c.errorf(e.at, "join() needs strings, got %s", v.Type())
			}
			parts = append(parts, string(s))
		}
		return Collection{String(strings.Join(parts, sep))}, nil
	})
	functions["encode"] = str(1, 1, func(c *evalCtx, e *callExpr, s string, focus Collection) (Collection, error) {
		enc, ok, err := c.stringArg(e, 0, focus)
		if err != nil || !ok {
			return nil, err
		}
		switch enc {
		case "hex":
			return Collection{String(hex.EncodeToString([]byte(s)))}, nil
		case "base64":
			return Collection{String(base64.StdEncoding.EncodeToString([]byte(s)))}, nil
		case "urlbase64":
			return Collection{String(base64.URLEncoding.EncodeToString([]byte(s)))}, nil
		}
		return nil, c.errorf(e.at, "unknown encoding %q", enc)
	})
	functions["decode"] = str(1, 1, func(c *evalCtx, e *callExpr, s string, focus Collection) (Collection, error) {
		enc, ok, err := c.stringArg(e, 0, focus)
		if err != nil || !ok {
			return nil, err
		}
		var b []byte
		switch enc {
		case "hex":
			b, err = hex.DecodeString(s)
		case "base64":
			b, err = base64.StdEncoding.DecodeString(s)
		case "urlbase64":
			b, err = base64.URLEncoding.DecodeString(s)
		default:
			return nil, c.errorf(e.at, "unknown encoding %q", enc)
		}
		if err != nil {
			return nil, nil
		}
		return Collection{String(b)}, nil
	})
	functions["escape"] = str(1, 1, func(c *evalCtx, e *callExpr, s string, focus Collection) (Collection, error) {
		target, ok, err := c.stringArg(e, 0, focus)
		if err != nil || !ok {
			return nil, err
		}
		switch target {
		case "html":
			r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")
			return Collection{String(r.Replace(s))}, nil
		case "json":
			b, _ := json.Marshal(s)
			out := string(b[1 : len(b)-1])
			out = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(out)
			return Collection{String(out)}, nil
		}
		return nil, c.errorf(e.at, "unknown escape target %q", target)
	})
	functions["unescape"] = str(1, 1, func(c *evalCtx, e *callExpr, s string, focus Collection) (Collection, error) {
		target, ok, err := c.stringArg(e, 0, focus)
		if err != nil || !ok {
			return nil, err
		}
		switch target {
		case "html":
			return Collection{String(html.UnescapeString(s))}, nil
		case "json":
			return Collection{String(unescapeJSON(s))}, nil
		}
		return nil, c.errorf(e.at, "unknown escape target %q", target)
	})
}

func runeIndex(s string, byteIndex int) int {
	if byteIndex < 0 {
		return -1
	}
	return utf8.RuneCountInString(s[:byteIndex])
}

func javaReplacement(rep string) string {
	var b strings.Builder
	for i := 0; i < len(rep); i++ {
		c := rep[i]
		switch {
		case c == '$' && i+1 < len(rep) && isDigit(rep[i+1]):
			b.WriteString("${")
			i++
			for i < len(rep) && isDigit(rep[i]) {
				b.WriteByte(rep[i])
				i++
			}
			i--
			b.WriteString("}")
		case c == '$':
			b.WriteString("$$")
		case c == '\\' && i+1 < len(rep):
			i++
			if rep[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(rep[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func addMathFunctions() {
	num := func(f func(c *evalCtx, e *callExpr, v Value, focus Collection) (Collection, error)) *function {
		return fn(0, 1, func(c *evalCtx, e *callExpr, in, focus Collection) (Collection, error) {
			v, ok, err := c.singleInput(e, in)
			if err != nil || !ok {
				return nil, err
			}
			switch v.(type) {
			case Integer, Decimal, Quantity:
			default:
				return nil, c.errorf(e.at, "%s() applies to numbers, not %s", e.name, in[0].Type())
			}
			return f(c, e, v, focus)
		})
	}
	float := func(g func(x float64) float64) func(c *evalCtx, e *callExpr, v Value, focus Collection) (Collection, error) {
		return func(c *evalCtx, e *callExpr, v Value, focus Collection) (Collection, error) {
			d, ok := asDecimal(v)
			if !ok {
				return nil, c.errorf(e.at, "%s() applies to numbers", e.name)
			}
			r := g(d.float())
			if math.IsNaN(r) || math.IsInf(r, 0) {
				return nil, nil
			}
			res, ok := decimalFromFloat(r)
			if !ok {
				return nil, nil
			}
			return Collection{res}, nil
		}
	}
	integral := func(mode apd.Rounder) func(c *evalCtx, e *callExpr, v Value, focus Collection) (Collection, error) {
		return func(c *evalCtx, e *callExpr, v Value, focus Collection) (Collection, error) {
			if i, ok := v.(Integer); ok {
				return Collection{i}, nil
			}
			d, ok := asDecimal(v)
			if !ok {
				return nil, c.errorf(e.at, "%s() applies to numbers", e.name)
			}
			r, ok := d.roundTo(0, mode)
			if !ok {
				return nil, nil
			}
			i, err := r.dec().Int64()
			if err != nil {
				return nil, nil
			}
			return Collection{Integer(i)}, nil
		}
	}
	functions["abs"] = num(func(c *evalCtx, e *callExpr, v Value, focus Collection) (Collection, error) {
		switch x := v.(type) {
		case Integer:
			if x < 0 {
				x = -x
			}
			return Collection{x}, nil
		case Decimal:
			r := newDec()
			r.Abs(x.dec())
			return Collection{Decimal{r}}, nil
		case Quantity:
			r := newDec()
			r.Abs(x.Value.dec())
			return Collection{Quantity{Value: Decimal{r}, Unit: x.Unit}}, nil
		}
		return nil, nil
	})
	functions["ceiling"] = num(integral(apd.RoundCeiling))
	functions["floor"] = num(integral(apd.RoundFloor))
	functions["truncate"] = num(integral(apd.RoundDown))
	functions["exp"] = num(float(math.Exp))
	functions["ln"] = num(float(math.Log))
	functions["sqrt"] = num(float(math.Sqrt))
	functions["round"] = num(func(c *evalCtx, e *callExpr, v Value, focus Collection) (Collection, error) {
		places := 0
		if len(e.args) > 0 {
			p, ok, err := c.intArg(e, 0, focus)
			if err != nil || !ok {
				return nil, err
			}
			if p < 0 {
				return nil, c.errorf(e.at, "round() precision must not be negative")
			}
			places = p
		}
		d, ok := asDecimal(v)
		if !ok {
			return nil, c.errorf(e.at, "round() applies to numbers")
		}
		r, ok := d.roundTo(places, apd.RoundHalfUp)
		if !ok {
			return nil, nil
		}
		return Collection{r}, nil
	})
	functions["log"] = num(func(c *evalCtx, e *callExpr, v Value, focus Collection) (Collection, error) {
		if len(e.args) == 0 {
			return nil, c.semanticf(e.at, "log() needs a base")
		}
		b, ok, err := c.singleArg(e, 0, focus)
		if err != nil || !ok {
			return nil, err
		}
		bd, ok1 := asDecimal(b)
		d, ok2 := asDecimal(v)
		if !ok1 || !ok2 {
			return nil, c.errorf(e.at, "log() applies to numbers")
		}
		r := math.Log(d.float()) / math.Log(bd.float())
		if math.IsNaN(r) || math.IsInf(r, 0) {
			return nil, nil
		}
		res, _ := decimalFromFloat(r)
		return Collection{res}, nil
	})
	functions["power"] = num(func(c *evalCtx, e *callExpr, v Value, focus Collection) (Collection, error) {
		if len(e.args) == 0 {
			return nil, c.semanticf(e.at, "power() needs an exponent")
		}
		p, ok, err := c.singleArg(e, 0, focus)
		if err != nil || !ok {
			return nil, err
		}
		if bi, ok := v.(Integer); ok {
			if pi, ok := p.(Integer); ok && pi >= 0 && pi < 64 {
				r := newDec()
				if _, err := decCtx.Pow(r, apd.New(int64(bi), 0), apd.New(int64(pi), 0)); err == nil {
					if i, err := r.Int64(); err == nil {
						return Collection{Integer(i)}, nil
					}
				}
			}
		}
		bd, ok1 := asDecimal(v)
		pd, ok2 := asDecimal(p)
		if !ok1 || !ok2 {
			return nil, c.errorf(e.at, "power() applies to numbers")
		}
		r := math.Pow(bd.float(), pd.float())
		if math.IsNaN(r) || math.IsInf(r, 0) {
			return nil, nil
		}
		res, _ := decimalFromFloat(r)
		return Collection{res}, nil
	})
}

func unescapeJSON(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+4 < len(s) {
				if r, err := strconv.ParseUint(s[i+1:i+5], 16, 32); err == nil {
					b.WriteRune(rune(r))
					i += 4
					continue
				}
			}
			b.WriteString("\\u")
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// matchFunc implements matches() and, with full, matchesFull(): whether the
// focus string matches the regular expression argument.
func matchFunc(full bool) func(c *evalCtx, e *callExpr, s string, focus Collection) (Collection, error) {
	return func(c *evalCtx, e *callExpr, s string, focus Collection) (Collection, error) {
		pat, ok, err := c.stringArg(e, 0, focus)
		if err != nil || !ok {
			return nil, err
		}
		re, err := c.regexp(e.at, pat, full)
		if err != nil {
			return nil, err
		}
		return boolResult(re.MatchString(s))
	}
}
