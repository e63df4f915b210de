package fhirpath

import (
	"fmt"
	"strings"
)

// check makes the static checks a compiled expression must pass: paths must
// exist in the model where the checker knows the type they start from (a
// leading type name, as() and ofType(), or the context given to CompileFor),
// and in strict mode ordered functions must not follow unordered ones.
func (e *Engine) check(src string, root expr, context staticType) error {
	ck := &checker{src: src, model: e.opts.Model, strict: e.opts.Strict}
	_, err := ck.walk(root, context)
	return err
}

type checker struct {
	src    string
	model  Model
	strict bool
}

// staticType is what the checker knows of an expression's type: a
// definition path the model can look children up under, or "".
type staticType struct {
	def       string
	unordered bool
}

func (k *checker) errorf(at int, format string, args ...any) error {
	return &Error{Kind: SemanticError, Pos: positionOf(k.src, at), Msg: fmt.Sprintf(format, args...)}
}

var orderedFunctions = map[string]bool{"first": true, "last": true, "tail": true, "skip": true, "take": true}

// lambdaFunctions evaluate their arguments once per input item, with the item as focus.
var lambdaFunctions = map[string]bool{
	"where": true, "select": true, "all": true, "exists": true, "repeat": true, "sort": true, "aggregate": true, "trace": true,
}

// child resolves an element name under a known definition.
func (k *checker) child(at int, t staticType, name string) (staticType, error) {
	if t.def == "" || k.model == nil {
		return staticType{}, nil
	}
	info, ok := k.model.Child(t.def, name)
	if !ok {
		if IsPrimitiveType(t.def) || t.def == "Resource" || t.def == "DomainResource" || strings.HasPrefix(t.def, "System.") {
			return staticType{}, nil
		}
		return staticType{}, k.errorf(at, "%s has no element %s", t.def, name)
	}
	if len(info.Types) != 1 {
		return staticType{}, nil
	}
	def := info.Path
	if def == "" {
		def = info.Types[0]
	}
	if def == "Resource" || def == "DomainResource" {
		def = ""
	}
	return staticType{def: def}, nil
}

func (k *checker) walk(x expr, ctx staticType) (staticType, error) {
	switch e := x.(type) {
	case *memberExpr:
		if e.target == nil {
			if k.model != nil && e.name != "" && e.name[0] >= 'A' && e.name[0] <= 'Z' && k.model.HasType(e.name) {
				return staticType{def: e.name}, nil
			}
			return k.child(e.at, ctx, e.name)
		}
		t, err := k.walk(e.target, ctx)
		if err != nil {
			return staticType{}, err
		}
		return k.child(e.at, t, e.name)
	case *thisExpr:
		return staticType{def: ctx.def}, nil
	case *envExpr:
		if e.name == "context" {
			return staticType{def: ctx.def}, nil
		}
		return staticType{}, nil
	case *callExpr:
		t := staticType{def: ctx.def}
		if e.target != nil {
			var err error
			if t, err = k.walk(e.target, ctx); err != nil {
				return staticType{}, err
			}
		}
		argCtx := ctx
		if lambdaFunctions[e.name] || (e.name == "iif" && e.target != nil) {
			argCtx = staticType{def: t.def}
		}
		if e.name == "aggregate" || e.name == "trace" {
			argCtx = staticType{}
		}
		for i, a := range e.args {
			if e.fn != nil && e.fn.typeArg && i == 0 {
				continue
			}
			if _, err := k.walk(a, argCtx); err != nil {
				return staticType{}, err
			}
		}
		if k.strict && t.unordered && orderedFunctions[e.name] {
			return staticType{}, k.errorf(e.at, "%s() applied to the unordered result of children() or descendants()", e.name)
		}
		switch e.name {
		case "as", "ofType":
			if k.model != nil && e.typ.Namespace != NamespaceSystem && k.model.HasType(e.typ.Name) {
				return staticType{def: e.typ.Name}, nil
			}
			return staticType{}, nil
		case "where", "first", "last", "tail", "skip", "take", "single", "distinct", "trace":
			return t, nil
		case "children", "descendants":
			return staticType{unordered: true}, nil
		}
		return staticType{}, nil
	case *typeExpr:
		if _, err := k.walk(e.x, ctx); err != nil {
			return staticType{}, err
		}
		if e.op == "as" && k.model != nil && e.t.Namespace != NamespaceSystem && k.model.HasType(e.t.Name) {
			return staticType{def: e.t.Name}, nil
		}
		return staticType{}, nil
	case *indexerExpr:
		t, err := k.walk(e.target, ctx)
		if err != nil {
			return staticType{}, err
		}
		if _, err := k.walk(e.index, ctx); err != nil {
			return staticType{}, err
		}
		if k.strict && t.unordered {
			return staticType{}, k.errorf(e.at, "indexer applied to the unordered result of children() or descendants()")
		}
		return staticType{def: t.def}, nil
	case *childCountExpr:
		if e.target != nil {
			if _, err := k.walk(e.target, ctx); err != nil {
				return staticType{}, err
			}
		}
		return staticType{}, nil
	case *unaryExpr:
		_, err := k.walk(e.x, ctx)
		return staticType{}, err
	case *binExpr:
		if _, err := k.walk(e.l, ctx); err != nil {
			return staticType{}, err
		}
		if _, err := k.walk(e.r, ctx); err != nil {
			return staticType{}, err
		}
		if e.op == "|" {
			return staticType{}, nil
		}
		return staticType{}, nil
	}
	return staticType{}, nil
}

// definitionOf resolves an element path such as "Patient.contact.name" to
// where its children are defined ("HumanName"); "" when the path is unknown
// or crosses a choice or resource-typed element.
func (e *Engine) definitionOf(path string) string {
	m := e.opts.Model
	if m == nil || path == "" {
		return ""
	}
	segs := strings.Split(strings.ReplaceAll(path, "[x]", ""), ".")
	if !m.HasType(segs[0]) {
		return ""
	}
	def := segs[0]
	for _, seg := range segs[1:] {
		info, ok := m.Child(def, seg)
		if !ok || len(info.Types) != 1 {
			return ""
		}
		def = info.Path
		if def == "" {
			def = info.Types[0]
		}
		if def == "Resource" || def == "DomainResource" {
			return ""
		}
	}
	return def
}
