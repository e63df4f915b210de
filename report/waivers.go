package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/nhsconform/conform/conformance"
)

// MaxWaiversBytes bounds a waivers file.
const MaxWaiversBytes = 1 << 20

// WaiversFile is the shape of a waivers file: {"waivers": [{"criterion":
// "ADM-03", "reason": "...", "by": "...", "expires": "2026-12-31"}]}.
type WaiversFile struct {
	Waivers []conformance.Waiver `json:"waivers"`
}

// ParseWaivers checks a waivers file against WaiversSchema and returns its
// waivers; every expiry must be a real date and no criterion may be waived twice.
func ParseWaivers(data []byte) ([]conformance.Waiver, error) {
	_, ws, err := compiledSchemas()
	if err != nil {
		return nil, err
	}
	if err := validateAgainst(ws, "waivers file", data); err != nil {
		return nil, err
	}
	var f WaiversFile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("read waivers file: %w", err)
	}
	seen := map[string]bool{}
	for _, w := range f.Waivers {
		if _, err := w.Expired(time.Time{}); err != nil {
			return nil, err
		}
		if seen[w.Criterion] {
			return nil, fmt.Errorf("waivers file waives %s twice", w.Criterion)
		}
		seen[w.Criterion] = true
	}
	return f.Waivers, nil
}

// LoadWaivers reads and checks the waivers file at path.
func LoadWaivers(path string) ([]conformance.Waiver, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read waivers: %w", err)
	}
	defer f.Close()
	data, err := readBounded(f, MaxWaiversBytes)
	if err != nil {
		return nil, fmt.Errorf("read waivers %s: %w", path, err)
	}
	ws, err := ParseWaivers(data)
	if err != nil {
		return nil, fmt.Errorf("waivers %s: %w", path, err)
	}
	return ws, nil
}

// CheckWaivers returns an UnknownCriterionError for the first waiver whose
// criterion is not among known.
func CheckWaivers(waivers []conformance.Waiver, known func(id string) bool) error {
	for _, w := range waivers {
		if !known(w.Criterion) {
			return &UnknownCriterionError{Criterion: w.Criterion}
		}
	}
	return nil
}
