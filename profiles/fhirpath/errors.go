package fhirpath

import "fmt"

// ErrorKind tells a syntax error from a semantic or an execution error.
type ErrorKind int

// Error kinds, as the official FHIRPath test suite names them.
const (
	// SyntaxError means the expression text does not parse.
	SyntaxError ErrorKind = iota + 1
	// SemanticError means the expression parses but cannot be valid: unknown
	// function, wrong argument count, a path the model does not have.
	SemanticError
	// ExecutionError means evaluation failed on the data given.
	ExecutionError
)

// String names the kind as the official test suite does.
func (k ErrorKind) String() string {
	switch k {
	case SyntaxError:
		return "syntax"
	case SemanticError:
		return "semantic"
	case ExecutionError:
		return "execution"
	}
	return "unknown"
}

// Error is a FHIRPath syntax, semantic or execution error with its place in the expression.
type Error struct {
	Kind ErrorKind
	Pos  Position
	Msg  string
}

// Error formats the error with its kind and line:column.
func (e *Error) Error() string {
	return fmt.Sprintf("fhirpath %s error at %s: %s", e.Kind, e.Pos, e.Msg)
}
