package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd/client"
)

// dlvFast is an app profile whose retries come within a fraction of a
// second and that never auto-disables, so a test sees a delivery through
// to its end quickly.
const dlvFast = `{"retry":{"schedule_seconds":[0.05,0.05,0.05],"max_attempts":4,"jitter":0},"auto_disable_after":0}`

// dlvWait is how long a test waits for something the engine should do in
// well under a second; it is generous so a loaded machine does not flake.
const dlvWait = 20 * time.Second

// dlvEnv is one hookd with one app, for the delivery tests.
type dlvEnv struct {
	tb  testing.TB
	ctx context.Context
	srv *testServer
	c   *client.Client
	app *client.App // DefaultSecret is set: it comes from the create answer
}

// dlvSetup starts hookd, adds the event types to the catalog and creates an
// app with the given profile (JSON; empty for the defaults).
func dlvSetup(tb testing.TB, profile string, types ...string) *dlvEnv {
	tb.Helper()
	return dlvSetupOn(tb, startServer(tb), profile, types...)
}

// dlvSetupOn is dlvSetup on a hookd the caller started (with its own
// config).
func dlvSetupOn(tb testing.TB, srv *testServer, profile string, types ...string) *dlvEnv {
	tb.Helper()
	ctx := context.Background()
	c := srv.Client
	for _, typ := range types {
		if _, err := c.CreateEventType(ctx, typ, "type "+typ); err != nil {
			tb.Fatalf("create event type %s: %v", typ, err)
		}
	}
	in := &client.AppInput{Name: client.Ptr("Delivery test app")}
	if profile != "" {
		in.Profile = json.RawMessage(profile)
	}
	app, err := c.CreateApp(ctx, in)
	if err != nil {
		tb.Fatalf("create app: %v", err)
	}
	if app.DefaultSecret == "" {
		tb.Fatalf("app create answer holds no default_secret")
	}
	return &dlvEnv{tb: tb, ctx: ctx, srv: srv, c: c, app: app}
}

// webhook creates a webhook of the app.
func (e *dlvEnv) webhook(in *client.WebhookInput) *client.Webhook {
	e.tb.Helper()
	w, err := e.c.CreateWebhook(e.ctx, e.app.ID, in)
	if err != nil {
		e.tb.Fatalf("create webhook: %v", err)
	}
	if w.Secret == "" {
		e.tb.Fatalf("webhook create answer holds no secret")
	}
	return w
}

// patch PATCHes a webhook.
func (e *dlvEnv) patch(id string, in any) *client.Webhook {
	e.tb.Helper()
	w, err := e.c.UpdateWebhook(e.ctx, e.app.ID, id, in)
	if err != nil {
		e.tb.Fatalf("patch webhook %s: %v", id, err)
	}
	return w
}

// getWebhook reads a webhook.
func (e *dlvEnv) getWebhook(id string) *client.Webhook {
	e.tb.Helper()
	w, err := e.c.GetWebhook(e.ctx, e.app.ID, id)
	if err != nil {
		e.tb.Fatalf("get webhook %s: %v", id, err)
	}
	return w
}

// publish publishes one event and expects 202.
func (e *dlvEnv) publish(in *client.PublishInput) *client.Published {
	e.tb.Helper()
	pub, status, err := e.c.Publish(e.ctx, e.app.ID, in)
	if err != nil || status != http.StatusAccepted {
		e.tb.Fatalf("publish %s: status %d, %v", in.Type, status, err)
	}
	return pub
}

// publishType publishes an event of typ with data {"n":n}.
func (e *dlvEnv) publishType(typ string, n int) *client.Published {
	e.tb.Helper()
	data, _ := json.Marshal(map[string]int{"n": n})
	return e.publish(&client.PublishInput{Type: typ, Data: data})
}

// event reads an event with its deliveries.
func (e *dlvEnv) event(id string) *client.Event {
	e.tb.Helper()
	ev, err := e.c.GetEvent(e.ctx, e.app.ID, id)
	if err != nil {
		e.tb.Fatalf("get event %s: %v", id, err)
	}
	return ev
}

// onlyDelivery returns the id of the one delivery an event has.
func (e *dlvEnv) onlyDelivery(eventID string) string {
	e.tb.Helper()
	ev := e.event(eventID)
	if len(ev.Deliveries) != 1 {
		e.tb.Fatalf("event %s has %d deliveries, want 1: %+v", eventID, len(ev.Deliveries), ev.Deliveries)
	}
	return ev.Deliveries[0].ID
}

// delivery reads one delivery with its attempts.
func (e *dlvEnv) delivery(id string) *client.Delivery {
	e.tb.Helper()
	d, err := e.c.GetDelivery(e.ctx, e.app.ID, id)
	if err != nil {
		e.tb.Fatalf("get delivery %s: %v", id, err)
	}
	return d
}

// waitDelivery polls a delivery until cond holds and returns it.
func (e *dlvEnv) waitDelivery(id, what string, cond func(*client.Delivery) bool) *client.Delivery {
	e.tb.Helper()
	var d *client.Delivery
	eventually(e.tb, dlvWait, "delivery "+id+" "+what, func() bool {
		got, err := e.c.GetDelivery(e.ctx, e.app.ID, id)
		if err != nil {
			return false
		}
		d = got
		return cond(got)
	})
	return d
}

// waitStatus waits until a delivery has the given status.
func (e *dlvEnv) waitStatus(id, status string) *client.Delivery {
	e.tb.Helper()
	return e.waitDelivery(id, "to be "+status, func(d *client.Delivery) bool { return d.Status == status })
}

// eventCount returns how many events the app has (up to 250).
func (e *dlvEnv) eventCount() int {
	e.tb.Helper()
	evs, _, err := e.c.ListEvents(e.ctx, e.app.ID, &client.ListOptions{Limit: 250})
	if err != nil {
		e.tb.Fatalf("list events: %v", err)
	}
	return len(evs)
}

// dlvHeader looks a header up in an attempt's logged request headers,
// whose names keep the spelling they had on the wire.
func dlvHeader(h map[string]string, name string) (string, bool) {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// dlvSign computes a Standard Webhooks signature, written here from the
// spec (base64 HMAC-SHA256 of "{id}.{ts}.{body}" keyed with the base64
// decoded part of the secret after whsec_), not with hookd's signer.
func dlvSign(tb testing.TB, secret, id, ts string, body []byte) string {
	tb.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || !strings.HasPrefix(secret, "whsec_") {
		tb.Fatalf("secret %q is not whsec_ + base64", secret)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// dlvSignatures splits a webhook-signature header into its signatures.
func dlvSignatures(h http.Header) []string {
	return strings.Fields(h.Get("webhook-signature"))
}

// dlvVerifies reports whether a received request carries a valid Standard
// Webhooks signature made with secret.
func dlvVerifies(tb testing.TB, got received, secret string) bool {
	tb.Helper()
	want := dlvSign(tb, secret, got.Header.Get("webhook-id"), got.Header.Get("webhook-timestamp"), got.Body)
	for _, s := range dlvSignatures(got.Header) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

// dlvEnvelope is the default envelope of a delivered body.
type dlvEnvelope struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// dlvTypes returns the envelope types of received bodies, in order.
func dlvTypes(tb testing.TB, got []received) []string {
	tb.Helper()
	var out []string
	for _, g := range got {
		var env dlvEnvelope
		if err := json.Unmarshal(g.Body, &env); err != nil {
			tb.Fatalf("body %s is not the default envelope: %v", g.Body, err)
		}
		out = append(out, env.Type)
	}
	return out
}

// dlvClosedURL returns an http URL on loopback where nothing listens, so a
// request to it is refused.
func dlvClosedURL(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/hook"
}

// dlvServer is a receiver whose handler writes the whole answer itself
// (headers such as Retry-After, long bodies), which the shared receiver
// cannot. It records what arrives like the shared one.
type dlvServer struct {
	*httptest.Server
	mu  sync.Mutex
	got []received
}

// dlvNewServer starts a dlvServer; handle gets the 1-based request number.
func dlvNewServer(tb testing.TB, handle func(n int, w http.ResponseWriter, r *http.Request)) *dlvServer {
	tb.Helper()
	s := &dlvServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.got = append(s.got, received{Header: r.Header.Clone(), Body: body, At: time.Now()})
		n := len(s.got)
		s.mu.Unlock()
		handle(n, w, r)
	}))
	tb.Cleanup(s.Close)
	return s
}

// Received returns a copy of what has arrived so far.
func (s *dlvServer) Received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

// waitFor waits until at least n requests have arrived and returns them.
func (s *dlvServer) waitFor(tb testing.TB, n int, timeout time.Duration) []received {
	tb.Helper()
	var got []received
	eventually(tb, timeout, "the receiver to get requests", func() bool {
		got = s.Received()
		return len(got) >= n
	})
	return got
}

// dlvQuiet waits d and then fails if count() has changed: for checks that
// something does not arrive. d is a lower bound only.
func dlvQuiet(tb testing.TB, d time.Duration, what string, count func() int) {
	tb.Helper()
	before := count()
	time.Sleep(d)
	if after := count(); after != before {
		tb.Fatalf("%s: %d requests arrived while none should have", what, after-before)
	}
}
