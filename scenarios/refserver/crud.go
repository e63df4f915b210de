package refserver

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/nhsconform/conform/conformance"
)

// checkResource makes the structural checks and, unless the accept-invalid
// fault is on, the profile validation of a resource about to be written.
func (s *Server) checkResource(ctx context.Context, typ string, res map[string]any, body []byte) error {
	if err := checkStructure(typ, res); err != nil {
		return err
	}
	if s.faults.on(FaultAcceptInvalid) || s.opts.Validator == nil {
		return nil
	}
	outcome, err := s.validate(ctx, typ, body, nil)
	if err != nil {
		return err
	}
	if outcome.HasErrors() {
		return &requestError{status: http.StatusUnprocessableEntity, code: "processing", issues: outcome.Issues}
	}
	return nil
}

// readResource reads the request body as a resource of type typ and checks it
// for writing; on failure it writes the error response and returns false.
func (s *Server) readResource(w http.ResponseWriter, r *http.Request, typ string) (map[string]any, bool) {
	res, body, err := s.readJSON(w, r)
	if err == nil {
		err = s.checkResource(r.Context(), typ, res, body)
	}
	if err != nil {
		writeError(w, s, err)
		return nil, false
	}
	return res, true
}

func checkStructure(typ string, res map[string]any) error {
	rt, _ := res["resourceType"].(string)
	if rt == "" {
		return badRequest("the resource has no resourceType")
	}
	if rt != typ {
		return badRequest("the resource is a %s but the request addresses %s", quote(rt), typ)
	}
	if id, present := res["id"]; present {
		s, ok := id.(string)
		if !ok || !validID(s) {
			return badRequest("invalid resource id: want 1-64 of A-Z a-z 0-9 - .")
		}
	}
	if meta, present := res["meta"]; present {
		if _, ok := meta.(map[string]any); !ok {
			return badRequest("meta is not a JSON object")
		}
	}
	return nil
}

// validate runs the configured validator with the type's profile and any extra profiles.
func (s *Server) validate(ctx context.Context, typ string, body []byte, extra []string) (conformance.Outcome, error) {
	var profiles []string
	if p := s.profiles[typ]; p != "" {
		profiles = append(profiles, p)
	}
	profiles = append(profiles, extra...)
	outcome, err := s.opts.Validator.Validate(ctx, body, profiles...)
	if err != nil {
		return outcome, &requestError{status: http.StatusInternalServerError, code: "exception", msg: "could not validate the resource: " + err.Error()}
	}
	return outcome, nil
}

func (s *Server) handleRead(w http.ResponseWriter, r *http.Request, typ, id string) {
	s.store.mu.RLock()
	v := s.store.get(typ, id)
	s.store.mu.RUnlock()
	switch {
	case v == nil:
		writeOutcome(w, s, http.StatusNotFound, "not-found", typ+"/"+id+" is not known", "")
	case v.deleted:
		writeOutcome(w, s, http.StatusGone, "deleted", typ+"/"+id+" has been deleted", "")
	default:
		s.writeVersion(w, r, http.StatusOK, v, false)
	}
}

func (s *Server) handleVRead(w http.ResponseWriter, r *http.Request, typ, id, vidText string) {
	vid, err := strconv.Atoi(vidText)
	if err != nil || vid < 1 {
		writeOutcome(w, s, http.StatusBadRequest, "invalid", "invalid version id "+quote(vidText), "")
		return
	}
	s.store.mu.RLock()
	v := s.store.vread(typ, id, vid)
	s.store.mu.RUnlock()
	switch {
	case v == nil:
		writeOutcome(w, s, http.StatusNotFound, "not-found", typ+"/"+id+" has no version "+vidText, "")
	case v.deleted:
		writeOutcome(w, s, http.StatusGone, "deleted", typ+"/"+id+" version "+vidText+" is a deletion", "")
	default:
		s.writeVersion(w, r, http.StatusOK, v, false)
	}
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, typ string) {
	res, ok := s.readResource(w, r, typ)
	if !ok {
		return
	}
	out, match, err := s.create(typ, "", res, r.Header.Get("If-None-Exist"), nil)
	if err != nil {
		writeError(w, s, err)
		return
	}
	if match != nil {
		s.writeVersion(w, r, http.StatusOK, match, false)
		return
	}
	status := http.StatusCreated
	if s.faults.on(FaultCreateStatus200) {
		status = http.StatusOK
	}
	s.writeVersion(w, r, status, out.v, true)
}

// written is the result of one write: the new version and the one it replaced.
type written struct {
	v, prev *version
}

// create stores res under id (a new one when empty), or, when ifNoneExist
// matches exactly one resource, returns that match instead.
func (s *Server) create(typ, id string, res map[string]any, ifNoneExist string, undo *[]undoStep) (written, *version, error) {
	var cond *searchQuery
	if ifNoneExist != "" && !s.faults.on(FaultIgnoreIfNoneExist) {
		q, err := parseCondition(typ, strings.TrimPrefix(ifNoneExist, typ+"?"))
		if err != nil {
			return written{}, nil, err
		}
		cond = q
	}
	if undo == nil {
		s.store.mu.Lock()
		defer s.store.mu.Unlock()
	}
	if cond != nil {
		switch matches := s.search(cond); len(matches) {
		case 0:
		case 1:
			return written{}, matches[0], nil
		default:
			return written{}, nil, &requestError{status: http.StatusPreconditionFailed, code: "multiple-matches",
				msg: strconv.Itoa(len(matches)) + " resources match If-None-Exist " + quote(ifNoneExist)}
		}
	}
	if id == "" {
		id = newUUID()
	}
	v, err := s.store.put(typ, id, res, http.MethodPost, s.now(), false, undo)
	if err != nil {
		return written{}, nil, err
	}
	out := written{v: v}
	if undo == nil {
		s.afterWrite(out)
	}
	return out, nil, nil
}

// parseCondition parses the query of a conditional interaction.
func parseCondition(typ, raw string) (*searchQuery, error) {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return nil, badRequest("invalid condition %s: %v", quote(raw), err)
	}
	q, err := parseSearch(typ, vals)
	if err != nil {
		return nil, err
	}
	if len(q.params) == 0 {
		return nil, badRequest("the condition %s names no search parameter", quote(raw))
	}
	return q, nil
}

func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request, typ, id string) {
	res, ok := s.readResource(w, r, typ)
	if !ok {
		return
	}
	out, err := s.update(typ, id, res, r.Header.Get("If-Match"), nil)
	if err != nil {
		writeError(w, s, err)
		return
	}
	s.writeWritten(w, r, out)
}

func (s *Server) writeWritten(w http.ResponseWriter, r *http.Request, out written) {
	if out.prev == nil || out.prev.deleted {
		s.writeVersion(w, r, http.StatusCreated, out.v, true)
		return
	}
	s.writeVersion(w, r, http.StatusOK, out.v, false)
}

// update stores res as the next version of typ/id, honouring If-Match.
func (s *Server) update(typ, id string, res map[string]any, ifMatch string, undo *[]undoStep) (written, error) {
	bodyID, _ := res["id"].(string)
	if bodyID == "" {
		return written{}, badRequest("the resource has no id; an update must carry the id of %s/%s", typ, id)
	}
	if bodyID != id {
		return written{}, badRequest("the resource id %s does not match the URL id %s", quote(bodyID), quote(id))
	}
	if undo == nil {
		s.store.mu.Lock()
		defer s.store.mu.Unlock()
	}
	prev := s.store.get(typ, id)
	if ifMatch != "" && !s.faults.on(FaultIgnoreIfMatch) {
		want, ok := parseETag(ifMatch)
		if !ok {
			return written{}, badRequest("invalid If-Match %s: want W/\"n\"", quote(ifMatch))
		}
		if prev == nil || prev.deleted || prev.vid != want {
			return written{}, &requestError{status: http.StatusPreconditionFailed, code: "conflict",
				msg: "If-Match " + quote(ifMatch) + " does not name the current version of " + typ + "/" + id}
		}
	}
	v, err := s.store.put(typ, id, res, http.MethodPut, s.now(), s.faults.on(FaultNoVersionIncrement) && prev != nil && !prev.deleted, undo)
	if err != nil {
		return written{}, err
	}
	out := written{v: v, prev: prev}
	if undo == nil {
		s.afterWrite(out)
	}
	return out, nil
}

func parseETag(h string) (int, bool) {
	h = strings.TrimPrefix(strings.TrimSpace(h), "W/")
	n, err := strconv.Atoi(strings.Trim(h, `"`))
	return n, err == nil && n > 0
}

func (s *Server) handleConditionalUpdate(w http.ResponseWriter, r *http.Request, typ string) {
	res, ok := s.readResource(w, r, typ)
	if !ok {
		return
	}
	out, err := s.conditionalUpdate(typ, r.URL.RawQuery, res, nil)
	if err != nil {
		writeError(w, s, err)
		return
	}
	s.writeWritten(w, r, out)
}

// conditionalUpdate updates the one resource matching the condition, or
// creates one when none matches.
func (s *Server) conditionalUpdate(typ, condition string, res map[string]any, undo *[]undoStep) (written, error) {
	if condition == "" {
		return written{}, &requestError{status: http.StatusMethodNotAllowed, code: "not-supported", msg: "an update of a type needs a search condition or an id"}
	}
	q, err := parseCondition(typ, condition)
	if err != nil {
		return written{}, err
	}
	if undo == nil {
		s.store.mu.Lock()
		defer s.store.mu.Unlock()
	}
	var matches []*version
	if !s.faults.on(FaultIgnoreConditionalUpdate) {
		matches = s.search(q)
	}
	bodyID, _ := res["id"].(string)
	switch len(matches) {
	case 0:
		id := bodyID
		if id == "" || s.faults.on(FaultIgnoreConditionalUpdate) {
			id = newUUID()
		} else if cur := s.store.get(typ, id); cur != nil && !cur.deleted {
			return written{}, &requestError{status: http.StatusConflict, code: "conflict",
				msg: typ + "/" + id + " exists but does not match the condition " + quote(condition)}
		}
		v, err := s.store.put(typ, id, res, http.MethodPut, s.now(), false, undo)
		if err != nil {
			return written{}, err
		}
		out := written{v: v}
		if undo == nil {
			s.afterWrite(out)
		}
		return out, nil
	case 1:
		prev := matches[0]
		if bodyID != "" && bodyID != prev.id {
			return written{}, badRequest("the resource id %s is not the id of the matching %s/%s", quote(bodyID), typ, prev.id)
		}
		v, err := s.store.put(typ, prev.id, res, http.MethodPut, s.now(), s.faults.on(FaultNoVersionIncrement), undo)
		if err != nil {
			return written{}, err
		}
		out := written{v: v, prev: prev}
		if undo == nil {
			s.afterWrite(out)
		}
		return out, nil
	default:
		return written{}, &requestError{status: http.StatusPreconditionFailed, code: "multiple-matches",
			msg: strconv.Itoa(len(matches)) + " resources match the condition " + quote(condition)}
	}
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request, typ, id string) {
	s.store.mu.Lock()
	_, err := s.delete(typ, id, nil)
	s.store.mu.Unlock()
	if err != nil {
		writeError(w, s, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// delete records the deletion of typ/id; deleting an absent resource is a no-op.
// Callers hold s.store.mu for writing.
func (s *Server) delete(typ, id string, undo *[]undoStep) (*version, error) {
	if s.faults.on(FaultDeleteKeepsResource) {
		return nil, nil
	}
	return s.store.remove(typ, id, s.now(), undo)
}

func (s *Server) handleConditionalDelete(w http.ResponseWriter, r *http.Request, typ string) {
	if r.URL.RawQuery == "" {
		writeOutcome(w, s, http.StatusMethodNotAllowed, "not-supported", "a delete of a type needs a search condition", "")
		return
	}
	q, err := parseCondition(typ, r.URL.RawQuery)
	if err != nil {
		writeError(w, s, err)
		return
	}
	s.store.mu.Lock()
	matches := s.search(q)
	if len(matches) == 1 {
		_, err = s.delete(typ, matches[0].id, nil)
	}
	s.store.mu.Unlock()
	switch {
	case err != nil:
		writeError(w, s, err)
	case len(matches) > 1:
		writeOutcome(w, s, http.StatusPreconditionFailed, "multiple-matches", strconv.Itoa(len(matches))+" resources match the condition", "")
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request, typ, id string) {
	s.store.mu.RLock()
	var versions []*version
	if id == "" {
		versions = s.store.typeHistory(typ)
	} else {
		versions = s.store.history(typ, id)
	}
	s.store.mu.RUnlock()
	if id != "" && versions == nil {
		writeOutcome(w, s, http.StatusNotFound, "not-found", typ+"/"+id+" is not known", "")
		return
	}
	if s.faults.on(FaultNoHistory) && id != "" {
		versions = versions[:1]
	}
	if len(versions) > maxCount {
		versions = versions[:maxCount]
	}
	base := baseURL(r)
	entries := make([]any, 0, len(versions))
	for _, v := range versions {
		e := map[string]any{
			"fullUrl": base + "/" + v.typ + "/" + v.id,
			"request": map[string]any{"method": v.method, "url": historyRequestURL(v)},
			"response": map[string]any{
				"status": historyStatus(v), "etag": v.etag(), "lastModified": formatInstant(v.updated),
			},
		}
		if !v.deleted {
			e["resource"] = json.RawMessage(v.body)
		}
		entries = append(entries, e)
	}
	writeJSON(w, s, http.StatusOK, map[string]any{
		"resourceType": "Bundle",
		"id":           newUUID(),
		"meta":         map[string]any{"lastUpdated": formatInstant(s.now())},
		"type":         "history",
		"total":        len(entries),
		"link":         []any{map[string]any{"relation": "self", "url": base + strings.TrimPrefix(r.URL.Path, BasePath)}},
		"entry":        entries,
	})
}

func historyRequestURL(v *version) string {
	if v.method == http.MethodPost {
		return v.typ
	}
	return v.typ + "/" + v.id
}

func historyStatus(v *version) string {
	switch {
	case v.deleted:
		return "204"
	case v.vid == 1:
		return "201"
	default:
		return "200"
	}
}

func (s *Server) handleValidate(w http.ResponseWriter, r *http.Request, typ string) {
	in, _, err := s.readJSON(w, r)
	if err != nil {
		writeError(w, s, err)
		return
	}
	res, profiles, err := validateInput(in, r.URL.Query()["profile"])
	if err == nil {
		err = checkStructure(typ, res)
	}
	if err != nil {
		writeError(w, s, err)
		return
	}
	issues := []any{}
	switch {
	case s.faults.on(FaultValidateAlwaysOK):
	case s.opts.Validator == nil:
		issues = append(issues, map[string]any{"severity": "warning", "code": "informational",
			"diagnostics": "no profile validator is configured: only structural checks were made"})
	default:
		body, err := json.Marshal(res)
		if err != nil {
			writeError(w, s, err)
			return
		}
		outcome, err := s.validate(r.Context(), typ, body, profiles)
		if err != nil {
			writeError(w, s, err)
			return
		}
		for _, is := range outcome.Issues {
			issues = append(issues, issueJSON(is))
		}
	}
	if len(issues) == 0 {
		issues = append(issues, map[string]any{"severity": "information", "code": "informational", "diagnostics": "no issues found"})
	}
	writeJSON(w, s, http.StatusOK, map[string]any{"resourceType": "OperationOutcome", "issue": issues})
}

// validateInput returns the resource and profiles of a $validate request: a
// Parameters resource (resource, profile) or the resource itself.
func validateInput(in map[string]any, profiles []string) (map[string]any, []string, error) {
	if in["resourceType"] != "Parameters" {
		return in, profiles, nil
	}
	params, _ := in["parameter"].([]any)
	var res map[string]any
	for _, p := range params {
		pm, _ := p.(map[string]any)
		switch pm["name"] {
		case "resource":
			res, _ = pm["resource"].(map[string]any)
		case "profile":
			for _, k := range []string{"valueUri", "valueCanonical", "valueString"} {
				if u, ok := pm[k].(string); ok && u != "" {
					profiles = append(profiles, u)
				}
			}
		}
	}
	if res == nil {
		return nil, nil, badRequest("the Parameters carry no resource parameter")
	}
	return res, profiles, nil
}
