package steps

import (
	"crypto/rand"
	"fmt"
	mathrand "math/rand/v2"
	"strings"
	"time"

	"github.com/nhsconform/conform/profiles/validate"
)

// Built-in template values, available as {{NAME}} without being stored.
const (
	BuiltinRun       = "run"
	BuiltinUUID      = "uuid"
	BuiltinNHSNumber = "nhsNumber"
	BuiltinNow       = "now"
	BuiltinReceiver  = "receiver"
	BuiltinTarget    = "target"
)

// UndefinedValueError is a {{NAME}} that was never stored.
type UndefinedValueError struct {
	Name   string
	Stored []string
}

// Error implements error.
func (e *UndefinedValueError) Error() string {
	stored := "none"
	if len(e.Stored) > 0 {
		stored = strings.Join(e.Stored, ", ")
	}
	return fmt.Sprintf("template value {{%s}} was never stored (stored so far: %s; built in: run, uuid, nhsNumber, now, receiver, target)", e.Name, stored)
}

// expand replaces every {{NAME}} in s using lookup; text without a closing
// "}}" is kept as it is.
func expand(s string, lookup func(name string) (string, bool), stored func() []string) (string, error) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	var b strings.Builder
	for {
		start := strings.Index(s, "{{")
		if start < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		end := strings.Index(s[start+2:], "}}")
		if end < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		name := strings.TrimSpace(s[start+2 : start+2+end])
		b.WriteString(s[:start])
		if !validName(name) {
			b.WriteString("{")
			s = s[start+1:]
			continue
		}
		v, ok := lookup(name)
		if !ok {
			return "", &UndefinedValueError{Name: name, Stored: stored()}
		}
		b.WriteString(v)
		s = s[start+4+end:]
	}
}

func validName(name string) bool {
	if name == "" || len(name) > 100 {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

// NewNHSNumber returns a random NHS Number in the 999 test range whose
// Modulus 11 check digit validate.ValidNHSNumber accepts.
func NewNHSNumber() string {
	for {
		nine := fmt.Sprintf("999%06d", mathrand.IntN(1_000_000))
		for check := '0'; check <= '9'; check++ {
			if n := nine + string(check); validate.ValidNHSNumber(n) {
				return n
			}
		}
	}
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func nowInstant() string {
	return time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)
}
