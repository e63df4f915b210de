package report

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nhsconform/conform/report/evidence"
)

// maxManifestBytes bounds a manifest read from a bundle zip.
const maxManifestBytes = 64 << 20

type sealedRun struct {
	name     string
	hash     string
	manifest *evidence.Manifest
}

// CheckChain checks the links between the sealed runs in the folder of runs
// dir (bundle folders, and zips without a folder beside them): every
// run's previous run must still be there with the manifest it had when the
// run was sealed, and every run but the first for its target must link the
// one sealed before it. It returns the problems found per target (the
// target as recorded in the manifests): a run deleted, replaced or moved
// out of the series shows up here.
func CheckChain(dir string) (map[string][]string, error) {
	runs, err := sealedRuns(dir, true)
	if err != nil {
		return nil, fmt.Errorf("check the chain of runs in %s: %w", dir, err)
	}
	byTarget := map[string][]sealedRun{}
	for _, r := range runs {
		byTarget[r.manifest.Target] = append(byTarget[r.manifest.Target], r)
	}
	problems := map[string][]string{}
	for target, list := range byTarget {
		sort.Slice(list, func(i, j int) bool {
			if list[i].manifest.Created != list[j].manifest.Created {
				return list[i].manifest.Created < list[j].manifest.Created
			}
			return list[i].name < list[j].name
		})
		var found []string
		for i, r := range list {
			prev := r.manifest.Previous
			switch {
			case prev == nil && i > 0:
				found = append(found, fmt.Sprintf("run %s links no previous run, but %s was sealed before it for the same target", r.name, list[i-1].name))
			case prev == nil:
			case runs[prev.Run].manifest == nil:
				found = append(found, fmt.Sprintf("run %s links the previous run %s, which is missing: deleted or moved", r.name, prev.Run))
			case runs[prev.Run].hash != prev.ManifestSHA256:
				found = append(found, fmt.Sprintf("run %s links the previous run %s with manifest SHA-256 %s, but its manifest is now %s: replaced or edited", r.name, prev.Run, prev.ManifestSHA256, runs[prev.Run].hash))
			case i > 0 && prev.Run != list[i-1].name:
				found = append(found, fmt.Sprintf("run %s links the previous run %s, but %s was sealed between them", r.name, prev.Run, list[i-1].name))
			}
		}
		if len(found) > 0 {
			problems[target] = found
		}
	}
	return problems, nil
}

// sealedRuns reads the manifests of the sealed runs in the folder of runs
// dir: bundle folders, and zips with no folder of the same name beside
// them. With strict, an unreadable zip or manifest is an error; without,
// it is passed over.
func sealedRuns(dir string, strict bool) (map[string]sealedRun, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	runs := map[string]sealedRun{}
	for _, e := range entries {
		full := filepath.Join(dir, e.Name())
		var data []byte
		name := e.Name()
		switch {
		case e.IsDir():
			if _, data, err = evidence.ReadManifest(full); err != nil {
				continue
			}
		case strings.EqualFold(filepath.Ext(name), ".zip"):
			name = strings.TrimSuffix(name, filepath.Ext(name))
			if st, err := os.Stat(filepath.Join(dir, name)); err == nil && st.IsDir() {
				continue
			}
			if data, err = zipManifest(full); err != nil {
				if strict {
					return nil, err
				}
				continue
			}
		default:
			continue
		}
		var m evidence.Manifest
		if err := json.Unmarshal(data, &m); err != nil || m.SchemaVersion == "" {
			if strict {
				return nil, fmt.Errorf("%s: manifest is not a conform evidence manifest", e.Name())
			}
			continue
		}
		sum := sha256.Sum256(data)
		runs[name] = sealedRun{name: name, hash: hex.EncodeToString(sum[:]), manifest: &m}
	}
	return runs, nil
}

// findPrevious returns the link to the latest sealed run for target in the
// folder of runs that holds bundleDir (bundle folders and zips), or nil.
func findPrevious(bundleDir, target string) (*evidence.RunLink, error) {
	parent := filepath.Dir(filepath.Clean(bundleDir))
	self := filepath.Base(filepath.Clean(bundleDir))
	runs, err := sealedRuns(parent, false)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("find the previous run: %w", err)
	}
	var best *sealedRun
	for name, r := range runs {
		if name == self || r.manifest.Target != target {
			continue
		}
		if best == nil || r.manifest.Created > best.manifest.Created || (r.manifest.Created == best.manifest.Created && name > best.name) {
			r := r
			best = &r
		}
	}
	if best == nil {
		return nil, nil
	}
	return &evidence.RunLink{Run: best.name, ManifestSHA256: best.hash, Created: best.manifest.Created}, nil
}

func zipManifest(p string) ([]byte, error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable zip: %w", p, err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if path.Clean(f.Name) != evidence.ManifestFile {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		defer rc.Close()
		data, err := readBounded(rc, maxManifestBytes)
		if err != nil {
			return nil, fmt.Errorf("%s: manifest %w", p, err)
		}
		return data, nil
	}
	return nil, fmt.Errorf("%s: the zip holds no %s", p, evidence.ManifestFile)
}
