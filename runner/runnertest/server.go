// Package runnertest is a small in-memory FHIR server for conform's own
// tests: create, read, update (conditional too), delete, search by
// identifier, $process-message, pushes to a callback, and endpoints that
// misbehave on purpose. It counts every request by method and path.
package runnertest

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Server is a running test FHIR server.
type Server struct {
	*httptest.Server
	mu        sync.Mutex
	resources map[string]map[string]any
	nextID    int
	counts    map[string]int
	auth      string
}

// New starts a server; when bearer is not empty every request must carry it.
func New(bearer string) *Server {
	s := &Server{resources: map[string]map[string]any{}, counts: map[string]int{}, auth: bearer}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// NewTLS starts a server on HTTPS with the given TLS configuration (its
// certificate, and client certificate checks for mutual TLS).
func NewTLS(bearer string, cfg *tls.Config) *Server {
	s := &Server{resources: map[string]map[string]any{}, counts: map[string]int{}, auth: bearer}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Server.TLS = cfg
	s.Server.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.Server.StartTLS()
	return s
}

// Count returns how many requests arrived with method to a path starting with prefix.
func (s *Server) Count(method, prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, v := range s.counts {
		m, p, _ := strings.Cut(k, " ")
		if m == method && strings.HasPrefix(p, prefix) {
			n += v
		}
	}
	return n
}

func (s *Server) countKey(r *http.Request) string { return r.Method + " " + r.URL.Path }

func outcome(w http.ResponseWriter, status int, code, text string) {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"%s","details":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/http-error-codes","code":"%s"}]},"diagnostics":%q}]}`, code, strings.ToUpper(code), text)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.counts[s.countKey(r)]++
	s.mu.Unlock()
	if id := r.Header.Get("X-Request-Id"); id != "" {
		w.Header().Set("X-Request-Id", id)
	}
	if id := r.Header.Get("X-Correlation-Id"); id != "" {
		w.Header().Set("X-Correlation-Id", id)
	}
	if s.auth != "" && r.Header.Get("Authorization") != "Bearer "+s.auth {
		outcome(w, http.StatusUnauthorized, "security", "missing or wrong token")
		return
	}
	path := strings.Trim(r.URL.Path, "/")
	switch path {
	case "slow":
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return
	case "reset":
		io.Copy(io.Discard, r.Body)
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			if tcp, ok := conn.(*net.TCPConn); ok {
				tcp.SetLinger(0)
			}
			conn.Close()
		}
		return
	case "error500":
		outcome(w, http.StatusInternalServerError, "exception", "internal error")
		return
	case "html":
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><body>maintenance</body></html>")
		return
	case "big":
		w.Header().Set("Content-Length", fmt.Sprint(10<<20))
		chunk := bytes.Repeat([]byte(" "), 1<<20)
		for range 10 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		return
	case "loop":
		http.Redirect(w, r, "/loop", http.StatusFound)
		return
	case "metadata":
		writeJSON(w, 200, map[string]any{"resourceType": "CapabilityStatement", "status": "active", "fhirVersion": "4.0.1", "kind": "instance", "format": []any{"json"}})
		return
	case "$process-message":
		s.processMessage(w, r)
		return
	case "trigger":
		s.trigger(w, r)
		return
	}
	typ, id, _ := strings.Cut(path, "/")
	switch {
	case r.Method == http.MethodPost && path == "":
		s.bundle(w, r)
	case r.Method == http.MethodGet && id == "":
		s.search(w, r, typ)
	case r.Method == http.MethodGet:
		s.read(w, typ, id)
	case r.Method == http.MethodPost && id == "":
		s.create(w, r, typ)
	case r.Method == http.MethodPut:
		s.update(w, r, typ, id)
	case r.Method == http.MethodDelete:
		s.mu.Lock()
		delete(s.resources, typ+"/"+id)
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		outcome(w, http.StatusMethodNotAllowed, "not-supported", r.Method+" "+path)
	}
}

func readResource(w http.ResponseWriter, r *http.Request, typ string) (map[string]any, bool) {
	var res map[string]any
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&res); err != nil {
		outcome(w, http.StatusBadRequest, "structure", "body is not JSON: "+err.Error())
		return nil, false
	}
	if rt, _ := res["resourceType"].(string); typ != "" && rt != typ {
		outcome(w, http.StatusBadRequest, "invalid", fmt.Sprintf("resourceType %q does not match %s", rt, typ))
		return nil, false
	}
	return res, true
}

func identifierValue(res map[string]any) string {
	ids, _ := res["identifier"].([]any)
	for _, i := range ids {
		m, _ := i.(map[string]any)
		sys, _ := m["system"].(string)
		val, _ := m["value"].(string)
		return sys + "|" + val
	}
	return ""
}

func (s *Server) store(typ, id string, res map[string]any) int {
	version := 1
	if old, ok := s.resources[typ+"/"+id]; ok {
		meta, _ := old["meta"].(map[string]any)
		fmt.Sscanf(fmt.Sprint(meta["versionId"]), "%d", &version)
		version++
	}
	res["id"] = id
	res["meta"] = map[string]any{"versionId": fmt.Sprint(version)}
	s.resources[typ+"/"+id] = res
	return version
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, typ string) {
	res, ok := readResource(w, r, typ)
	if !ok {
		return
	}
	s.mu.Lock()
	s.nextID++
	id := fmt.Sprintf("%d", s.nextID)
	s.store(typ, id, res)
	s.mu.Unlock()
	w.Header().Set("Location", s.URL+"/"+typ+"/"+id+"/_history/1")
	w.Header().Set("ETag", `W/"1"`)
	writeJSON(w, http.StatusCreated, res)
}

func (s *Server) read(w http.ResponseWriter, typ, id string) {
	s.mu.Lock()
	res, ok := s.resources[typ+"/"+id]
	s.mu.Unlock()
	if !ok {
		outcome(w, http.StatusNotFound, "not-found", typ+"/"+id)
		return
	}
	writeJSON(w, 200, res)
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, typ, id string) {
	res, ok := readResource(w, r, typ)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" {
		want := r.URL.Query().Get("identifier")
		for key, existing := range s.resources {
			if strings.HasPrefix(key, typ+"/") && identifierValue(existing) == want {
				id = strings.TrimPrefix(key, typ+"/")
			}
		}
	}
	status := http.StatusOK
	if id == "" {
		s.nextID++
		id = fmt.Sprintf("%d", s.nextID)
		status = http.StatusCreated
	}
	v := s.store(typ, id, res)
	w.Header().Set("ETag", fmt.Sprintf(`W/"%d"`, v))
	writeJSON(w, status, res)
}

func (s *Server) search(w http.ResponseWriter, r *http.Request, typ string) {
	want := r.URL.Query().Get("identifier")
	var entries []any
	s.mu.Lock()
	for key, res := range s.resources {
		if strings.HasPrefix(key, typ+"/") && (want == "" || identifierValue(res) == want) {
			entries = append(entries, map[string]any{"fullUrl": s.URL + "/" + key, "resource": res, "search": map[string]any{"mode": "match"}})
		}
	}
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries})
}

// bundle answers a transaction or batch by creating each entry's resource.
func (s *Server) bundle(w http.ResponseWriter, r *http.Request) {
	b, ok := readResource(w, r, "Bundle")
	if !ok {
		return
	}
	kind, _ := b["type"].(string)
	if kind != "transaction" && kind != "batch" {
		outcome(w, http.StatusBadRequest, "invalid", "the base accepts only transaction and batch Bundles")
		return
	}
	entries, _ := b["entry"].([]any)
	var out []any
	s.mu.Lock()
	for _, e := range entries {
		entry, _ := e.(map[string]any)
		res, _ := entry["resource"].(map[string]any)
		typ, _ := res["resourceType"].(string)
		s.nextID++
		id := fmt.Sprintf("%d", s.nextID)
		s.store(typ, id, res)
		out = append(out, map[string]any{"response": map[string]any{"status": "201 Created", "location": typ + "/" + id + "/_history/1"}})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"resourceType": "Bundle", "type": kind + "-response", "entry": out})
}

func (s *Server) processMessage(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Request-Id") == "" {
		outcome(w, http.StatusBadRequest, "rec_bad_request", "X-Request-Id is missing")
		return
	}
	res, ok := readResource(w, r, "Bundle")
	if !ok {
		return
	}
	writeJSON(w, 200, map[string]any{"resourceType": "Bundle", "type": "message", "entry": []any{
		map[string]any{"resource": map[string]any{"resourceType": "MessageHeader", "response": map[string]any{"identifier": res["id"], "code": "ok"}}},
	}})
}

// trigger makes the server push a message Bundle to the URL in ?callback=,
// after ?delay= milliseconds, with the request body's id as response.identifier.
func (s *Server) trigger(w http.ResponseWriter, r *http.Request) {
	callback := r.URL.Query().Get("callback")
	var delay time.Duration
	fmt.Sscanf(r.URL.Query().Get("delay"), "%d", &delay)
	res, ok := readResource(w, r, "")
	if !ok {
		return
	}
	msg, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "message", "entry": []any{
		map[string]any{"resource": map[string]any{"resourceType": "MessageHeader", "response": map[string]any{"identifier": res["id"], "code": "ok"}}},
	}})
	go func() {
		time.Sleep(delay * time.Millisecond)
		resp, err := http.Post(callback, "application/fhir+json", bytes.NewReader(msg))
		if err == nil {
			resp.Body.Close()
		}
	}()
	w.WriteHeader(http.StatusAccepted)
}
