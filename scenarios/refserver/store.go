package refserver

import (
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"sync"
	"time"
)

// version is one stored version of a resource; its fields never change once
// stored, so readers may use them after the lock is released.
type version struct {
	typ     string
	id      string
	vid     int
	updated time.Time
	deleted bool
	method  string
	body    []byte
	res     map[string]any
}

func (v *version) etag() string { return `W/"` + strconv.Itoa(v.vid) + `"` }

func (v *version) location(base string) string {
	return base + "/" + v.typ + "/" + v.id + "/_history/" + strconv.Itoa(v.vid)
}

type record struct {
	versions []*version
}

func (r *record) current() *version { return r.versions[len(r.versions)-1] }

// undoStep lets a transaction take back one write.
type undoStep struct {
	typ, id string
	prevLen int
}

// store holds every resource version in memory, per type, in creation order.
type store struct {
	mu       sync.RWMutex
	types    map[string]map[string]*record
	order    map[string][]string
	versions int
	limit    int
	size     int64
	maxSize  int64
	// alter, when set, rewrites each resource before it is stored.
	alter func(typ string, res map[string]any) map[string]any
}

var errStoreFull = errors.New("the server holds its maximum number or size of resource versions")

func newStore(limit int, maxSize int64) *store {
	return &store{types: map[string]map[string]*record{}, order: map[string][]string{}, limit: limit, maxSize: maxSize}
}

// get returns the current version (possibly a deletion) or nil. Callers hold mu.
func (s *store) get(typ, id string) *version {
	r := s.types[typ][id]
	if r == nil {
		return nil
	}
	return r.current()
}

// vread returns one version or nil. Callers hold mu.
func (s *store) vread(typ, id string, vid int) *version {
	r := s.types[typ][id]
	if r == nil {
		return nil
	}
	for _, v := range r.versions {
		if v.vid == vid {
			return v
		}
	}
	return nil
}

// history returns the versions of one resource, newest first. Callers hold mu.
func (s *store) history(typ, id string) []*version {
	r := s.types[typ][id]
	if r == nil {
		return nil
	}
	out := make([]*version, 0, len(r.versions))
	for i := len(r.versions) - 1; i >= 0; i-- {
		out = append(out, r.versions[i])
	}
	return out
}

// typeHistory returns the versions of every resource of a type (of every
// type when typ is empty), newest first. Callers hold mu.
func (s *store) typeHistory(typ string) []*version {
	types := []string{typ}
	if typ == "" {
		types = types[:0]
		for t := range s.order {
			types = append(types, t)
		}
		sort.Strings(types)
	}
	var out []*version
	for _, t := range types {
		for _, id := range s.order[t] {
			out = append(out, s.types[t][id].versions...)
		}
	}
	sortNewestFirst(out)
	return out
}

// live returns the current, undeleted versions of a type in creation order. Callers hold mu.
func (s *store) live(typ string) []*version {
	ids := s.order[typ]
	out := make([]*version, 0, len(ids))
	for _, id := range ids {
		if v := s.types[typ][id].current(); !v.deleted {
			out = append(out, v)
		}
	}
	return out
}

// put stores res as the next version of typ/id, stamping id and meta. With
// keepVersion the version number is not advanced. Callers hold mu for writing.
func (s *store) put(typ, id string, res map[string]any, method string, now time.Time, keepVersion bool, undo *[]undoStep) (*version, error) {
	if s.versions >= s.limit {
		return nil, errStoreFull
	}
	byID := s.types[typ]
	if byID == nil {
		byID = map[string]*record{}
		s.types[typ] = byID
	}
	r := byID[id]
	prevLen := 0
	vid := 1
	if r != nil {
		prevLen = len(r.versions)
		vid = r.current().vid + 1
		if keepVersion {
			vid--
		}
	}
	if s.alter != nil {
		res = s.alter(typ, res)
	}
	stamped := stamp(res, id, vid, now)
	body, err := json.Marshal(stamped)
	if err != nil {
		return nil, err
	}
	if s.size+int64(len(body)) > s.maxSize {
		return nil, errStoreFull
	}
	v := &version{typ: typ, id: id, vid: vid, updated: now, method: method, body: body, res: stamped}
	if r == nil {
		r = &record{}
		byID[id] = r
		s.order[typ] = append(s.order[typ], id)
	}
	r.versions = append(r.versions, v)
	s.versions++
	s.size += int64(len(body))
	if undo != nil {
		*undo = append(*undo, undoStep{typ: typ, id: id, prevLen: prevLen})
	}
	return v, nil
}

// remove records a deletion of typ/id. Callers hold mu for writing.
func (s *store) remove(typ, id string, now time.Time, undo *[]undoStep) (*version, error) {
	r := s.types[typ][id]
	if r == nil || r.current().deleted {
		return nil, nil
	}
	if s.versions >= s.limit {
		return nil, errStoreFull
	}
	v := &version{typ: typ, id: id, vid: r.current().vid + 1, updated: now, deleted: true, method: "DELETE"}
	if undo != nil {
		*undo = append(*undo, undoStep{typ: typ, id: id, prevLen: len(r.versions)})
	}
	r.versions = append(r.versions, v)
	s.versions++
	return v, nil
}

// rollback takes back the given writes, newest first. Callers hold mu for writing.
func (s *store) rollback(undo []undoStep) {
	for i := len(undo) - 1; i >= 0; i-- {
		u := undo[i]
		r := s.types[u.typ][u.id]
		if r == nil {
			continue
		}
		for _, v := range r.versions[u.prevLen:] {
			s.size -= int64(len(v.body))
		}
		s.versions -= len(r.versions) - u.prevLen
		r.versions = r.versions[:u.prevLen]
		if u.prevLen == 0 {
			delete(s.types[u.typ], u.id)
			ids := s.order[u.typ]
			for j := len(ids) - 1; j >= 0; j-- {
				if ids[j] == u.id {
					s.order[u.typ] = append(ids[:j:j], ids[j+1:]...)
					break
				}
			}
		}
	}
}

// stamp returns a shallow copy of res carrying id, meta.versionId and meta.lastUpdated.
func stamp(res map[string]any, id string, vid int, now time.Time) map[string]any {
	out := make(map[string]any, len(res)+2)
	for k, v := range res {
		out[k] = v
	}
	out["id"] = id
	meta := map[string]any{}
	if m, ok := res["meta"].(map[string]any); ok {
		for k, v := range m {
			meta[k] = v
		}
	}
	meta["versionId"] = strconv.Itoa(vid)
	meta["lastUpdated"] = formatInstant(now)
	out["meta"] = meta
	return out
}

func formatInstant(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func sortNewestFirst(vs []*version) {
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].updated.After(vs[j].updated) })
}
