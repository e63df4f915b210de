package refserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/nhsconform/conform/profiles/model"
)

// Code systems and canonical URLs of the messaging behaviour.
const (
	BaRSMessageEvents   = "https://fhir.nhs.uk/CodeSystem/message-events-bars"
	BaRSMessageReasons  = "https://fhir.nhs.uk/CodeSystem/message-reason-bars"
	BaRSResponseDef     = "https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-response-referral"
	referralRequestDef  = "https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-referral"
	cancelledRequestDef = "https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-cancelled"
	snomedCT            = "http://snomed.info/sct"
)

// BaRSHeaders are the request headers a BaRS $process-message must carry.
var BaRSHeaders = []string{
	"X-Request-Id", "X-Correlation-Id", "NHSD-Target-Identifier",
	"NHSD-End-User-Organisation", "NHSD-Requesting-Practitioner", "NHSD-Requesting-Software",
}

// countRule bounds how many resources of a type a message may carry.
type countRule struct {
	typ      string
	min, max int
}

// messageCounts holds the resource counts of the BaRS request MessageDefinitions
// (BARS-MessageDefinition-ServiceRequest-Request-Referral and
// BARSMessageDefinitionServiceRequestRequestCancelled); -1 means unbounded.
var messageCounts = map[string][]countRule{
	referralRequestDef: {
		{"MessageHeader", 1, 1}, {"ServiceRequest", 1, 1}, {"Patient", 1, 1}, {"Encounter", 1, 1},
		{"CarePlan", 1, 1}, {"Organization", 2, -1}, {"Practitioner", 1, -1}, {"PractitionerRole", 1, -1},
		{"Consent", 1, -1}, {"HealthcareService", 1, -1}, {"Device", 0, 1},
	},
	cancelledRequestDef: {
		{"MessageHeader", 1, 1}, {"ServiceRequest", 1, 1}, {"Patient", 1, 1}, {"Organization", 2, -1},
	},
}

// message is a parsed message Bundle.
type message struct {
	id      string
	header  map[string]any
	entries []map[string]any
	urls    []string
	// ids holds the id each entry is stored under ("" for entries not stored).
	ids   []string
	byURL map[string]map[string]any
}

func (s *Server) handleProcessMessage(w http.ResponseWriter, r *http.Request) {
	in, body, err := s.readJSON(w, r)
	if err != nil {
		writeError(w, s, err)
		return
	}
	if isBaRS(r.Header, in) {
		s.processBaRS(w, r, in, body)
		return
	}
	msg, err := parseMessage(in)
	if err != nil {
		writeError(w, s, err)
		return
	}
	if err := s.checkMessageResource(r, body, ""); err != nil {
		writeError(w, s, err)
		return
	}
	if err := s.storeMessage(msg); err != nil {
		writeError(w, s, err)
		return
	}
	writeJSON(w, s, http.StatusOK, s.responseMessage(msg, s.publicBase(), false))
}

// isBaRS reports whether a $process-message request is a BaRS interaction:
// it carries one of the NHSD headers BaRS defines, or a MessageHeader with a
// BaRS event, wherever that MessageHeader stands in the Bundle.
func isBaRS(h http.Header, in map[string]any) bool {
	for _, name := range BaRSHeaders {
		if strings.HasPrefix(name, "NHSD-") && h.Get(name) != "" {
			return true
		}
	}
	for _, e := range asList(in["entry"]) {
		res, _ := walkJSON(e, "resource").(map[string]any)
		if res["resourceType"] == "MessageHeader" && coding(res["eventCoding"])["system"] == BaRSMessageEvents {
			return true
		}
	}
	return false
}

func walkJSON(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func parseMessage(in map[string]any) (*message, error) {
	if in["resourceType"] != "Bundle" {
		return nil, badRequest("$process-message takes a Bundle")
	}
	if in["type"] != "message" {
		return nil, badRequest("Bundle.type is %s; $process-message takes a message Bundle", quote(str(in["type"])))
	}
	msg := &message{byURL: map[string]map[string]any{}}
	msg.id, _ = in["id"].(string)
	if msg.id == "" {
		return nil, badRequest("the message Bundle has no id")
	}
	if _, ok := in["timestamp"].(string); !ok {
		return nil, badRequest("the message Bundle has no timestamp")
	}
	raw, _ := in["entry"].([]any)
	if len(raw) > maxBundleEntries {
		return nil, badRequest("the message has more than %d entries", maxBundleEntries)
	}
	for i, e := range raw {
		em, _ := e.(map[string]any)
		res, _ := em["resource"].(map[string]any)
		if res == nil {
			return nil, badRequest("message entry %d has no resource", i)
		}
		if rt, _ := res["resourceType"].(string); !model.IsR4ResourceType(rt) {
			return nil, badRequest("message entry %d has no known resourceType", i)
		}
		msg.entries = append(msg.entries, res)
		u, _ := em["fullUrl"].(string)
		msg.urls = append(msg.urls, u)
		if u != "" {
			msg.byURL[u] = res
		}
		if i == 0 {
			if res["resourceType"] != "MessageHeader" {
				return nil, badRequest("the first entry is a %s; a message starts with its MessageHeader", quote(str(res["resourceType"])))
			}
			msg.header = res
		}
	}
	if msg.header == nil {
		return nil, badRequest("the message has no entries")
	}
	if coding(msg.header["eventCoding"]) == nil {
		return nil, badRequest("the MessageHeader has no eventCoding")
	}
	if err := msg.assignIDs(); err != nil {
		return nil, err
	}
	return msg, nil
}

// assignIDs decides the id each storable entry is stored under: its own id,
// else the uuid of its urn:uuid fullUrl, else a new id, as a server assigns
// one on create.
func (m *message) assignIDs() error {
	m.ids = make([]string, len(m.entries))
	for i, res := range m.entries {
		typ := str(res["resourceType"])
		if !storableInMessage(typ) {
			continue
		}
		id, _ := res["id"].(string)
		if id == "" {
			id = idFromFullURL(typ, m.urls[i])
		}
		if id == "" {
			id = newUUID()
		}
		if !validID(id) {
			return badRequest("message %s entry has no usable id", typ)
		}
		m.ids[i] = id
	}
	return nil
}

// idFromFullURL returns the id a fullUrl names for a resource of type typ:
// the uuid of urn:uuid:UUID, the last segment of a RESTful [base]/Type/id,
// else "".
func idFromFullURL(typ, fullURL string) string {
	if u, ok := strings.CutPrefix(fullURL, "urn:uuid:"); ok && validID(u) {
		return u
	}
	if !strings.Contains(fullURL, "://") {
		return ""
	}
	path, _, _ := strings.Cut(fullURL, "?")
	segs := strings.Split(path, "/")
	if n := len(segs); n >= 2 && segs[n-2] == typ && validID(segs[n-1]) {
		return segs[n-1]
	}
	return ""
}

func storableInMessage(typ string) bool {
	return typ != "MessageHeader" && typ != "Parameters" && typ != "OperationOutcome" && model.IsR4ResourceType(typ)
}

// checkReferences requires every relative or urn reference to resolve to an entry.
func (m *message) checkReferences() error {
	var bad string
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				if ref, ok := x.(string); ok && k == "reference" && bad == "" && !m.resolves(ref) {
					bad = ref
				}
				walk(x)
			}
		case []any:
			for _, x := range t {
				walk(x)
			}
		}
	}
	for _, e := range m.entries {
		walk(e)
	}
	if bad != "" {
		return badRequest("reference %s does not resolve to an entry of the message", quote(bad))
	}
	return nil
}

func (m *message) resolves(ref string) bool {
	if strings.HasPrefix(ref, "#") || (strings.Contains(ref, "://") && !strings.HasPrefix(ref, "urn:")) {
		return true
	}
	if _, ok := m.byURL[ref]; ok {
		return true
	}
	for u := range m.byURL {
		if strings.HasSuffix(u, "/"+ref) {
			return true
		}
	}
	return false
}

func (m *message) resolve(ref any) map[string]any {
	r, _ := ref.(map[string]any)
	s, _ := r["reference"].(string)
	if res, ok := m.byURL[s]; ok {
		return res
	}
	for u, res := range m.byURL {
		if s != "" && strings.HasSuffix(u, "/"+s) {
			return res
		}
	}
	return nil
}

// processBaRS applies the BaRS receiver behaviour to a servicerequest message.
func (s *Server) processBaRS(w http.ResponseWriter, r *http.Request, in map[string]any, body []byte) {
	badCode := "REC_BAD_REQUEST"
	if s.faults.on(FaultWrongErrorCode) {
		badCode = "BAD_REQUEST"
	}
	if !s.faults.on(FaultAcceptMissingHeaders) {
		if problem := checkBaRSHeaders(r.Header); problem != "" {
			writeOutcome(w, s, http.StatusBadRequest, "invalid", problem, badCode)
			return
		}
	}
	requestID := r.Header.Get("X-Request-Id")
	claimed := requestID != "" && !s.faults.on(FaultNoReplayConflict)
	if claimed && !s.claim(requestID) {
		writeOutcome(w, s, http.StatusConflict, "duplicate", "X-Request-Id "+quote(requestID)+" has already been processed", "REC_CONFLICT")
		return
	}
	msg, err := s.acceptBaRS(r, in, body, badCode)
	if err != nil {
		if claimed {
			s.release(requestID)
		}
		writeError(w, s, err)
		return
	}
	if s.faults.on(FaultEmptyAcknowledgement) {
		w.WriteHeader(http.StatusOK)
	} else {
		writeJSON(w, s, http.StatusOK, s.acknowledgement(msg))
	}
	if !s.faults.on(FaultNoAsyncResponse) {
		s.pushBaRSResponse(r, msg)
	}
}

// acknowledgement is the synchronous answer to an accepted BaRS message.
func (s *Server) acknowledgement(msg *message) map[string]any {
	return map[string]any{"resourceType": "OperationOutcome", "issue": []any{map[string]any{
		"severity": "information", "code": "informational",
		"diagnostics": "message " + msg.id + " accepted; the response follows asynchronously",
	}}}
}

// acceptBaRS checks, validates and stores a BaRS servicerequest-request.
func (s *Server) acceptBaRS(r *http.Request, in map[string]any, body []byte, badCode string) (*message, error) {
	bad := func(text string) error {
		return &requestError{status: http.StatusBadRequest, code: "invalid", msg: text, nhs: badCode}
	}
	msg, err := parseMessage(in)
	if err == nil {
		err = msg.checkReferences()
	}
	if err != nil {
		var re *requestError
		if errors.As(err, &re) {
			re.nhs = badCode
		}
		return nil, err
	}
	event := coding(msg.header["eventCoding"])
	if event["code"] != "servicerequest-request" {
		return nil, &requestError{status: http.StatusUnprocessableEntity, code: "not-supported", nhs: "REC_UNPROCESSABLE_ENTITY",
			msg: "BaRS event " + quote(str(event["code"])) + " is not supported; this receiver takes servicerequest-request"}
	}
	reason := ""
	for _, c := range codings(msg.header["reason"]) {
		if c["system"] == BaRSMessageReasons {
			reason, _ = c["code"].(string)
		}
	}
	if reason != "new" && reason != "update" && reason != "delete" {
		return nil, bad("MessageHeader.reason must be coded new, update or delete from " + BaRSMessageReasons)
	}
	if problem := msg.checkCounts(reason); problem != "" && !s.faults.on(FaultIgnoreMessageCounts) {
		return nil, bad(problem)
	}
	sr := msg.resolve(firstOf(msg.header["focus"]))
	if sr == nil || sr["resourceType"] != "ServiceRequest" {
		return nil, bad("MessageHeader.focus does not resolve to the message's ServiceRequest")
	}
	if err := s.checkMessageResource(r, body, "REC_UNPROCESSABLE_ENTITY"); err != nil {
		return nil, err
	}
	stored := msg
	if s.faults.on(FaultIgnoreCancellation) && reason != "new" {
		stored = msg.keep(func(res map[string]any) bool { return res["resourceType"] != "ServiceRequest" })
	}
	if s.faults.on(FaultStoreFocusOnly) {
		stored = stored.keep(func(res map[string]any) bool { return res["resourceType"] == "ServiceRequest" })
	}
	if err := s.storeMessage(stored); err != nil {
		return nil, err
	}
	return msg, nil
}

// checkBaRSHeaders returns what is wrong with the BaRS headers, or "".
func checkBaRSHeaders(h http.Header) string {
	for _, name := range BaRSHeaders {
		if strings.TrimSpace(h.Get(name)) == "" {
			return "missing required header " + name
		}
	}
	for _, name := range []string{"X-Request-Id", "X-Correlation-Id"} {
		if !isUUID(h.Get(name)) {
			return "header " + name + " is not a UUID"
		}
	}
	if _, err := decodeTargetIdentifier(h.Get("NHSD-Target-Identifier")); err != "" {
		return "header NHSD-Target-Identifier " + err
	}
	return ""
}

// decodeTargetIdentifier decodes the base64 JSON identifier of NHSD-Target-Identifier.
func decodeTargetIdentifier(v string) (map[string]any, string) {
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		raw, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
	}
	if err != nil {
		return nil, "is not base64"
	}
	id, derr := decodeObject(raw)
	if derr != nil {
		return nil, "is not a base64-encoded JSON identifier"
	}
	if val, _ := id["value"].(string); val == "" {
		return nil, "has no identifier value"
	}
	return id, ""
}

func (m *message) checkCounts(reason string) string {
	def, _ := m.header["definition"].(string)
	rules, ok := messageCounts[def]
	if !ok {
		def = referralRequestDef
		if reason != "new" {
			def = cancelledRequestDef
		}
		rules = messageCounts[def]
	}
	counts := map[string]int{}
	for _, e := range m.entries {
		counts[str(e["resourceType"])]++
	}
	for _, rule := range rules {
		n := counts[rule.typ]
		if n < rule.min || (rule.max >= 0 && n > rule.max) {
			want := strconv.Itoa(rule.min) + ".." + strconv.Itoa(rule.max)
			if rule.max < 0 {
				want = strconv.Itoa(rule.min) + "..*"
			}
			return "the message carries " + strconv.Itoa(n) + " " + rule.typ + " (" + def + " requires " + want + ")"
		}
	}
	return ""
}

// keep returns a copy of m with only the entries for which want is true.
func (m *message) keep(want func(res map[string]any) bool) *message {
	out := *m
	out.entries, out.urls, out.ids = nil, nil, nil
	for i, e := range m.entries {
		if want(e) {
			out.entries = append(out.entries, e)
			out.urls = append(out.urls, m.urls[i])
			out.ids = append(out.ids, m.ids[i])
		}
	}
	return &out
}

// checkMessageResource validates the message Bundle as a whole.
func (s *Server) checkMessageResource(r *http.Request, body []byte, nhsCode string) error {
	if s.faults.on(FaultAcceptInvalid) || s.opts.Validator == nil {
		return nil
	}
	outcome, err := s.validate(r.Context(), "Bundle", body, nil)
	if err != nil {
		return err
	}
	if outcome.HasErrors() {
		return &requestError{status: http.StatusUnprocessableEntity, code: "processing", nhs: nhsCode,
			msg: "the message is not valid", issues: outcome.Issues}
	}
	return nil
}

// storeMessage stores each entry except the MessageHeader under the id
// assignIDs gave it, as a new version when it already exists, with
// references to other entries' fullUrls rewritten to Type/id.
func (s *Server) storeMessage(msg *message) error {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	ids := msg.ids
	targets := map[string]string{}
	for i, res := range msg.entries {
		if ids[i] != "" && msg.urls[i] != "" {
			targets[msg.urls[i]] = str(res["resourceType"]) + "/" + ids[i]
		}
	}
	var undo []undoStep
	var outs []written
	for i, res := range msg.entries {
		if ids[i] == "" {
			continue
		}
		typ, id := str(res["resourceType"]), ids[i]
		prev := s.store.get(typ, id)
		v, err := s.store.put(typ, id, rewriteReferences(res, targets).(map[string]any), http.MethodPut, s.now(), false, &undo)
		if err != nil {
			s.store.rollback(undo)
			return err
		}
		outs = append(outs, written{v: v, prev: prev})
	}
	for _, o := range outs {
		s.afterWrite(o)
	}
	return nil
}

// responseMessage builds the response to msg: a message Bundle whose
// MessageHeader answers msg (response.identifier = msg's Bundle.id). A BaRS
// response carries the request's resources under their fullUrls, with the
// request's focus, and swaps sender and receiver.
func (s *Server) responseMessage(msg *message, base string, bars bool) map[string]any {
	headerID := newUUID()
	in := msg.header
	header := map[string]any{
		"resourceType": "MessageHeader",
		"id":           headerID,
		"eventCoding":  in["eventCoding"],
		"source":       map[string]any{"name": "conform reference server", "software": "conform", "endpoint": base},
		"response":     map[string]any{"identifier": msg.id, "code": "ok"},
	}
	destination := map[string]any{"endpoint": base}
	if src, ok := in["source"].(map[string]any); ok && src["endpoint"] != nil {
		destination["endpoint"] = src["endpoint"]
	}
	header["destination"] = []any{destination}
	entries := []any{map[string]any{"fullUrl": "urn:uuid:" + headerID, "resource": header}}
	if bars {
		header["eventCoding"] = map[string]any{"system": BaRSMessageEvents, "code": "servicerequest-response"}
		header["definition"] = BaRSResponseDef
		if reason := in["reason"]; reason != nil {
			header["reason"] = reason
		}
		if focus := in["focus"]; focus != nil {
			header["focus"] = focus
		}
		if sender := in["sender"]; sender != nil {
			destination["receiver"] = sender
		}
		if receiver, ok := walkJSON(in, "destination", 0, "receiver").(map[string]any); ok {
			header["sender"] = receiver
		}
		for i, res := range msg.entries {
			if res["resourceType"] == "MessageHeader" {
				continue
			}
			if _, has := res["id"]; !has && msg.ids[i] != "" {
				res = cloneTop(res)
				res["id"] = msg.ids[i]
			}
			entries = append(entries, map[string]any{"fullUrl": msg.urls[i], "resource": res})
		}
	}
	return map[string]any{
		"resourceType": "Bundle",
		"id":           newUUID(),
		"meta":         map[string]any{"lastUpdated": formatInstant(s.now())},
		"type":         "message",
		"timestamp":    formatInstant(s.now()),
		"entry":        entries,
	}
}

// pushBaRSResponse sends the asynchronous servicerequest-response for msg.
func (s *Server) pushBaRSResponse(r *http.Request, msg *message) {
	if s.opts.PushURL == "" {
		return
	}
	out := s.responseMessage(msg, s.publicBase(), true)
	if s.faults.on(FaultWrongResponseIdentifier) {
		out["entry"].([]any)[0].(map[string]any)["resource"].(map[string]any)["response"] = map[string]any{"identifier": newUUID(), "code": "ok"}
	}
	headers := http.Header{}
	headers.Set("X-Request-Id", newUUID())
	headers.Set("X-Correlation-Id", r.Header.Get("X-Correlation-Id"))
	if src, ok := msg.header["source"].(map[string]any); ok {
		if ep, _ := src["endpoint"].(string); ep != "" {
			system, value, found := strings.Cut(ep, "|")
			if !found {
				system, value = "", ep
			}
			target, _ := json.Marshal(map[string]string{"system": system, "value": value})
			headers.Set("NHSD-Target-Identifier", base64.StdEncoding.EncodeToString(target))
		}
	}
	for _, h := range []string{"NHSD-End-User-Organisation", "NHSD-Requesting-Practitioner"} {
		if v := r.Header.Get(h); safeHeader(v) {
			headers.Set(h, v)
		}
	}
	headers.Set("NHSD-Requesting-Software", "conform-reference-server")
	s.push(out, headers)
}

// afterWrite sends the notifications a stored version triggers: a discharge
// notification when an Encounter becomes finished. Callers hold s.store.mu.
func (s *Server) afterWrite(w written) {
	if w.v.typ != "Encounter" || s.opts.PushURL == "" || s.faults.on(FaultNoDischargeNotification) {
		return
	}
	if str(w.v.res["status"]) != "finished" || (w.prev != nil && !w.prev.deleted && str(w.prev.res["status"]) == "finished") {
		return
	}
	enc := w.v.res
	base := s.publicBase()
	headerID := newUUID()
	header := map[string]any{
		"resourceType": "MessageHeader",
		"id":           headerID,
		"eventCoding":  map[string]any{"system": snomedCT, "code": "306689006", "display": "Discharge to home"},
		"source":       map[string]any{"name": "conform reference server", "software": "conform", "endpoint": base},
		"focus":        []any{map[string]any{"reference": base + "/Encounter/" + w.v.id}},
	}
	destination := map[string]any{"endpoint": s.opts.PushURL}
	entries := []any{
		map[string]any{"fullUrl": "urn:uuid:" + headerID, "resource": header},
		map[string]any{"fullUrl": base + "/Encounter/" + w.v.id, "resource": json.RawMessage(w.v.body)},
	}
	if _, pid := splitReference(referenceOf(enc["subject"])); pid != "" {
		if p := s.store.get("Patient", pid); p != nil && !p.deleted {
			entries = append(entries, map[string]any{"fullUrl": base + "/Patient/" + p.id, "resource": json.RawMessage(p.body)})
			if gp, ok := firstOf(p.res["generalPractitioner"]).(map[string]any); ok {
				destination["receiver"] = gp
			}
		}
	}
	if sp, ok := enc["serviceProvider"].(map[string]any); ok {
		header["sender"] = sp
	}
	header["destination"] = []any{destination}
	bundle := map[string]any{
		"resourceType": "Bundle",
		"id":           newUUID(),
		"type":         "message",
		"timestamp":    formatInstant(s.now()),
		"entry":        entries,
	}
	headers := http.Header{}
	headers.Set("X-Request-Id", newUUID())
	headers.Set("X-Correlation-Id", newUUID())
	s.push(bundle, headers)
}

// push POSTs a message to PushURL/$process-message in the background.
func (s *Server) push(bundle map[string]any, headers http.Header) {
	body, err := json.Marshal(bundle)
	if err != nil {
		s.logf("push: encode message: %v", err)
		return
	}
	select {
	case s.pushSlots <- struct{}{}:
	default:
		s.logf("push: more than %d messages pending; message %s dropped", maxPendingPushes, str(bundle["id"]))
		return
	}
	s.pushes.Add(1)
	go func() {
		defer s.pushes.Done()
		defer func() { <-s.pushSlots }()
		ctx, cancel := context.WithTimeout(context.Background(), DefaultPushTimeout)
		defer cancel()
		target := s.opts.PushURL + "/$process-message"
		shown := redactURL(target)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			s.logf("push: build request to %s: %v", shown, err)
			return
		}
		req.Header = headers
		req.Header.Set("Content-Type", "application/fhir+json")
		req.Header.Set("Accept", "application/fhir+json")
		resp, err := s.opts.PushClient.Do(req)
		if err != nil {
			s.logf("push: send message to %s: %v", shown, err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			s.logf("push: %s answered %d to message %s", shown, resp.StatusCode, str(bundle["id"]))
		}
	}()
}

// claim records a request id; it reports false when the id was already claimed.
func (s *Server) claim(id string) bool {
	s.idsMu.Lock()
	defer s.idsMu.Unlock()
	if s.seenIDs[id] {
		return false
	}
	if len(s.seenOrder) >= maxRememberedIDs {
		delete(s.seenIDs, s.seenOrder[0])
		s.seenOrder = s.seenOrder[1:]
	}
	s.seenIDs[id] = true
	s.seenOrder = append(s.seenOrder, id)
	return true
}

// release forgets a request id whose message was rejected, so that it may be sent again.
func (s *Server) release(id string) {
	s.idsMu.Lock()
	defer s.idsMu.Unlock()
	delete(s.seenIDs, id)
	for i := len(s.seenOrder) - 1; i >= 0; i-- {
		if s.seenOrder[i] == id {
			s.seenOrder = append(s.seenOrder[:i:i], s.seenOrder[i+1:]...)
			break
		}
	}
}

// redactURL hides any password in a URL meant for output.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func firstOf(v any) any {
	if list, ok := v.([]any); ok {
		if len(list) == 0 {
			return nil
		}
		return list[0]
	}
	return v
}

func coding(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func codings(v any) []map[string]any {
	var out []map[string]any
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	for _, x := range list {
		cc, _ := x.(map[string]any)
		for _, c := range asList(cc["coding"]) {
			if cm, ok := c.(map[string]any); ok {
				out = append(out, cm)
			}
		}
	}
	return out
}

func asList(v any) []any {
	if list, ok := v.([]any); ok {
		return list
	}
	if v == nil {
		return nil
	}
	return []any{v}
}
