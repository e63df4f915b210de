package report

import (
	"archive/zip"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/nhsconform/conform/report/evidence"
)

// RecordFile is the run record's file name inside an evidence bundle.
const RecordFile = "record.json"

// ExchangesDir is the folder of an evidence bundle holding one JSON file per
// HTTP exchange: exchanges/sNNN-stepNN-N.json (scenario, step, exchange).
const ExchangesDir = "exchanges"

// MaxRecordBytes bounds a run record read back from a file, folder or zip.
const MaxRecordBytes int64 = 1 << 30

// ReferenceChain is the chain key of runs against the in-process reference
// server, whose address changes every run.
const ReferenceChain = "conform:reference-server"

// BundleOptions says how to write an evidence bundle.
type BundleOptions struct {
	// Key signs the manifest when set.
	Key ed25519.PrivateKey
	// Zip also writes the sealed folder as DIR.zip.
	Zip bool
	// Options are given to every format.
	Options Options
	// Redact masks secrets in every file written; nil writes as is.
	Redact func([]byte) []byte
	// Created stamps the manifest; zero means the record's end time.
	Created time.Time
}

// BundleResult says what WriteBundle wrote.
type BundleResult struct {
	Dir      string
	Zip      string
	Manifest *evidence.Manifest
}

// ChainKey is the target a bundle is chained by: the record's target, or
// ReferenceChain for the in-process reference server.
func ChainKey(rec *Record) string {
	if rec.Reference {
		return ReferenceChain
	}
	return rec.Target
}

// WriteBundle writes an evidence bundle of rec into dir, which must not
// exist or be empty: every format, each exchange, and the manifest (signed
// when a key is given) linking the previous run for the same target among
// dir's siblings (bundle folders and zips). rec.Previous is set to that link.
func WriteBundle(dir string, rec *Record, opts BundleOptions) (*BundleResult, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("write evidence bundle: %s is not empty; each run needs its own folder", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, ExchangesDir), 0o755); err != nil {
		return nil, fmt.Errorf("write evidence bundle: %w", err)
	}
	prev, err := findPrevious(dir, ChainKey(rec))
	if err != nil {
		return nil, fmt.Errorf("write evidence bundle: %w", err)
	}
	rec.Previous = prev
	for _, f := range Formats() {
		data, err := Render(f.Name, rec, opts.Options, opts.Redact)
		if err != nil {
			return nil, fmt.Errorf("write evidence bundle: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.File), data, 0o644); err != nil {
			return nil, fmt.Errorf("write evidence bundle: %w", err)
		}
	}
	for i, s := range rec.Scenarios {
		for j, st := range s.Steps {
			for k, ex := range st.Exchanges {
				data, err := json.MarshalIndent(ex, "", "  ")
				if err != nil {
					return nil, fmt.Errorf("write evidence bundle: encode exchange: %w", err)
				}
				if opts.Redact != nil {
					data = opts.Redact(data)
				}
				name := fmt.Sprintf("s%03d-step%02d-%d.json", i+1, j+1, k+1)
				if err := os.WriteFile(filepath.Join(dir, ExchangesDir, name), append(data, '\n'), 0o644); err != nil {
					return nil, fmt.Errorf("write evidence bundle: %w", err)
				}
			}
		}
	}
	created := opts.Created
	if created.IsZero() {
		created = rec.Ended
	}
	m, err := evidence.Seal(dir, evidence.SealOptions{
		Tool: strings.TrimSpace(rec.Tool.Name + " " + rec.Tool.Version), Target: ChainKey(rec),
		Created: created, Key: opts.Key, Previous: prev,
	})
	if err != nil {
		return nil, fmt.Errorf("write evidence bundle: %w", err)
	}
	res := &BundleResult{Dir: dir, Manifest: m}
	if opts.Zip {
		res.Zip = strings.TrimRight(filepath.Clean(dir), string(filepath.Separator)) + ".zip"
		if err := evidence.Zip(dir, res.Zip); err != nil {
			return nil, fmt.Errorf("write evidence bundle: %w", err)
		}
	}
	return res, nil
}

// ReadRecord reads a run record from a record file, a bundle folder or a
// bundle zip, checking it against RecordSchema.
func ReadRecord(p string) (*Record, error) {
	data, err := readRecordBytes(p)
	if err != nil {
		return nil, err
	}
	rec, err := ParseRecord(data)
	if err != nil {
		return nil, fmt.Errorf("read run record %s: %w", p, err)
	}
	return rec, nil
}

// ParseRecord decodes a run record's JSON after checking its schemaVersion
// and checking it against RecordSchema.
func ParseRecord(data []byte) (*Record, error) {
	var head struct {
		SchemaVersion string `json:"schemaVersion"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("decode run record: %w", err)
	}
	if head.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("schemaVersion %q, want %q (is it a conform run record?)", head.SchemaVersion, SchemaVersion)
	}
	if err := ValidateRecord(data); err != nil {
		return nil, err
	}
	var rec Record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("decode run record: %w", err)
	}
	return &rec, nil
}

func readRecordBytes(p string) ([]byte, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("read run record: %w", err)
	}
	if st.IsDir() {
		return readLimited(filepath.Join(p, RecordFile))
	}
	if strings.EqualFold(filepath.Ext(p), ".zip") {
		zr, err := zip.OpenReader(p)
		if err != nil {
			return nil, fmt.Errorf("read run record %s: not a readable zip: %w", p, err)
		}
		defer zr.Close()
		for _, f := range zr.File {
			if path.Clean(f.Name) != RecordFile {
				continue
			}
			if f.UncompressedSize64 > uint64(MaxRecordBytes) {
				return nil, fmt.Errorf("read run record %s: %s larger than %d bytes", p, RecordFile, MaxRecordBytes)
			}
			rc, err := f.Open()
			if err != nil {
				return nil, fmt.Errorf("read run record %s: %w", p, err)
			}
			defer rc.Close()
			data, err := readBounded(rc, MaxRecordBytes)
			if err != nil {
				return nil, fmt.Errorf("read run record %s: %w", p, err)
			}
			return data, nil
		}
		return nil, fmt.Errorf("read run record %s: the zip holds no %s", p, RecordFile)
	}
	return readLimited(p)
}

func readLimited(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("read run record: %s does not exist", p)
		}
		return nil, fmt.Errorf("read run record: %w", err)
	}
	defer f.Close()
	data, err := readBounded(f, MaxRecordBytes)
	if err != nil {
		return nil, fmt.Errorf("read run record %s: %w", p, err)
	}
	return data, nil
}
