// Package receiver owns the endpoint conform listens on so that a system
// under test can push messages to it (a discharge notification, a BaRS
// response); workflow steps wait for a matching message within a timeout.
package receiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Defaults applied when Options leaves a field zero.
const (
	DefaultMaxBodyBytes = 10 << 20
	DefaultMaxMessages  = 1000
)

// acknowledgement is the answer to every accepted message.
const acknowledgement = `{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational","diagnostics":"message received by conform"}]}`

// Message is one request the system under test delivered.
type Message struct {
	Method   string      `json:"method"`
	Path     string      `json:"path"`
	Query    string      `json:"query,omitempty"`
	Header   http.Header `json:"headers,omitempty"`
	Body     []byte      `json:"-"`
	Received time.Time   `json:"received"`
}

// Options configures a Receiver.
type Options struct {
	// MaxBodyBytes bounds a delivered body; a longer one is refused with 413.
	MaxBodyBytes int64
	// MaxMessages bounds how many unclaimed messages are kept; the oldest go first.
	MaxMessages int
	// PublicURL is the base URL the system under test should send to, when
	// it differs from the listening address (a proxy, a tunnel, NAT).
	PublicURL string
}

// Receiver is an HTTP server that keeps what it is sent until a waiter claims
// it. Safe for concurrent use.
type Receiver struct {
	opts   Options
	srv    *http.Server
	ln     net.Listener
	served chan struct{}

	mu      sync.Mutex
	pending []Message
	changed chan struct{}
	total   int
}

// Listen starts a Receiver on addr ("127.0.0.1:0", ":8089").
func Listen(addr string, opts Options) (*Receiver, error) {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxMessages <= 0 {
		opts.MaxMessages = DefaultMaxMessages
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for pushed messages on %s: %w", addr, err)
	}
	r := &Receiver{opts: opts, ln: ln, changed: make(chan struct{}), served: make(chan struct{})}
	r.srv = &http.Server{
		Handler:           r,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	go func() {
		defer close(r.served)
		r.srv.Serve(ln)
	}()
	return r, nil
}

// URL returns the base URL messages should be sent to.
func (r *Receiver) URL() string {
	if r.opts.PublicURL != "" {
		return strings.TrimSuffix(r.opts.PublicURL, "/")
	}
	addr := r.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// ServeHTTP accepts a message: any method with a body, any path.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.opts.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "message body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "could not read message body", http.StatusBadRequest)
		return
	}
	msg := Message{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Header: req.Header.Clone(), Body: body, Received: time.Now()}
	r.mu.Lock()
	r.pending = append(r.pending, msg)
	if len(r.pending) > r.opts.MaxMessages {
		r.pending = r.pending[len(r.pending)-r.opts.MaxMessages:]
	}
	r.total++
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, acknowledgement)
}

// ErrTimeout is returned by Wait when no matching message arrived in time.
var ErrTimeout = errors.New("no matching message arrived")

// Wait returns and claims the first message, received before or during the
// wait, for which match reports true (nil matches any). A claimed message is
// given to no other waiter. It returns ErrTimeout (wrapped) when ctx ends first.
func (r *Receiver) Wait(ctx context.Context, match func(Message) bool) (Message, error) {
	for {
		r.mu.Lock()
		for i, m := range r.pending {
			if match == nil || match(m) {
				r.pending = append(r.pending[:i:i], r.pending[i+1:]...)
				r.mu.Unlock()
				return m, nil
			}
		}
		changed, total := r.changed, r.total
		r.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return Message{}, fmt.Errorf("%w (%d received in all): %w", ErrTimeout, total, ctx.Err())
		}
	}
}

// Received returns how many messages arrived since the receiver started.
func (r *Receiver) Received() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

// Close stops the receiver and waits for its server to end.
func (r *Receiver) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := r.srv.Shutdown(ctx)
	<-r.served
	return err
}
