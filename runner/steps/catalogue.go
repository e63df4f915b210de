package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cucumber/godog"

	"github.com/nhsconform/conform/runner/receiver"
)

// Def documents and defines one step.
type Def struct {
	// Group is the heading the step is listed under.
	Group string
	// Phrase is the step as a person writes it, placeholders in capitals.
	Phrase string
	// Pattern is the regular expression godog matches.
	Pattern string
	// Example is a complete step line using this definition.
	Example string
	// Doc says what the step does, in one or two sentences.
	Doc  string
	bind func(w *World) any
}

// Groups of steps, in the order they are listed.
const (
	GroupRequests   = "Requests"
	GroupResponses  = "Responses"
	GroupFHIRPath   = "FHIRPath and stored values"
	GroupValidation = "Validation"
	GroupMessaging  = "Pushed messages"
)

// Catalogue returns every step definition, in documentation order.
func Catalogue() []Def {
	return append([]Def(nil), catalogue...)
}

var catalogue = []Def{
	{
		Group: GroupRequests, Phrase: `When I send a GET request to "PATH"`,
		Pattern: `^I send a (GET|DELETE|HEAD) request to "([^"]*)"$`,
		Example: `When I send a GET request to "Patient/{{patientId}}"`,
		Doc:     "Sends GET, DELETE or HEAD to PATH, relative to the target's FHIR base URL. The response becomes the subject of the assertions that follow.",
		bind: func(w *World) any {
			return func(ctx context.Context, method, target string) error {
				return w.send(ctx, method, target, nil, nil)
			}
		},
	},
	{
		Group: GroupRequests, Phrase: `When I send a POST request to "PATH" with body from "FILE"`,
		Pattern: `^I send a (POST|PUT|PATCH) request to "([^"]*)" with body from "([^"]*)"$`,
		Example: `When I send a PUT request to "Encounter?identifier={{encounterId}}" with body from "fixtures/encounter.json"`,
		Doc:     "Sends POST, PUT or PATCH with the content of FILE (relative to the feature file, {{NAME}} values filled in) as application/fhir+json; set the Content-Type request header first to send another type (a JSON Patch, say).",
		bind: func(w *World) any {
			return func(ctx context.Context, method, target, file string) error {
				body, err := w.fixture(file)
				if err != nil {
					return err
				}
				return w.send(ctx, method, target, nil, body)
			}
		},
	},
	{
		Group: GroupRequests, Phrase: `When I send a POST request to "PATH" with body:` + "\n\"\"\"\nBODY\n\"\"\"",
		Pattern: `^I send a (POST|PUT|PATCH) request to "([^"]*)" with body:$`,
		Example: `When I send a POST request to "Patient" with body:` + "\n  \"\"\"\n  {\"resourceType\": \"Patient\"}\n  \"\"\"",
		Doc:     "Sends POST, PUT or PATCH with the doc string that follows as the body ({{NAME}} values filled in).",
		bind: func(w *World) any {
			return func(ctx context.Context, method, target string, doc *godog.DocString) error {
				body, err := w.expand(doc.Content)
				if err != nil {
					return err
				}
				return w.send(ctx, method, target, nil, []byte(body))
			}
		},
	},
	{
		Group: GroupRequests, Phrase: `When I send a POST request to "PATH" with body from "FILE" if none exists matching "QUERY"`,
		Pattern: `^I send a POST request to "([^"]*)" with body from "([^"]*)" if none exists matching "([^"]*)"$`,
		Example: `When I send a POST request to "Patient" with body from "patient.json" if none exists matching "identifier=https://fhir.nhs.uk/Id/nhs-number|{{nhs}}"`,
		Doc:     "A conditional create: sends the If-None-Exist header with QUERY.",
		bind: func(w *World) any {
			return func(ctx context.Context, target, file, query string) error {
				body, err := w.fixture(file)
				if err != nil {
					return err
				}
				return w.send(ctx, http.MethodPost, target, http.Header{"If-None-Exist": {query}}, body)
			}
		},
	},
	{
		Group: GroupRequests, Phrase: `When I send a PUT request to "PATH" with body from "FILE" if the version is "VERSION"`,
		Pattern: `^I send a PUT request to "([^"]*)" with body from "([^"]*)" if the version is "([^"]*)"$`,
		Example: `When I send a PUT request to "Encounter/{{id}}" with body from "finished.json" if the version is "{{version}}"`,
		Doc:     `A conditional update: sends If-Match with the version as a weak ETag (W/"VERSION"), unless VERSION already is an ETag.`,
		bind: func(w *World) any {
			return func(ctx context.Context, target, file, version string) error {
				body, err := w.fixture(file)
				if err != nil {
					return err
				}
				v, err := w.expand(version)
				if err != nil {
					return err
				}
				if !strings.HasPrefix(v, `W/"`) && !strings.HasPrefix(v, `"`) {
					v = `W/"` + v + `"`
				}
				return w.send(ctx, http.MethodPut, target, http.Header{"If-Match": {v}}, body)
			}
		},
	},
	{
		Group: GroupRequests, Phrase: `When I search for "TYPE" with "PARAMETERS"`,
		Pattern: `^I search for "([A-Za-z]*)" with "([^"]*)"$`,
		Example: `When I search for "Encounter" with "identifier=https://trust.example/enc|{{run}}&status=in-progress"`,
		Doc:     "Searches with GET TYPE?PARAMETERS; each value is URL-encoded for you (write | and : as they are). An empty TYPE searches across all types.",
		bind: func(w *World) any {
			return func(ctx context.Context, typ, params string) error {
				params, err := w.expand(params)
				if err != nil {
					return err
				}
				var parts []string
				for _, p := range strings.Split(params, "&") {
					if p == "" {
						continue
					}
					name, value, _ := strings.Cut(p, "=")
					parts = append(parts, url.QueryEscape(name)+"="+url.QueryEscape(value))
				}
				return w.send(ctx, http.MethodGet, typ+"?"+strings.Join(parts, "&"), nil, nil)
			}
		},
	},
	{
		Group: GroupRequests, Phrase: `When I send the Bundle from "FILE" as a transaction`,
		Pattern: `^I send the Bundle from "([^"]*)" as a (transaction|batch)$`,
		Example: `When I send the Bundle from "admission-transaction.json" as a transaction`,
		Doc:     "POSTs a transaction or batch Bundle to the FHIR base URL; the file's Bundle.type must say the same.",
		bind: func(w *World) any {
			return func(ctx context.Context, file, kind string) error {
				body, err := w.fixture(file)
				if err != nil {
					return err
				}
				var b struct {
					ResourceType string `json:"resourceType"`
					Type         string `json:"type"`
				}
				if err := json.Unmarshal(body, &b); err != nil || b.ResourceType != "Bundle" || b.Type != kind {
					return execErr("fixture %s is not a Bundle of type %s", file, kind)
				}
				return w.send(ctx, http.MethodPost, "", nil, body)
			}
		},
	},
	{
		Group: GroupRequests, Phrase: `When I send the message from "FILE" to $process-message`,
		Pattern: `^I send the message from "([^"]*)" to \$process-message$`,
		Example: `When I send the message from "referral-request.json" to $process-message`,
		Doc:     "POSTs a message Bundle to [base]/$process-message (the BaRS interaction).",
		bind: func(w *World) any {
			return func(ctx context.Context, file string) error {
				body, err := w.fixture(file)
				if err != nil {
					return err
				}
				return w.send(ctx, http.MethodPost, "$process-message", nil, body)
			}
		},
	},
	{
		Group: GroupRequests, Phrase: `Given I set the request header "NAME" to "VALUE"`,
		Pattern: `^I set the request header "([^"]+)" to "([^"]*)"$`,
		Example: `Given I set the request header "X-Request-Id" to "{{uuid}}"`,
		Doc:     "Adds a header to every later request of the scenario; {{NAME}} values are filled in per request, so {{uuid}} is fresh each time.",
		bind: func(w *World) any {
			return func(name, value string) error {
				if err := checkHeaderName(name); err != nil {
					return err
				}
				w.header.Set(name, value)
				return nil
			}
		},
	},
	{
		Group: GroupRequests, Phrase: `Given I remove the request header "NAME"`,
		Pattern: `^I remove the request header "([^"]+)"$`,
		Example: `Given I remove the request header "NHSD-Target-Identifier"`,
		Doc:     "Stops sending a header set earlier in the scenario.",
		bind: func(w *World) any {
			return func(name string) error {
				w.header.Del(name)
				return nil
			}
		},
	},
	{
		Group: GroupResponses, Phrase: `Then the response status should be CODE`,
		Pattern: `^the response status should be (\d{3})$`,
		Example: `Then the response status should be 201`,
		Doc:     "Checks the HTTP status of the last response.",
		bind: func(w *World) any {
			return func(code int) error {
				s, err := w.current()
				if err != nil {
					return err
				}
				if s.status != code {
					return fmt.Errorf("expected status %d, got %d from the %s%s", code, s.status, s.describe, outcomeHint(s))
				}
				return nil
			}
		},
	},
	{
		Group: GroupResponses, Phrase: `Then the response status should be one of "CODES"`,
		Pattern: `^the response status should be one of "([^"]*)"$`,
		Example: `Then the response status should be one of "200, 201"`,
		Doc:     "Checks the HTTP status is one of a comma-separated list.",
		bind: func(w *World) any {
			return func(list string) error {
				s, err := w.current()
				if err != nil {
					return err
				}
				for _, c := range strings.Split(list, ",") {
					n, err := strconv.Atoi(strings.TrimSpace(c))
					if err != nil {
						return execErr("%q is not a list of status codes", list)
					}
					if n == s.status {
						return nil
					}
				}
				return fmt.Errorf("expected status in [%s], got %d from the %s%s", list, s.status, s.describe, outcomeHint(s))
			}
		},
	},
	{
		Group: GroupResponses, Phrase: `Then the response header "NAME" should be present`,
		Pattern: `^the response header "([^"]+)" should be present$`,
		Example: `Then the response header "Location" should be present`,
		Doc:     "Checks the last response carries the header (any value).",
		bind: func(w *World) any {
			return func(name string) error {
				s, err := w.current()
				if err != nil {
					return err
				}
				if len(s.header.Values(name)) == 0 {
					return fmt.Errorf("header %s is missing from the %s", name, s.describe)
				}
				return nil
			}
		},
	},
	{
		Group: GroupResponses, Phrase: `Then the response header "NAME" should be absent`,
		Pattern: `^the response header "([^"]+)" should be absent$`,
		Example: `Then the response header "Set-Cookie" should be absent`,
		Doc:     "Checks the last response does not carry the header.",
		bind: func(w *World) any {
			return func(name string) error {
				s, err := w.current()
				if err != nil {
					return err
				}
				if len(s.header.Values(name)) > 0 {
					return fmt.Errorf("header %s should be absent from the %s", name, s.describe)
				}
				return nil
			}
		},
	},
	{
		Group: GroupResponses, Phrase: `Then the response header "NAME" should be "VALUE"`,
		Pattern: `^the response header "([^"]+)" should be "([^"]*)"$`,
		Example: `Then the response header "Content-Type" should be "application/fhir+json; charset=utf-8"`,
		Doc:     "Checks the header's exact value ({{NAME}} values filled in).",
		bind: func(w *World) any {
			return func(name, want string) error {
				return w.headerCheck(name, want, func(got, want string) bool { return got == want }, "be")
			}
		},
	},
	{
		Group: GroupResponses, Phrase: `Then the response header "NAME" should contain "TEXT"`,
		Pattern: `^the response header "([^"]+)" should contain "([^"]*)"$`,
		Example: `Then the response header "Location" should contain "Encounter/"`,
		Doc:     "Checks the header's value contains TEXT.",
		bind: func(w *World) any {
			return func(name, want string) error {
				return w.headerCheck(name, want, strings.Contains, "contain")
			}
		},
	},
	{
		Group: GroupResponses, Phrase: `Then the response header "NAME" should echo the request`,
		Pattern: `^the response header "([^"]+)" should echo the request$`,
		Example: `Then the response header "X-Correlation-Id" should echo the request`,
		Doc:     "Checks the response carries the same value the last request sent in that header (BaRS X-Request-Id and X-Correlation-Id).",
		bind: func(w *World) any {
			return func(name string) error {
				s, err := w.current()
				if err != nil {
					return err
				}
				sent := w.sentHeader.Get(name)
				if sent == "" {
					return execErr("the last request did not send %s", name)
				}
				if got := s.header.Get(name); got != sent {
					return fmt.Errorf("header %s: sent %q, the %s has %q", name, sent, s.describe, got)
				}
				return nil
			}
		},
	},
	{
		Group: GroupResponses, Phrase: `Then the response should be FHIR JSON`,
		Pattern: `^the response should be FHIR JSON$`,
		Example: `Then the response should be FHIR JSON`,
		Doc:     "Checks Content-Type is application/fhir+json (or application/json) and the body is a JSON resource with a resourceType.",
		bind: func(w *World) any {
			return func() error {
				s, err := w.current()
				if err != nil {
					return err
				}
				ct := strings.ToLower(strings.TrimSpace(strings.Split(s.header.Get("Content-Type"), ";")[0]))
				if ct != "application/fhir+json" && ct != "application/json" {
					return fmt.Errorf("the %s has Content-Type %q, expected application/fhir+json", s.describe, s.header.Get("Content-Type"))
				}
				res, _, err := w.resource()
				if err != nil {
					return err
				}
				if rt, _ := res["resourceType"].(string); rt == "" {
					return fmt.Errorf("the %s has no resourceType", s.describe)
				}
				return nil
			}
		},
	},
	{
		Group: GroupResponses, Phrase: `Then the response should be a "TYPE" resource`,
		Pattern: `^the response should be an? "([A-Za-z]+)" resource$`,
		Example: `Then the response should be a "Bundle" resource`,
		Doc:     "Checks the resourceType of the response body.",
		bind: func(w *World) any {
			return func(want string) error {
				res, s, err := w.resource()
				if err != nil {
					return err
				}
				if got, _ := res["resourceType"].(string); got != want {
					return fmt.Errorf("expected a %s, the %s is a %q", want, s.describe, got)
				}
				return nil
			}
		},
	},
	{
		Group: GroupResponses, Phrase: `Then the Bundle should contain N entries`,
		Pattern: `^the Bundle should contain (\d+) (?:entry|entries)$`,
		Example: `Then the Bundle should contain 1 entry`,
		Doc:     "Checks the number of Bundle.entry elements (a search finding exactly one match, say).",
		bind: func(w *World) any {
			return func(n int) error { return w.countEntries(n, "", false) }
		},
	},
	{
		Group: GroupResponses, Phrase: `Then the Bundle should contain at least N entries`,
		Pattern: `^the Bundle should contain at least (\d+) (?:entry|entries)$`,
		Example: `Then the Bundle should contain at least 2 entries`,
		Doc:     "Checks there are at least N Bundle.entry elements.",
		bind: func(w *World) any {
			return func(n int) error { return w.countEntries(n, "", true) }
		},
	},
	{
		Group: GroupResponses, Phrase: `Then the Bundle should contain N "TYPE" entries`,
		Pattern: `^the Bundle should contain (\d+) "([A-Za-z]+)" (?:entry|entries)$`,
		Example: `Then the Bundle should contain 1 "MessageHeader" entry`,
		Doc:     "Checks the number of entries whose resource is of TYPE.",
		bind: func(w *World) any {
			return func(n int, typ string) error { return w.countEntries(n, typ, false) }
		},
	},
	{
		Group: GroupResponses, Phrase: `Then the response should be an OperationOutcome with issue code "CODE"`,
		Pattern: `^the response should be an OperationOutcome with issue code "([^"]+)"$`,
		Example: `Then the response should be an OperationOutcome with issue code "REC_BAD_REQUEST"`,
		Doc:     "Checks the body is an OperationOutcome with an issue whose code, or a coding in its details, is CODE.",
		bind: func(w *World) any {
			return func(code string) error {
				res, s, err := w.resource()
				if err != nil {
					return err
				}
				if rt, _ := res["resourceType"].(string); rt != "OperationOutcome" {
					return fmt.Errorf("expected an OperationOutcome, the %s is a %q", s.describe, rt)
				}
				codes := outcomeCodes(res)
				for _, c := range codes {
					if c == code {
						return nil
					}
				}
				return fmt.Errorf("no issue coded %s in the OperationOutcome (codes: %s)", code, strings.Join(codes, ", "))
			}
		},
	},
	{
		Group: GroupResponses, Phrase: `Then the response time should be less than N ms`,
		Pattern: `^the response time should be less than (\d+) ?ms$`,
		Example: `Then the response time should be less than 2000 ms`,
		Doc:     "Checks the time from sending the request to reading the whole response, retries included.",
		bind: func(w *World) any {
			return func(ms int) error {
				s, err := w.current()
				if err != nil {
					return err
				}
				if s.duration == 0 && s.status == 0 {
					return execErr("the %s has no response time", s.describe)
				}
				if s.duration.Milliseconds() >= int64(ms) {
					return fmt.Errorf("the %s took %d ms, limit %d ms", s.describe, s.duration.Milliseconds(), ms)
				}
				return nil
			}
		},
	},
	{
		Group: GroupFHIRPath, Phrase: `Then the FHIRPath "EXPRESSION" should be true`,
		Pattern: `^the FHIRPath "(.*)" should be true$`,
		Example: `Then the FHIRPath "Encounter.status = 'in-progress'" should be true`,
		Doc:     "Evaluates EXPRESSION on the last response body (or received message). True means a single true, or a single non-boolean item; stored values are %NAME.",
		bind: func(w *World) any {
			return func(ctx context.Context, expr string) error { return w.truth(ctx, expr, true) }
		},
	},
	{
		Group: GroupFHIRPath, Phrase: `Then the FHIRPath "EXPRESSION" should be false`,
		Pattern: `^the FHIRPath "(.*)" should be false$`,
		Example: `Then the FHIRPath "Bundle.entry.resource.ofType(OperationOutcome).exists()" should be false`,
		Doc:     "Evaluates EXPRESSION and checks it is false or empty.",
		bind: func(w *World) any {
			return func(ctx context.Context, expr string) error { return w.truth(ctx, expr, false) }
		},
	},
	{
		Group: GroupFHIRPath, Phrase: `Then the FHIRPath "EXPRESSION" should equal "VALUE"`,
		Pattern: `^the FHIRPath "(.*)" should equal "(.*)"$`,
		Example: `Then the FHIRPath "Patient.identifier.where(system='https://fhir.nhs.uk/Id/nhs-number').value" should equal "{{nhs}}"`,
		Doc:     "Checks EXPRESSION yields exactly one item whose text is VALUE ({{NAME}} values filled in).",
		bind: func(w *World) any {
			return func(ctx context.Context, expr, want string) error {
				want, err := w.expand(want)
				if err != nil {
					return err
				}
				got, err := w.single(ctx, expr)
				if err != nil {
					return err
				}
				if got != want {
					return fmt.Errorf("FHIRPath %s is %q, expected %q", expr, got, want)
				}
				return nil
			}
		},
	},
	{
		Group: GroupFHIRPath, Phrase: `Then I store the FHIRPath "EXPRESSION" as "NAME"`,
		Pattern: `^I store the FHIRPath "(.*)" as "([^"]+)"$`,
		Example: `Then I store the FHIRPath "Encounter.id" as "encounterId"`,
		Doc:     "Keeps the single item EXPRESSION yields, for {{NAME}} in later paths, headers and bodies and %NAME in FHIRPath.",
		bind: func(w *World) any {
			return func(ctx context.Context, expr, name string) error {
				if !validName(name) {
					return execErr("%q is not a valid value name (letters, digits, _ - .)", name)
				}
				v, err := w.single(ctx, expr)
				if err != nil {
					return err
				}
				w.vars[name] = v
				return nil
			}
		},
	},
	{
		Group: GroupFHIRPath, Phrase: `Then I store the response header "HEADER" as "NAME"`,
		Pattern: `^I store the response header "([^"]+)" as "([^"]+)"$`,
		Example: `Then I store the response header "ETag" as "version"`,
		Doc:     "Keeps a response header's value (an ETag, a Location) as {{NAME}}.",
		bind: func(w *World) any {
			return func(header, name string) error {
				if !validName(name) {
					return execErr("%q is not a valid value name (letters, digits, _ - .)", name)
				}
				s, err := w.current()
				if err != nil {
					return err
				}
				v := s.header.Get(header)
				if v == "" {
					return fmt.Errorf("header %s is missing from the %s", header, s.describe)
				}
				w.vars[name] = v
				return nil
			}
		},
	},
	{
		Group: GroupFHIRPath, Phrase: `Given I store "VALUE" as "NAME"`,
		Pattern: `^I store "([^"]*)" as "([^"]+)"$`,
		Example: `Given I store "{{nhsNumber}}" as "nhs"`,
		Doc:     "Keeps a value ({{NAME}} values filled in once, now) for the rest of the scenario.",
		bind: func(w *World) any {
			return func(value, name string) error {
				if !validName(name) {
					return execErr("%q is not a valid value name (letters, digits, _ - .)", name)
				}
				v, err := w.expand(value)
				if err != nil {
					return err
				}
				w.vars[name] = v
				return nil
			}
		},
	},
	{
		Group: GroupValidation, Phrase: `Then the response should conform to "PROFILE-URL"`,
		Pattern: `^the response should conform to "([^"]+)"$`,
		Example: `Then the response should conform to "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Encounter"`,
		Doc:     "Validates the last response body (or received message) against the profile with conform's validator; the OperationOutcome is kept as evidence and any error or fatal issue fails the step.",
		bind: func(w *World) any {
			return func(ctx context.Context, profile string) error { return w.validate(ctx, profile) }
		},
	},
	{
		Group: GroupValidation, Phrase: `Then the response should be valid FHIR`,
		Pattern: `^the response should be valid FHIR$`,
		Example: `Then the response should be valid FHIR`,
		Doc:     "Validates against the base resource definition and the profiles the resource declares in meta.profile.",
		bind: func(w *World) any {
			return func(ctx context.Context) error { return w.validate(ctx, "") }
		},
	},
	{
		Group: GroupValidation, Phrase: `Then every "TYPE" entry in the Bundle should conform to "PROFILE-URL"`,
		Pattern: `^every "([A-Za-z]+)" entry in the Bundle should conform to "([^"]+)"$`,
		Example: `Then every "ServiceRequest" entry in the Bundle should conform to "https://fhir.hl7.org.uk/StructureDefinition/UKCore-ServiceRequest"`,
		Doc:     "Validates each Bundle entry whose resource is of TYPE against the profile, keeping one outcome per entry; fails when there is no such entry or any has an error.",
		bind: func(w *World) any {
			return func(ctx context.Context, typ, profile string) error { return w.validateEntries(ctx, typ, profile) }
		},
	},
	{
		Group: GroupMessaging, Phrase: `Then within N seconds a message should be received`,
		Pattern: `^within (\d+) seconds? a message should be received$`,
		Example: `Then within 30 seconds a message should be received`,
		Doc:     "Waits for the system under test to deliver any message to the receiving endpoint ({{receiver}}, started with --listen). The message becomes the subject of the assertions that follow.",
		bind: func(w *World) any {
			return func(ctx context.Context, secs int) error { return w.receive(ctx, secs, nil, "") }
		},
	},
	{
		Group: GroupMessaging, Phrase: `Then within N seconds a message should be received at "PATH"`,
		Pattern: `^within (\d+) seconds? a message should be received at "([^"]*)"$`,
		Example: `Then within 60 seconds a message should be received at "/$process-message"`,
		Doc:     "Waits for a message delivered to PATH on the receiving endpoint.",
		bind: func(w *World) any {
			return func(ctx context.Context, secs int, p string) error {
				p, err := w.expand(p)
				if err != nil {
					return err
				}
				p = "/" + strings.TrimPrefix(p, "/")
				return w.receive(ctx, secs, func(m receiver.Message) bool { return m.Path == p }, "at "+p+" ")
			}
		},
	},
	{
		Group: GroupMessaging, Phrase: `Then within N seconds a message should be received where the FHIRPath "EXPRESSION" is true`,
		Pattern: `^within (\d+) seconds? a message should be received where the FHIRPath "(.*)" is true$`,
		Example: `Then within 60 seconds a message should be received where the FHIRPath "Bundle.entry[0].resource.response.identifier = %requestId" is true`,
		Doc:     "Waits for a message for which EXPRESSION is true, so concurrent scenarios each claim their own message.",
		bind: func(w *World) any {
			return func(ctx context.Context, secs int, expr string) error {
				if w.env.FHIRPath == nil {
					return execErr("evaluate FHIRPath %q: no FHIRPath engine configured", expr)
				}
				var evalErr error
				match := func(m receiver.Message) bool {
					doc, err := decodeJSON(m.Body)
					if err != nil {
						return false
					}
					out, err := w.env.FHIRPath.Evaluate(ctx, doc, expr, w.fhirpathEnv())
					if err != nil {
						evalErr = err
						return false
					}
					ok, _ := truthOf(out)
					return ok
				}
				err := w.receive(ctx, secs, match, "matching "+expr+" ")
				if evalErr != nil && err != nil {
					return &ExecError{Err: fmt.Errorf("evaluate FHIRPath %q: %w", expr, evalErr)}
				}
				return err
			}
		},
	},
}
