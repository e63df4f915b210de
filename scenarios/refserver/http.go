package refserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/nhsconform/conform/conformance"
	"github.com/nhsconform/conform/profiles/fhirjson"
)

// HTTPErrorCodes is the NHS England code system coding BaRS error responses.
const HTTPErrorCodes = "https://fhir.nhs.uk/CodeSystem/http-error-codes"

const (
	fhirJSON           = "application/fhir+json; charset=utf-8"
	lastModifiedFormat = http.TimeFormat
)

func (s *Server) contentType() string {
	if s.faults.on(FaultWrongContentType) {
		return "application/json; charset=utf-8"
	}
	return fhirJSON
}

// requestError is a failure to be answered with an OperationOutcome.
type requestError struct {
	status int
	code   string
	msg    string
	nhs    string
	issues []conformance.Issue
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) *requestError {
	return &requestError{status: http.StatusBadRequest, code: "invalid", msg: fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, s *Server, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"fatal","code":"exception","diagnostics":"could not encode the response"}]}`)
	}
	writeBody(w, s, status, body)
}

func writeBody(w http.ResponseWriter, s *Server, status int, body []byte) {
	w.Header().Set("Content-Type", s.contentType())
	w.WriteHeader(status)
	w.Write(body)
}

func writeError(w http.ResponseWriter, s *Server, err error) {
	var re *requestError
	if errors.As(err, &re) {
		writeJSON(w, s, re.status, outcomeFor(re))
		return
	}
	if errors.Is(err, errStoreFull) {
		writeOutcome(w, s, http.StatusInsufficientStorage, "too-costly", err.Error(), "")
		return
	}
	writeOutcome(w, s, http.StatusInternalServerError, "exception", err.Error(), "")
}

func writeOutcome(w http.ResponseWriter, s *Server, status int, code, msg, nhsCode string) {
	writeJSON(w, s, status, outcomeFor(&requestError{status: status, code: code, msg: msg, nhs: nhsCode}))
}

// allowMethod reports whether the request uses method; when it does not it
// writes 405 Method Not Allowed naming method in the Allow header.
func allowMethod(w http.ResponseWriter, s *Server, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	methodNotAllowed(w, s, r, method)
	return false
}

func methodNotAllowed(w http.ResponseWriter, s *Server, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeOutcome(w, s, http.StatusMethodNotAllowed, "not-supported", "method "+quote(r.Method)+" is not allowed here", "")
}

// outcomeFor renders a requestError as an OperationOutcome.
func outcomeFor(e *requestError) map[string]any {
	var issues []any
	if e.msg != "" || len(e.issues) == 0 {
		issue := map[string]any{"severity": "error", "code": e.code, "diagnostics": e.msg}
		if e.nhs != "" {
			issue["details"] = map[string]any{"coding": []any{map[string]any{
				"system": HTTPErrorCodes, "code": e.nhs, "display": nhsErrorDisplay[e.nhs],
			}}}
		}
		issues = append(issues, issue)
	}
	for _, is := range e.issues {
		issues = append(issues, issueJSON(is))
	}
	return map[string]any{"resourceType": "OperationOutcome", "issue": issues}
}

func issueJSON(is conformance.Issue) map[string]any {
	code := is.Code
	if code == "" {
		code = "processing"
	}
	sev := string(is.Severity)
	if sev == "" {
		sev = "error"
	}
	out := map[string]any{"severity": sev, "code": code}
	if is.Message != "" {
		out["details"] = map[string]any{"text": is.Message}
	}
	if is.Expression != "" {
		out["expression"] = []any{is.Expression}
	}
	return out
}

var nhsErrorDisplay = map[string]string{
	"REC_BAD_REQUEST":            "400: The Receiver was unable to process the request.",
	"BAD_REQUEST":                "400: The Receiver was unable to process the request.",
	"REC_CONFLICT":               "409: The Receiver identified a conflict.",
	"REC_UNPROCESSABLE_ENTITY":   "422: The Receiver was unable to process the request.",
	"REC_UNSUPPORTED_MEDIA_TYPE": "415: The Receiver was unable to process the request.",
	"REC_SERVER_ERROR":           "500: The Receiver has encountered an error processing the request.",
}

func (s *Server) writeVersion(w http.ResponseWriter, r *http.Request, status int, v *version, withLocation bool) {
	h := w.Header()
	if !s.faults.on(FaultNoETag) {
		h.Set("ETag", v.etag())
	}
	h.Set("Last-Modified", v.updated.UTC().Format(lastModifiedFormat))
	if withLocation && !s.faults.on(FaultNoLocation) {
		h.Set("Location", v.location(baseURL(r)))
	}
	switch preferReturn(r) {
	case "minimal":
		w.WriteHeader(status)
	case "OperationOutcome":
		writeJSON(w, s, status, map[string]any{"resourceType": "OperationOutcome", "issue": []any{map[string]any{
			"severity": "information", "code": "informational", "diagnostics": "stored " + v.typ + "/" + v.id + " version " + fmt.Sprint(v.vid),
		}}})
	default:
		if r.Method == http.MethodHead {
			h.Set("Content-Type", s.contentType())
			w.WriteHeader(status)
			return
		}
		writeBody(w, s, status, v.body)
	}
}

func preferReturn(r *http.Request) string {
	for _, p := range strings.Split(r.Header.Get("Prefer"), ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(k, "return") {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// acceptable reports whether the client accepts FHIR JSON.
func acceptable(r *http.Request) bool {
	if f := r.URL.Query().Get("_format"); f != "" {
		switch f {
		case "json", "application/json", "application/fhir+json":
		default:
			return false
		}
	}
	accept := r.Header.Get("Accept")
	if accept == "" {
		return true
	}
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", "application/json", "application/fhir+json", "application/json+fhir":
			return true
		}
	}
	return false
}

// readJSON reads a bounded request body holding one JSON object.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request) (map[string]any, []byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/fhir+json" && mt != "application/json" && mt != "application/json+fhir") {
			return nil, nil, &requestError{status: http.StatusUnsupportedMediaType, code: "not-supported",
				msg: "unsupported content type " + quote(ct) + "; send application/fhir+json", nhs: "REC_UNSUPPORTED_MEDIA_TYPE"}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, nil, &requestError{status: http.StatusRequestEntityTooLarge, code: "too-costly",
				msg: fmt.Sprintf("request body exceeds %d bytes", s.opts.MaxBodyBytes)}
		}
		return nil, nil, badRequest("read request body: %v", err)
	}
	res, err := decodeObject(body)
	if err != nil {
		return nil, nil, badRequest("parse request body: %v", err)
	}
	return res, body, nil
}

// decodeObject decodes one JSON object with conform's FHIR JSON reader,
// keeping numbers as json.Number.
func decodeObject(body []byte) (map[string]any, error) {
	obj, err := fhirjson.DecodeObject(body)
	if errors.Is(err, fhirjson.ErrNotObject) {
		return nil, errors.New("the body is not a JSON object")
	}
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	return obj, nil
}
