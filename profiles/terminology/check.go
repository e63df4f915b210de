package terminology

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Verdict is the result of checking a code against a value set.
type Verdict int

// Verdicts.
const (
	// Unchecked means the membership could not be decided (the value set
	// cannot be expanded offline and no server answered).
	Unchecked Verdict = iota
	// Member means the code is in the value set.
	Member
	// NotMember means the code is known not to be in the value set.
	NotMember
)

// Check is the outcome of CheckCode.
type Check struct {
	Verdict Verdict
	// Expansion is the value set, when it could be read.
	Expansion *Expansion
	// Reason says why the code was not checked, or the server's message.
	Reason string
}

// CheckCode decides whether system|code is in the value set with the
// canonical URL: from the offline expansion when it decides, else from the
// terminology server when one is configured. A returned error means the check
// could not be executed (a cancelled context, a circular value set).
func (s *Service) CheckCode(ctx context.Context, valueSet, system, code string) (Check, error) {
	exp, err := s.Expand(ctx, valueSet)
	if err != nil {
		var nf *NotFoundError
		if !errors.As(err, &nf) {
			return Check{}, err
		}
		if s.server == nil {
			return Check{Verdict: Unchecked, Reason: nf.Error()}, nil
		}
	}
	if exp != nil {
		if exp.Contains(system, code) {
			return Check{Verdict: Member, Expansion: exp}, nil
		}
		if exp.Decides(system) {
			return Check{Verdict: NotMember, Expansion: exp}, nil
		}
	}
	if s.server == nil {
		return Check{Verdict: Unchecked, Expansion: exp, Reason: exp.Incomplete}, nil
	}
	ok, msg, err := s.server.ValidateCode(ctx, valueSet, system, code)
	if err != nil {
		return Check{Verdict: Unchecked, Expansion: exp, Reason: fmt.Sprintf("the terminology server could not be asked: %v", err)}, nil
	}
	if ok {
		return Check{Verdict: Member, Expansion: exp, Reason: msg}, nil
	}
	return Check{Verdict: NotMember, Expansion: exp, Reason: msg}, nil
}

// Server asks a FHIR terminology server ValueSet/$validate-code, with retries
// on transient failures and an in-memory cache of answers; it is safe for
// concurrent use.
type Server struct {
	base   string
	client *retryablehttp.Client

	mu    sync.Mutex
	cache map[string]serverAnswer
	// failures counts calls failed in a row (no connection, timeouts, 5xx);
	// at maxServerFailures the server is not asked again.
	failures int
	lastErr  error
}

// maxServerFailures is how many calls in a row may fail before a Server
// stops asking, so an unreachable server costs a few timeouts rather than
// one per code.
const maxServerFailures = 3

type serverAnswer struct {
	ok  bool
	msg string
}

// maxAnswer bounds the size of a server response.
const maxAnswer = 4 << 20

// maxServerAnswers bounds how many answers a Server keeps.
const maxServerAnswers = 100000

// NewServer returns a client of the terminology server at base (e.g.
// https://tx.example.org/r4). Requests are GETs (idempotent), retried up to
// three times on connection errors, 429 and 5xx, each bounded by timeout.
func NewServer(base string, timeout time.Duration) (*Server, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("terminology server %q: not an http or https URL", base)
	}
	c := retryablehttp.NewClient()
	c.RetryMax = 3
	c.RetryWaitMin = 200 * time.Millisecond
	c.RetryWaitMax = 2 * time.Second
	c.Logger = nil
	c.HTTPClient.Timeout = timeout
	return &Server{base: strings.TrimRight(base, "/"), client: c, cache: map[string]serverAnswer{}}, nil
}

// ValidateCode asks the server whether system|code is in valueSet; msg is
// the server's message when it gives one.
func (s *Server) ValidateCode(ctx context.Context, valueSet, system, code string) (ok bool, msg string, err error) {
	key := valueSet + "\x00" + system + "\x00" + code
	s.mu.Lock()
	a, hit := s.cache[key]
	s.mu.Unlock()
	if hit {
		return a.ok, a.msg, nil
	}
	s.mu.Lock()
	if s.failures >= maxServerFailures {
		err := s.lastErr
		s.mu.Unlock()
		return false, "", fmt.Errorf("terminology server %s not asked after %d failed calls in a row: %w", s.base, maxServerFailures, err)
	}
	s.mu.Unlock()
	q := url.Values{}
	q.Set("url", valueSet)
	if system != "" {
		q.Set("system", system)
	}
	q.Set("code", code)
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, s.base+"/ValueSet/$validate-code?"+q.Encode(), nil)
	if err != nil {
		return false, "", fmt.Errorf("build $validate-code request: %w", err)
	}
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := s.client.Do(req)
	if err != nil {
		return false, "", s.failed(fmt.Errorf("call $validate-code: %w", err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return false, "", s.failed(fmt.Errorf("read $validate-code response: %w", err))
	}
	if len(body) > maxAnswer {
		return false, "", fmt.Errorf("read $validate-code response: larger than %d bytes", maxAnswer)
	}
	if resp.StatusCode >= 500 {
		return false, "", s.failed(fmt.Errorf("call $validate-code: server answered %s", resp.Status))
	}
	s.mu.Lock()
	s.failures = 0
	s.mu.Unlock()
	if resp.StatusCode != http.StatusOK {
		return false, "", fmt.Errorf("call $validate-code: server answered %s", resp.Status)
	}
	a, err = parseParameters(body)
	if err != nil {
		return false, "", err
	}
	s.mu.Lock()
	if len(s.cache) < maxServerAnswers {
		s.cache[key] = a
	}
	s.mu.Unlock()
	return a.ok, a.msg, nil
}

// failed counts a call that failed for want of a working server.
func (s *Server) failed(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	s.mu.Lock()
	s.failures++
	s.lastErr = err
	s.mu.Unlock()
	return err
}

func parseParameters(body []byte) (serverAnswer, error) {
	var p struct {
		ResourceType string `json:"resourceType"`
		Parameter    []struct {
			Name         string  `json:"name"`
			ValueBoolean *bool   `json:"valueBoolean"`
			ValueString  *string `json:"valueString"`
		} `json:"parameter"`
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&p); err != nil {
		return serverAnswer{}, fmt.Errorf("decode $validate-code response: %w", err)
	}
	if p.ResourceType != "Parameters" {
		return serverAnswer{}, fmt.Errorf("decode $validate-code response: got %q, want Parameters", p.ResourceType)
	}
	var a serverAnswer
	found := false
	for _, prm := range p.Parameter {
		switch prm.Name {
		case "result":
			if prm.ValueBoolean != nil {
				a.ok, found = *prm.ValueBoolean, true
			}
		case "message":
			if prm.ValueString != nil {
				a.msg = *prm.ValueString
			}
		}
	}
	if !found {
		return serverAnswer{}, errors.New("decode $validate-code response: no result parameter")
	}
	return a, nil
}
