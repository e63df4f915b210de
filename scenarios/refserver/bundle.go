package refserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/nhsconform/conform/profiles/model"
)

const maxBundleEntries = 1000

// bundleEntry is one parsed entry of a transaction or batch.
type bundleEntry struct {
	index       int
	method      string
	typ, id     string
	query       string
	fullURL     string
	ifNoneExist string
	ifMatch     string
	res         map[string]any
	// orig is the resource as sent, before references were rewritten.
	orig map[string]any
	// target is Type/id the entry writes, known before execution.
	target string
	// cond is the entry's condition (If-None-Exist or conditional PUT) and
	// condMatch the id it matched when targets were assigned ("" for none).
	cond      *searchQuery
	condMatch string
	err       error
	out       written
	match     *version
	read      any
}

func (s *Server) handleBundle(w http.ResponseWriter, r *http.Request) {
	in, _, err := s.readJSON(w, r)
	if err != nil {
		writeError(w, s, err)
		return
	}
	if in["resourceType"] != "Bundle" {
		writeError(w, s, badRequest("POST to the base takes a transaction or batch Bundle"))
		return
	}
	kind, _ := in["type"].(string)
	if kind != "transaction" && kind != "batch" {
		writeError(w, s, badRequest("Bundle.type %s is neither transaction nor batch", quote(kind)))
		return
	}
	raw, _ := in["entry"].([]any)
	if len(raw) > maxBundleEntries {
		writeError(w, s, &requestError{status: http.StatusRequestEntityTooLarge, code: "too-costly",
			msg: "the Bundle has " + strconv.Itoa(len(raw)) + " entries; at most " + strconv.Itoa(maxBundleEntries) + " are accepted"})
		return
	}
	entries := make([]*bundleEntry, len(raw))
	for i, e := range raw {
		entries[i] = parseEntry(i, e)
	}
	base := baseURL(r)
	if kind == "transaction" {
		if err := s.transaction(r.Context(), entries); err != nil {
			writeError(w, s, err)
			return
		}
	} else {
		s.batch(r.Context(), entries)
	}
	out := make([]any, len(entries))
	for i, e := range entries {
		out[i] = s.entryResponse(base, e)
	}
	writeJSON(w, s, http.StatusOK, map[string]any{
		"resourceType": "Bundle",
		"id":           newUUID(),
		"type":         kind + "-response",
		"entry":        out,
	})
}

func parseEntry(i int, raw any) *bundleEntry {
	e := &bundleEntry{index: i}
	m, _ := raw.(map[string]any)
	req, _ := m["request"].(map[string]any)
	if req == nil {
		e.err = badRequest("entry %d has no request", i)
		return e
	}
	e.method, _ = req["method"].(string)
	e.ifNoneExist, _ = req["ifNoneExist"].(string)
	e.ifMatch, _ = req["ifMatch"].(string)
	e.fullURL, _ = m["fullUrl"].(string)
	rawURL, _ := req["url"].(string)
	if i := strings.Index(rawURL, BasePath+"/"); strings.Contains(rawURL, "://") && i >= 0 {
		rawURL = rawURL[i+len(BasePath)+1:]
	}
	path, query, _ := strings.Cut(rawURL, "?")
	e.query = query
	seg := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(seg) == 0 || !model.IsR4ResourceType(seg[0]) || seg[0] == "Parameters" || seg[0] == "OperationOutcome":
		e.err = badRequest("entry %d: request.url %s names no supported resource type", i, quote(rawURL))
		return e
	case len(seg) > 2:
		e.err = badRequest("entry %d: request.url %s is not Type, Type/id or Type?search", i, quote(rawURL))
		return e
	case len(seg) == 2:
		if !validID(seg[1]) {
			e.err = badRequest("entry %d: invalid id in request.url %s", i, quote(rawURL))
			return e
		}
		e.id = seg[1]
	}
	e.typ = seg[0]
	switch e.method {
	case http.MethodPost, http.MethodPut:
		e.res, _ = m["resource"].(map[string]any)
		if e.res == nil {
			e.err = badRequest("entry %d: %s without a resource", i, e.method)
		} else if err := checkStructure(e.typ, e.res); err != nil {
			e.err = badRequest("entry %d: %v", i, err)
		} else if e.method == http.MethodPost && e.id != "" {
			e.err = badRequest("entry %d: POST must address a type, not %s", i, quote(rawURL))
		} else if e.method == http.MethodPut && e.id == "" && e.query == "" {
			e.err = badRequest("entry %d: PUT needs an id or a search condition", i)
		}
	case http.MethodDelete:
		if e.id == "" && e.query == "" {
			e.err = badRequest("entry %d: DELETE needs an id or a search condition", i)
		}
	case http.MethodGet:
	default:
		e.err = badRequest("entry %d: unsupported request.method %s", i, quote(e.method))
	}
	return e
}

// maxTransactionAttempts bounds how often a transaction is prepared again
// when the store changed while it was being validated.
const maxTransactionAttempts = 3

// transaction runs every entry or none, in the order DELETE, POST, PUT, GET.
// Targets are assigned under the store lock, the rewritten resources are
// validated without it, and the writes are made under it once the
// conditions are seen to still hold.
func (s *Server) transaction(ctx context.Context, entries []*bundleEntry) error {
	for _, e := range entries {
		if e.err != nil {
			return e.err
		}
		e.orig = e.res
	}
	for attempt := 1; ; attempt++ {
		if err := s.prepareTransaction(ctx, entries); err != nil {
			return err
		}
		s.store.mu.Lock()
		if s.conditionsHold(entries) {
			err := s.commitTransaction(entries)
			s.store.mu.Unlock()
			return err
		}
		s.store.mu.Unlock()
		if attempt == maxTransactionAttempts {
			return &requestError{status: http.StatusConflict, code: "conflict",
				msg: "the resources the transaction's conditions match kept changing while it was validated; nothing was stored"}
		}
	}
}

// prepareTransaction assigns every entry its target, rewrites references to
// the targets and validates the resources.
func (s *Server) prepareTransaction(ctx context.Context, entries []*bundleEntry) error {
	targets := map[string]string{}
	s.store.mu.RLock()
	for _, e := range entries {
		e.res, e.match, e.target, e.cond, e.condMatch = cloneTop(e.orig), nil, "", nil, ""
		if e.method == http.MethodPost {
			e.id = ""
		}
		if err := s.assignTarget(e); err != nil {
			s.store.mu.RUnlock()
			return err
		}
		if e.target != "" && e.fullURL != "" {
			targets[e.fullURL] = e.target
		}
	}
	s.store.mu.RUnlock()
	if !s.faults.on(FaultTransactionKeepsURN) {
		for _, e := range entries {
			if e.res != nil {
				e.res = rewriteReferences(e.res, targets).(map[string]any)
			}
		}
	}
	for _, e := range entries {
		if e.res == nil || e.match != nil {
			continue
		}
		if err := s.checkEntry(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// conditionsHold reports whether every condition still matches what it
// matched when targets were assigned. Callers hold s.store.mu.
func (s *Server) conditionsHold(entries []*bundleEntry) bool {
	for _, e := range entries {
		if e.cond == nil {
			continue
		}
		matches := s.search(e.cond)
		switch {
		case e.condMatch == "" && len(matches) == 0:
		case e.condMatch != "" && len(matches) == 1 && matches[0].id == e.condMatch:
			if e.match != nil {
				e.match = matches[0]
			}
		default:
			return false
		}
	}
	return true
}

// commitTransaction makes the writes, all or none. Callers hold s.store.mu for writing.
func (s *Server) commitTransaction(entries []*bundleEntry) error {
	var undo []undoStep
	for _, method := range []string{http.MethodDelete, http.MethodPost, http.MethodPut, http.MethodGet} {
		for _, e := range entries {
			if e.method != method {
				continue
			}
			s.execute(e, &undo)
			if e.err != nil {
				s.store.rollback(undo)
				var re *requestError
				if errors.As(e.err, &re) {
					re.msg = "transaction entry " + strconv.Itoa(e.index) + " failed, nothing was stored: " + re.msg
				}
				return e.err
			}
		}
	}
	for _, e := range entries {
		if e.out.v != nil {
			s.afterWrite(e.out)
		}
	}
	return nil
}

// cloneTop returns a copy of a resource's top level (nil for nil), so that
// setting its id leaves the original alone.
func cloneTop(res map[string]any) map[string]any {
	if res == nil {
		return nil
	}
	out := make(map[string]any, len(res))
	for k, v := range res {
		out[k] = v
	}
	return out
}

func (s *Server) checkEntry(ctx context.Context, e *bundleEntry) error {
	body, err := json.Marshal(e.res)
	if err != nil {
		return err
	}
	if err := s.checkResource(ctx, e.typ, e.res, body); err != nil {
		var re *requestError
		if errors.As(err, &re) {
			re.msg = strings.TrimSpace("entry " + strconv.Itoa(e.index) + " (" + e.typ + ") is not valid. " + re.msg)
		}
		return err
	}
	return nil
}

// assignTarget decides which Type/id a writing entry will produce, resolving
// conditions against the store. Callers hold s.store.mu for reading.
func (s *Server) assignTarget(e *bundleEntry) error {
	switch {
	case e.method == http.MethodPost && e.ifNoneExist != "" && !s.faults.on(FaultIgnoreIfNoneExist):
		q, err := parseCondition(e.typ, strings.TrimPrefix(e.ifNoneExist, e.typ+"?"))
		if err != nil {
			return err
		}
		e.cond = q
		switch matches := s.search(q); len(matches) {
		case 0:
			e.id = newUUID()
		case 1:
			e.match = matches[0]
			e.id = matches[0].id
			e.condMatch = e.id
		default:
			return &requestError{status: http.StatusPreconditionFailed, code: "multiple-matches",
				msg: "entry " + strconv.Itoa(e.index) + ": several resources match If-None-Exist"}
		}
	case e.method == http.MethodPost:
		e.id = newUUID()
	case e.method == http.MethodPut && e.id == "":
		q, err := parseCondition(e.typ, e.query)
		if err != nil {
			return err
		}
		if !s.faults.on(FaultIgnoreConditionalUpdate) {
			e.cond = q
		}
		matches := s.search(q)
		switch {
		case len(matches) == 1:
			e.target = e.typ + "/" + matches[0].id
			e.condMatch = matches[0].id
			return nil
		case len(matches) > 1:
			return &requestError{status: http.StatusPreconditionFailed, code: "multiple-matches",
				msg: "entry " + strconv.Itoa(e.index) + ": several resources match the condition"}
		}
		if _, has := e.res["id"]; !has {
			e.res["id"] = newUUID()
		}
		e.target = e.typ + "/" + e.res["id"].(string)
		return nil
	case e.method == http.MethodPut:
	default:
		return nil
	}
	e.target = e.typ + "/" + e.id
	return nil
}

// execute runs one entry against the store. Callers hold s.store.mu.
func (s *Server) execute(e *bundleEntry, undo *[]undoStep) {
	if e.err != nil {
		return
	}
	switch e.method {
	case http.MethodPost:
		if e.match != nil {
			return
		}
		e.out, e.match, e.err = s.create(e.typ, e.id, e.res, "", undo)
	case http.MethodPut:
		if e.id != "" {
			e.out, e.err = s.update(e.typ, e.id, e.res, e.ifMatch, undo)
		} else {
			e.out, e.err = s.conditionalUpdate(e.typ, e.query, e.res, undo)
		}
	case http.MethodDelete:
		if e.id != "" {
			_, e.err = s.delete(e.typ, e.id, undo)
			return
		}
		q, err := parseCondition(e.typ, e.query)
		if err != nil {
			e.err = err
			return
		}
		switch matches := s.search(q); len(matches) {
		case 0:
		case 1:
			_, e.err = s.delete(e.typ, matches[0].id, undo)
		default:
			e.err = &requestError{status: http.StatusPreconditionFailed, code: "multiple-matches", msg: "several resources match the condition"}
		}
	case http.MethodGet:
		if e.id != "" {
			v := s.store.get(e.typ, e.id)
			if v == nil || v.deleted {
				e.err = &requestError{status: http.StatusNotFound, code: "not-found", msg: e.typ + "/" + e.id + " is not known"}
				return
			}
			e.match = v
			return
		}
		vals, err := url.ParseQuery(e.query)
		if err != nil {
			e.err = badRequest("invalid search %s", quote(e.query))
			return
		}
		q, err := parseSearch(e.typ, vals)
		if err != nil {
			e.err = err
			return
		}
		q.interactive = true
		e.read = q
	}
}

// batch runs every entry on its own.
func (s *Server) batch(ctx context.Context, entries []*bundleEntry) {
	for _, e := range entries {
		if e.err != nil {
			continue
		}
		if e.res != nil {
			if err := s.checkEntry(ctx, e); err != nil {
				e.err = err
				continue
			}
		}
		s.store.mu.Lock()
		var undo []undoStep
		if e.method == http.MethodPost && e.ifNoneExist != "" {
			e.out, e.match, e.err = s.create(e.typ, "", e.res, e.ifNoneExist, &undo)
		} else {
			s.execute(e, &undo)
		}
		if e.err == nil && e.out.v != nil {
			s.afterWrite(e.out)
		}
		s.store.mu.Unlock()
	}
}

func (s *Server) entryResponse(base string, e *bundleEntry) map[string]any {
	if e.err != nil {
		var re *requestError
		if !errors.As(e.err, &re) {
			re = &requestError{status: http.StatusInternalServerError, code: "exception", msg: e.err.Error()}
		}
		return map[string]any{"response": map[string]any{
			"status": statusText(re.status), "outcome": outcomeFor(re),
		}}
	}
	switch {
	case e.out.v != nil:
		v := e.out.v
		status := http.StatusOK
		if e.out.prev == nil || e.out.prev.deleted {
			status = http.StatusCreated
		}
		resp := map[string]any{"status": statusText(status), "lastModified": formatInstant(v.updated)}
		if !s.faults.on(FaultNoETag) {
			resp["etag"] = v.etag()
		}
		if !s.faults.on(FaultNoLocation) {
			resp["location"] = v.typ + "/" + v.id + "/_history/" + strconv.Itoa(v.vid)
		}
		return map[string]any{"fullUrl": base + "/" + v.typ + "/" + v.id, "resource": json.RawMessage(v.body), "response": resp}
	case e.match != nil:
		v := e.match
		resp := map[string]any{"status": statusText(http.StatusOK), "lastModified": formatInstant(v.updated)}
		if !s.faults.on(FaultNoETag) {
			resp["etag"] = v.etag()
		}
		return map[string]any{"fullUrl": base + "/" + v.typ + "/" + v.id, "resource": json.RawMessage(v.body), "response": resp}
	case e.read != nil:
		q := e.read.(*searchQuery)
		s.store.mu.RLock()
		matches := s.search(q)
		s.store.mu.RUnlock()
		return map[string]any{"resource": s.searchset(base, q, matches), "response": map[string]any{"status": statusText(http.StatusOK)}}
	default:
		return map[string]any{"response": map[string]any{"status": statusText(http.StatusNoContent)}}
	}
}

func statusText(code int) string { return strconv.Itoa(code) + " " + http.StatusText(code) }

// rewriteReferences returns v with every reference naming a key of targets
// replaced by its Type/id.
func rewriteReferences(v any, targets map[string]string) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			if ref, ok := x.(string); ok && k == "reference" {
				if to, hit := targets[ref]; hit {
					out[k] = to
					continue
				}
			}
			out[k] = rewriteReferences(x, targets)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = rewriteReferences(x, targets)
		}
		return out
	default:
		return v
	}
}
