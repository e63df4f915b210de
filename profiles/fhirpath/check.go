package fhirpath

import "fmt"

// check makes the static checks a compiled expression must pass: paths
// from a named type must exist in the model, and in strict mode ordered
// functions must not follow unordered ones.
func (e *Engine) check(src string, root expr) error {
	ck := &checker{src: src, model: e.opts.Model, strict: e.opts.Strict}
	_, err := ck.walk(root)
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

var orderedFunctions = map[string]bool{"first": true, "last": true, "tail": true, "skip": true, "take": true, "single": false}

func (k *checker) walk(x expr) (staticType, error) {
	switch e := x.(type) {
	case *memberExpr:
		if e.target == nil {
			if k.model != nil && e.name != "" && e.name[0] >= 'A' && e.name[0] <= 'Z' && k.model.HasType(e.name) {
				return staticType{def: e.name}, nil
			}
			return staticType{}, nil
		}
		t, err := k.walk(e.target)
		if err != nil {
			return staticType{}, err
		}
		if t.def == "" || k.model == nil {
			return staticType{}, nil
		}
		info, ok := k.model.Child(t.def, e.name)
		if !ok {
			if IsPrimitiveType(t.def) || t.def == "Resource" || t.def == "DomainResource" {
				return staticType{}, nil
			}
			return staticType{}, k.errorf(e.at, "%s has no element %s", t.def, e.name)
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
	case *callExpr:
		var t staticType
		if e.target != nil {
			var err error
			if t, err = k.walk(e.target); err != nil {
				return staticType{}, err
			}
		}
		for i, a := range e.args {
			if e.fn != nil && e.fn.typeArg && i == 0 {
				continue
			}
			if _, err := k.walk(a); err != nil {
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
		if _, err := k.walk(e.x); err != nil {
			return staticType{}, err
		}
		if e.op == "as" && k.model != nil && e.t.Namespace != NamespaceSystem && k.model.HasType(e.t.Name) {
			return staticType{def: e.t.Name}, nil
		}
		return staticType{}, nil
	case *indexerExpr:
		t, err := k.walk(e.target)
		if err != nil {
			return staticType{}, err
		}
		if _, err := k.walk(e.index); err != nil {
			return staticType{}, err
		}
		if k.strict && t.unordered {
			return staticType{}, k.errorf(e.at, "indexer applied to the unordered result of children() or descendants()")
		}
		return t, nil
	case *childCountExpr:
		if e.target != nil {
			if _, err := k.walk(e.target); err != nil {
				return staticType{}, err
			}
		}
		return staticType{}, nil
	case *unaryExpr:
		_, err := k.walk(e.x)
		return staticType{}, err
	case *binExpr:
		if _, err := k.walk(e.l); err != nil {
			return staticType{}, err
		}
		if _, err := k.walk(e.r); err != nil {
			return staticType{}, err
		}
		return staticType{}, nil
	}
	return staticType{}, nil
}
