package fhirpath

// Model is the FHIR type information the engine navigates and checks with:
// element definitions by path and the type hierarchy.
type Model interface {
	// Child describes the element called name (its FHIRPath name, without
	// [x]) under the element defined at path: a type name such as
	// "HumanName" or the path of a backbone element such as "Patient.contact".
	Child(path, name string) (ElementInfo, bool)
	// BaseType returns the type a type is derived from, "" for a root type
	// or an unknown one.
	BaseType(name string) string
	// HasType reports whether the model defines a type of that name.
	HasType(name string) bool
}

// ElementInfo describes one element of a type.
type ElementInfo struct {
	// Types lists the element's type codes: several for a choice element.
	Types []string
	// Path is where the element's own children are defined: the path of a
	// backbone element, or "" to look them up under the element's type.
	Path string
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-32) + s[1:]
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+32) + s[1:]
}

// derivesFrom reports whether typ is base or a descendant of base in the model.
func derivesFrom(m Model, typ, base string) bool {
	for i := 0; typ != "" && i < 20; i++ {
		if typ == base {
			return true
		}
		if m == nil {
			return false
		}
		typ = m.BaseType(typ)
	}
	return false
}
