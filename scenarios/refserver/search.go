package refserver

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nhsconform/conform/profiles/model"
)

// searchParams lists, per resource type, the search parameters the server
// supports beyond _id and _lastUpdated, each with the element it searches.
var searchParams = map[string]map[string]string{
	"AllergyIntolerance":  {"identifier": "identifier", "patient": "patient"},
	"Appointment":         {"identifier": "identifier", "status": "status"},
	"Bundle":              {"identifier": "identifier"},
	"CarePlan":            {"identifier": "identifier", "status": "status", "patient": "subject", "subject": "subject", "encounter": "encounter"},
	"Composition":         {"identifier": "identifier", "status": "status", "patient": "subject", "subject": "subject", "encounter": "encounter"},
	"Condition":           {"identifier": "identifier", "patient": "subject", "subject": "subject", "encounter": "encounter"},
	"Consent":             {"identifier": "identifier", "status": "status", "patient": "patient"},
	"DocumentReference":   {"identifier": "identifier", "status": "status", "patient": "subject", "subject": "subject"},
	"Encounter":           {"identifier": "identifier", "status": "status", "patient": "subject", "subject": "subject"},
	"Flag":                {"identifier": "identifier", "status": "status", "patient": "subject", "subject": "subject", "encounter": "encounter"},
	"HealthcareService":   {"identifier": "identifier"},
	"Location":            {"identifier": "identifier", "status": "status"},
	"MedicationStatement": {"identifier": "identifier", "status": "status", "patient": "subject", "subject": "subject"},
	"Observation":         {"identifier": "identifier", "status": "status", "patient": "subject", "subject": "subject", "encounter": "encounter"},
	"Organization":        {"identifier": "identifier"},
	"Patient":             {"identifier": "identifier"},
	"Practitioner":        {"identifier": "identifier"},
	"PractitionerRole":    {"identifier": "identifier"},
	"Procedure":           {"identifier": "identifier", "status": "status", "patient": "subject", "subject": "subject", "encounter": "encounter"},
	"ServiceRequest":      {"identifier": "identifier", "status": "status", "patient": "subject", "subject": "subject", "encounter": "encounter"},
	"Task":                {"identifier": "identifier", "status": "status"},
}

// referenceTarget names the resource type a reference parameter must point at.
var referenceTarget = map[string]string{"patient": "Patient", "encounter": "Encounter"}

const (
	defaultCount = 50
	maxCount     = 1000
	// maxParams and maxValues bound the work one search can ask for.
	maxParams = 20
	maxValues = 100
)

type searchParam struct {
	name   string
	prefix string
	values []string
}

type searchQuery struct {
	// typ is the searched type; empty for a search across types.
	typ string
	// types restricts a search across types (_type); empty means every type.
	types []string
	// interactive marks a search interaction, as opposed to the condition of
	// a conditional interaction.
	interactive bool
	params      []searchParam
	count       int
	offset      int
}

// parseSearch reads a search query, rejecting parameters the server does not support.
func parseSearch(typ string, q url.Values) (*searchQuery, error) {
	sq := &searchQuery{typ: typ, count: defaultCount}
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, raw := range q[name] {
			switch name {
			case "_format", "_pretty":
				continue
			case "_count":
				n, err := strconv.Atoi(raw)
				if err != nil || n < 0 {
					return nil, badRequest("invalid _count %s: want a non-negative integer", quote(raw))
				}
				sq.count = min(n, maxCount)
				continue
			case "_type":
				if typ != "" {
					return nil, badRequest("_type is only supported in a search across types, at the base")
				}
				for _, t := range splitValues(raw) {
					if !model.IsR4ResourceType(t) {
						return nil, badRequest("_type names an unknown resource type %s", quote(t))
					}
					sq.types = append(sq.types, t)
				}
				continue
			case "_offset":
				n, err := strconv.Atoi(raw)
				if err != nil || n < 0 {
					return nil, badRequest("invalid _offset %s: want a non-negative integer", quote(raw))
				}
				sq.offset = n
				continue
			}
			if name != "_id" && name != "_lastUpdated" {
				if _, ok := searchParams[typ][name]; !ok {
					if typ == "" {
						return nil, badRequest("search parameter %s is not supported across types (only _id, _lastUpdated and _type)", quote(name))
					}
					return nil, badRequest("search parameter %s is not supported for %s", quote(name), typ)
				}
			}
			if raw == "" {
				return nil, badRequest("search parameter %s has an empty value", quote(name))
			}
			p := searchParam{name: name, values: splitValues(raw)}
			if len(p.values) > maxValues {
				return nil, badRequest("search parameter %s has more than %d values", quote(name), maxValues)
			}
			if len(sq.params) == maxParams {
				return nil, badRequest("a search takes at most %d parameters", maxParams)
			}
			if name == "_lastUpdated" {
				p.prefix, p.values[0] = datePrefix(raw)
				if len(p.values) != 1 {
					return nil, badRequest("_lastUpdated takes one date")
				}
				if _, _, err := dateRange(p.values[0]); err != nil {
					return nil, badRequest("invalid _lastUpdated %s: %v", quote(raw), err)
				}
			}
			sq.params = append(sq.params, p)
		}
	}
	return sq, nil
}

// splitValues splits a comma-separated OR list, honouring \, escapes.
func splitValues(raw string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(raw); i++ {
		switch {
		case raw[i] == '\\' && i+1 < len(raw):
			i++
			cur.WriteByte(raw[i])
		case raw[i] == ',':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(raw[i])
		}
	}
	return append(out, cur.String())
}

func datePrefix(raw string) (string, string) {
	if len(raw) > 2 {
		switch p := raw[:2]; p {
		case "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb":
			return p, raw[2:]
		}
	}
	return "eq", raw
}

// dateRange returns the instants [start, end) a FHIR date or dateTime covers.
func dateRange(v string) (time.Time, time.Time, error) {
	layouts := []struct {
		layout string
		step   func(time.Time) time.Time
	}{
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
		{"2006-01-02T15:04Z07:00", func(t time.Time) time.Time { return t.Add(time.Minute) }},
		{"2006-01-02T15:04:05Z07:00", func(t time.Time) time.Time { return t.Add(time.Second) }},
		{time.RFC3339Nano, func(t time.Time) time.Time { return t.Add(time.Millisecond) }},
	}
	for _, l := range layouts {
		if t, err := time.Parse(l.layout, v); err == nil {
			return t, l.step(t), nil
		}
	}
	return time.Time{}, time.Time{}, errInvalidDate
}

var errInvalidDate = badRequest("want a FHIR date or dateTime")

// search returns the live versions of a type matching q. Callers hold s.store.mu.
func (s *Server) search(q *searchQuery) []*version {
	types := []string{q.typ}
	if q.typ == "" {
		types = q.types
		if len(types) == 0 {
			types = make([]string, 0, len(s.store.order))
			for t := range s.store.order {
				types = append(types, t)
			}
			sort.Strings(types)
		}
	}
	var out []*version
	for _, t := range types {
		for _, v := range s.store.live(t) {
			if s.matchAll(v, q) {
				out = append(out, v)
			}
		}
	}
	return out
}

func (s *Server) interactiveFault(name string, q *searchQuery) bool {
	return q.interactive && s.faults.on(name)
}

func (s *Server) matchAll(v *version, q *searchQuery) bool {
	for _, p := range q.params {
		if !s.match(v, q, p) {
			return false
		}
	}
	return true
}

func (s *Server) match(v *version, q *searchQuery, p searchParam) bool {
	switch p.name {
	case "_id":
		return anyOf(p.values, func(x string) bool { return x == v.id })
	case "_lastUpdated":
		start, end, _ := dateRange(p.values[0])
		t := v.updated
		switch p.prefix {
		case "gt", "sa":
			return !t.Before(end)
		case "ge":
			return !t.Before(start)
		case "lt", "eb":
			return t.Before(start)
		case "le":
			return t.Before(end)
		case "ne":
			return t.Before(start) || !t.Before(end)
		default:
			return !t.Before(start) && t.Before(end)
		}
	case "identifier":
		if s.interactiveFault(FaultSearchIgnoresIdentifier, q) {
			return true
		}
		return anyOf(p.values, func(x string) bool { return identifierMatches(v.res["identifier"], x) })
	case "status":
		st, _ := v.res["status"].(string)
		return anyOf(p.values, func(x string) bool { return x == st })
	default:
		if s.interactiveFault(FaultSearchIgnoresPatient, q) && (p.name == "patient" || p.name == "subject") {
			return true
		}
		ref := referenceOf(v.res[searchParams[v.typ][p.name]])
		return anyOf(p.values, func(x string) bool { return referenceMatches(ref, x, referenceTarget[p.name]) })
	}
}

func anyOf(values []string, f func(string) bool) bool {
	for _, v := range values {
		if f(v) {
			return true
		}
	}
	return false
}

// identifierMatches reports whether an identifier element (one or a list)
// matches a token: system|value, |value, system| or value.
func identifierMatches(elem any, token string) bool {
	system, value, hasSystem := strings.Cut(token, "|")
	if !hasSystem {
		value, system = system, ""
	}
	list, ok := elem.([]any)
	if !ok {
		list = []any{elem}
	}
	for _, item := range list {
		id, ok := item.(map[string]any)
		if !ok {
			continue
		}
		sys, _ := id["system"].(string)
		val, _ := id["value"].(string)
		switch {
		case !hasSystem:
			if val == value {
				return true
			}
		case value == "":
			if sys == system {
				return true
			}
		case sys == system && val == value:
			return true
		}
	}
	return false
}

func referenceOf(elem any) string {
	if list, ok := elem.([]any); ok && len(list) > 0 {
		elem = list[0]
	}
	m, _ := elem.(map[string]any)
	ref, _ := m["reference"].(string)
	return ref
}

// referenceMatches reports whether a stored reference points at the searched
// value (id, Type/id or an absolute URL), which must be of type target when set.
func referenceMatches(ref, value, target string) bool {
	if ref == "" {
		return false
	}
	vtype, vid := splitReference(value)
	if vtype == "" {
		vtype = target
	}
	if target != "" && vtype != target {
		return false
	}
	rtype, rid := splitReference(ref)
	return rid == vid && (vtype == "" || rtype == vtype)
}

// splitReference returns the last two path segments of a reference: type and id.
func splitReference(ref string) (string, string) {
	i := strings.LastIndex(ref, "/")
	if i < 0 {
		return "", ref
	}
	head := ref[:i]
	return head[strings.LastIndex(head, "/")+1:], ref[i+1:]
}

// canonicalQuery renders the parameters a search used, for the self link.
func (q *searchQuery) canonicalQuery(offset int) string {
	vals := url.Values{}
	for _, p := range q.params {
		v := strings.Join(p.values, ",")
		if p.name == "_lastUpdated" {
			v = p.prefix + v
		}
		vals.Add(p.name, v)
	}
	if len(q.types) > 0 {
		vals.Set("_type", strings.Join(q.types, ","))
	}
	vals.Set("_count", strconv.Itoa(q.count))
	if offset > 0 {
		vals.Set("_offset", strconv.Itoa(offset))
	}
	return vals.Encode()
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request, typ string) {
	values := r.URL.Query()
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		if err := r.ParseForm(); err != nil {
			writeError(w, s, badRequest("read search form: %v", err))
			return
		}
		values = r.Form
	}
	if preferLenient(r) {
		values = supportedOnly(typ, values)
	}
	q, err := parseSearch(typ, values)
	if err != nil {
		writeError(w, s, err)
		return
	}
	q.interactive = true
	s.store.mu.RLock()
	matches := s.search(q)
	s.store.mu.RUnlock()
	writeJSON(w, s, http.StatusOK, s.searchset(baseURL(r), q, matches))
}

// preferLenient reports whether the client asked, with Prefer:
// handling=lenient, for unsupported search parameters to be ignored.
func preferLenient(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Prefer"), ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		if strings.EqualFold(k, "handling") && strings.EqualFold(strings.Trim(v, `"`), "lenient") {
			return true
		}
	}
	return false
}

// supportedOnly drops the parameters a search of typ does not support; the
// self link then shows what was used.
func supportedOnly(typ string, values url.Values) url.Values {
	out := url.Values{}
	for name, vals := range values {
		switch name {
		case "_format", "_pretty", "_count", "_offset", "_id", "_lastUpdated":
		case "_type":
			if typ != "" {
				continue
			}
		default:
			if _, ok := searchParams[typ][name]; !ok {
				continue
			}
		}
		out[name] = vals
	}
	return out
}

func (s *Server) searchset(base string, q *searchQuery, matches []*version) map[string]any {
	path := base + "/" + q.typ
	if q.typ == "" {
		path = base
	}
	self := path + "?" + q.canonicalQuery(q.offset)
	links := []any{map[string]any{"relation": "self", "url": self}}
	page := matches
	if q.offset < len(page) {
		page = page[q.offset:]
	} else {
		page = nil
	}
	if len(page) > q.count {
		page = page[:q.count]
	}
	if q.count > 0 && q.offset+q.count < len(matches) {
		links = append(links, map[string]any{"relation": "next", "url": path + "?" + q.canonicalQuery(q.offset+q.count)})
	}
	entries := make([]any, 0, len(page))
	for _, v := range page {
		entries = append(entries, map[string]any{
			"fullUrl":  base + "/" + v.typ + "/" + v.id,
			"resource": json.RawMessage(v.body),
			"search":   map[string]any{"mode": "match"},
		})
	}
	return map[string]any{
		"resourceType": "Bundle",
		"id":           newUUID(),
		"meta":         map[string]any{"lastUpdated": formatInstant(s.now())},
		"type":         "searchset",
		"total":        len(matches),
		"link":         links,
		"entry":        entries,
	}
}
