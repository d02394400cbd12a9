// Package listen holds the `hookd listen` connections of one process: each
// is a temporary (listen) webhook's stream of signed requests, which the CLI
// on the other end replays against a local URL, answering each with what
// the local URL said. The delivery engine reaches them through the Hub as
// its deliver.Relay; the API attaches streams and completes requests.
package listen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/deliver"
)

var _ deliver.Relay = (*Hub)(nil)

// Request is one attempt sent down a stream: the exact headers and body
// hookd would send to a real webhook. It is the API's body, which the
// client reads.
type Request = api.ListenRequest

// Result is what the CLI reports for a Request: the local answer, or the
// error that stopped it getting one.
type Result = api.ListenResult

// ErrReplaced ends a session when a newer connection of the same webhook
// takes its place, or when the hub closes.
var ErrReplaced = errors.New("listen: the connection was replaced or the server is stopping")

// Hub holds this process's sessions by webhook id. The zero value is ready.
type Hub struct {
	mu       sync.Mutex
	sessions map[string]*Session
	closed   bool
}

// Session is one connected stream.
type Session struct {
	webhookID string
	requests  chan *Request
	done      chan struct{}
	once      sync.Once

	mu      sync.Mutex
	pending map[string]chan Result
}

// Attach makes s the connection of webhookID, ending any older one: a CLI
// that reconnects before its old connection is noticed gone wins.
func (h *Hub) Attach(webhookID string) (*Session, error) {
	s := &Session{webhookID: webhookID, requests: make(chan *Request), done: make(chan struct{}), pending: map[string]chan Result{}}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, hookd.Errorf(hookd.EINTERNAL, "the server is stopping")
	}
	if h.sessions == nil {
		h.sessions = map[string]*Session{}
	}
	if old := h.sessions[webhookID]; old != nil {
		old.end()
	}
	h.sessions[webhookID] = s
	return s, nil
}

// Detach forgets s, if it is still its webhook's connection, and ends it.
func (h *Hub) Detach(s *Session) {
	h.mu.Lock()
	if h.sessions[s.webhookID] == s {
		delete(h.sessions, s.webhookID)
	}
	h.mu.Unlock()
	s.end()
}

// Close ends every session and attaches no more, so that a server's
// shutdown does not wait for streams that never end by themselves.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for id, s := range h.sessions {
		s.end()
		delete(h.sessions, id)
	}
}

// Holds implements deliver.Relay.
func (h *Hub) Holds(webhookID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.sessions[webhookID]
	return ok
}

func (h *Hub) session(webhookID string) *Session {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions[webhookID]
}

// Exchange implements deliver.Relay: it sends the request down the
// webhook's stream and waits for its result until ctx ends.
func (h *Hub) Exchange(ctx context.Context, r *deliver.Relayed) (*http.Response, error) {
	s := h.session(r.WebhookID)
	if s == nil {
		return nil, errors.New("the hookd listen connection is gone")
	}
	req, err := newRequest(r)
	if err != nil {
		return nil, err
	}
	answer := make(chan Result, 1)
	s.mu.Lock()
	s.pending[req.ID] = answer
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, req.ID)
		s.mu.Unlock()
	}()
	select {
	case s.requests <- req:
	case <-s.done:
		return nil, errors.New("the hookd listen connection closed")
	case <-ctx.Done():
		return nil, fmt.Errorf("handing the request to hookd listen: %w", ctx.Err())
	}
	select {
	case res := <-answer:
		return response(res)
	case <-s.done:
		return nil, errors.New("the hookd listen connection closed before it answered")
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for hookd listen's answer: %w", ctx.Err())
	}
}

// Complete hands a result to the attempt waiting for it.
func (h *Hub) Complete(webhookID string, res Result) error {
	s := h.session(webhookID)
	if s == nil {
		return hookd.Errorf(hookd.ENOTFOUND, "webhook %q has no listen connection on this server", webhookID)
	}
	s.mu.Lock()
	answer := s.pending[res.ID]
	delete(s.pending, res.ID)
	s.mu.Unlock()
	if answer == nil {
		return hookd.Errorf(hookd.ENOTFOUND, "request %q is not waiting for a result (it timed out or was answered)", res.ID)
	}
	answer <- res
	return nil
}

// Requests is where the session's requests arrive, for the stream to send.
func (s *Session) Requests() <-chan *Request { return s.requests }

// Done is closed when the session has ended: replaced, detached, or the
// hub closed.
func (s *Session) Done() <-chan struct{} { return s.done }

func (s *Session) end() { s.once.Do(func() { close(s.done) }) }

func newRequest(r *deliver.Relayed) (*Request, error) {
	body, err := io.ReadAll(r.Request.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	id := make([]byte, 12)
	if _, err := rand.Read(id); err != nil {
		return nil, fmt.Errorf("request id: %w", err)
	}
	headers := make(map[string]string, len(r.Request.Header))
	for k, v := range r.Request.Header {
		headers[k] = strings.Join(v, ", ")
	}
	return &Request{ID: "lreq_" + hex.EncodeToString(id), DeliveryID: r.DeliveryID, EventID: r.EventID, EventType: r.EventType,
		Attempt: r.Attempt, Headers: headers, Body: string(body)}, nil
}

// response turns a result into what the engine records: an answer, or an
// error when the CLI got none.
func response(res Result) (*http.Response, error) {
	if res.Error != "" {
		return nil, errors.New(hookd.StorableText(res.Error, maxErrorLen))
	}
	if res.StatusCode < 100 || res.StatusCode > 999 {
		return nil, fmt.Errorf("hookd listen reported status code %d", res.StatusCode)
	}
	// The engine caps and makes storable what it logs of the headers.
	h := make(http.Header, len(res.Headers))
	for k, v := range res.Headers {
		h[k] = []string{v}
	}
	return &http.Response{StatusCode: res.StatusCode, Header: h, Body: io.NopCloser(strings.NewReader(res.Body))}, nil
}

// maxErrorLen bounds the error text a CLI reports.
const maxErrorLen = 1024
