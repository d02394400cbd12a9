package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	stripewebhook "github.com/stripe/stripe-go/v82/webhook"
)

// srcE2EProvider is one provider as a third party would use it: how it
// builds a request and how it signs one, written from its published
// algorithm.
type srcE2EProvider struct {
	provider string
	secret   string // given at create; "" takes the generated whsec_ one
	prefix   string // header_prefix
	typ      string // the event type hookd should read
	// stale is set where the provider signs a timestamp, so that an old
	// one must be refused.
	stale bool
	// message builds an unsigned request of provider delivery id pid made
	// at ts: the provider's own headers (Content-Type among them) and body.
	message func(pid string, ts time.Time) (http.Header, []byte)
	// sign adds the signature headers of body made with secret at ts.
	sign func(tb testing.TB, h http.Header, secret string, ts time.Time, body []byte)
	// sigHeader is the signature header, left out for "missing".
	sigHeader string
}

func srcE2EJSONHeader(ct string, kv ...string) http.Header {
	h := http.Header{"Content-Type": {ct}}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// srcE2EProviders covers every provider hookd receives from.
var srcE2EProviders = []srcE2EProvider{
	{
		provider: "standard", typ: "invoice.paid", stale: true, sigHeader: "webhook-signature",
		message: func(pid string, ts time.Time) (http.Header, []byte) {
			h := srcE2EJSONHeader("application/json", "webhook-id", pid, "X-Sender-Trace", "trace-"+pid)
			return h, []byte(`{"type":"invoice.paid","timestamp":"` + ts.UTC().Format(time.RFC3339) + `","data":{"invoice":"in_1","note":"<b>&</b>"}}`)
		},
		// Standard Webhooks: webhook-signature: v1,base64(HMAC(base64dec(secret), "{id}.{ts}.{body}")).
		sign: func(tb testing.TB, h http.Header, secret string, ts time.Time, body []byte) {
			t := srcE2EUnix(ts)
			h.Set("webhook-timestamp", t)
			h.Set("webhook-signature", srcE2ESignStandard(tb, secret, h.Get("webhook-id"), t, body))
		},
	},
	{
		provider: "stripe", secret: "whsec_stripeIssued0123456789abcdef", typ: "payment_intent.succeeded", stale: true, sigHeader: "Stripe-Signature",
		message: func(pid string, ts time.Time) (http.Header, []byte) {
			return srcE2EJSONHeader("application/json; charset=utf-8", "User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"),
				[]byte(`{"id":"` + pid + `","object":"event","api_version":"2024-06-20","created":` + srcE2EUnix(ts) +
					`,"type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","amount":2000}}}`)
		},
		// Stripe: Stripe-Signature: t={ts},v1=hex(HMAC(secret, "{ts}.{body}")).
		sign: func(_ testing.TB, h http.Header, secret string, ts time.Time, body []byte) {
			t := srcE2EUnix(ts)
			h.Set("Stripe-Signature", "t="+t+",v1="+srcE2EHex(secret, []byte(t+"."), body))
		},
	},
	{
		provider: "github", typ: "issues.opened", sigHeader: "X-Hub-Signature-256",
		message: func(pid string, _ time.Time) (http.Header, []byte) {
			return srcE2EJSONHeader("application/json", "X-GitHub-Event", "issues", "X-GitHub-Delivery", pid,
					"X-GitHub-Hook-ID", "292430182", "User-Agent", "GitHub-Hookshot/044aadd"),
				[]byte(`{"action":"opened","issue":{"number":1347,"title":"Found a bug"},"repository":{"full_name":"octo/hello"}}`)
		},
		// GitHub: X-Hub-Signature-256: sha256=hex(HMAC(secret, body)).
		sign: func(_ testing.TB, h http.Header, secret string, _ time.Time, body []byte) {
			h.Set("X-Hub-Signature-256", "sha256="+srcE2EHex(secret, body))
		},
	},
	{
		provider: "linear", secret: "lin_wh_0123456789abcdefABCDEF", typ: "Issue.create", stale: true, sigHeader: "Linear-Signature",
		message: func(pid string, ts time.Time) (http.Header, []byte) {
			return srcE2EJSONHeader("application/json; charset=utf-8", "Linear-Delivery", pid, "Linear-Event", "Issue", "User-Agent", "Linear-Webhook"),
				[]byte(`{"action":"create","type":"Issue","data":{"id":"2174add1","title":"Test"},"url":"https://linear.app/i/1","webhookTimestamp":` +
					strconv.FormatInt(ts.UnixMilli(), 10) + `,"webhookId":"000042e3"}`)
		},
		// Linear: Linear-Signature: hex(HMAC(secret, body)); the time is
		// the body's webhookTimestamp (ms), which the signature covers.
		sign: func(_ testing.TB, h http.Header, secret string, _ time.Time, body []byte) {
			h.Set("Linear-Signature", srcE2EHex(secret, body))
		},
	},
	{
		provider: "shopify", secret: "shpss_0123456789abcdef0123456789ab", typ: "orders/create", sigHeader: "X-Shopify-Hmac-Sha256",
		message: func(pid string, ts time.Time) (http.Header, []byte) {
			return srcE2EJSONHeader("application/json", "X-Shopify-Topic", "orders/create", "X-Shopify-Webhook-Id", pid,
					"X-Shopify-Shop-Domain", "example.myshopify.com", "X-Shopify-Api-Version", "2024-07",
					"X-Shopify-Triggered-At", ts.UTC().Format(time.RFC3339Nano)),
				[]byte(`{"id":820982911946154508,"email":"jon@example.com","total_price":"10.00"}`)
		},
		// Shopify: X-Shopify-Hmac-Sha256: base64(HMAC(secret, body)).
		sign: func(_ testing.TB, h http.Header, secret string, _ time.Time, body []byte) {
			h.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(srcE2EMAC([]byte(secret), body)))
		},
	},
	{
		provider: "slack", secret: "8f742231b10e8888abcd99yyyzzz85a5", typ: "app_mention", stale: true, sigHeader: "X-Slack-Signature",
		message: func(pid string, ts time.Time) (http.Header, []byte) {
			return srcE2EJSONHeader("application/json", "User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)"),
				[]byte(`{"token":"XXYYZZ","team_id":"T123ABC456","type":"event_callback","event_id":"` + pid +
					`","event_time":` + srcE2EUnix(ts) + `,"event":{"type":"app_mention","user":"U1","text":"<@U0LAN0Z89> hi"}}`)
		},
		// Slack: X-Slack-Signature: v0=hex(HMAC(secret, "v0:{ts}:{body}")).
		sign: func(_ testing.TB, h http.Header, secret string, ts time.Time, body []byte) {
			t := srcE2EUnix(ts)
			h.Set("X-Slack-Request-Timestamp", t)
			h.Set("X-Slack-Signature", "v0="+srcE2EHex(secret, []byte("v0:"+t+":"), body))
		},
	},
	{
		provider: "hmac-hex", prefix: "X-Alloy", typ: "user.created", sigHeader: "X-Alloy-Signature",
		message: func(pid string, ts time.Time) (http.Header, []byte) {
			return srcE2EJSONHeader("application/json", "X-Alloy-Id", pid),
				[]byte(`{"event":"user.created","timestamp":` + srcE2EUnix(ts) + `,"data":{"id":"u1"}}`)
		},
		// {prefix}-Signature: hex(HMAC(secret, body)).
		sign: func(_ testing.TB, h http.Header, secret string, _ time.Time, body []byte) {
			h.Set("X-Alloy-Signature", srcE2EHex(secret, body))
		},
	},
	{
		provider: "timestamped-hex", prefix: "X-Wazza", typ: "job.completed", stale: true, sigHeader: "X-Wazza-Signature",
		message: func(pid string, _ time.Time) (http.Header, []byte) {
			return srcE2EJSONHeader("application/json", "X-Wazza-Id", pid), []byte(`{"type":"job.completed","job":"j_1","progress":100}`)
		},
		// {prefix}-Signature: hex(HMAC(secret, "{ts}.{body}")), {prefix}-Timestamp: {ts}.
		sign: func(_ testing.TB, h http.Header, secret string, ts time.Time, body []byte) {
			t := srcE2EUnix(ts)
			h.Set("X-Wazza-Timestamp", t)
			h.Set("X-Wazza-Signature", srcE2EHex(secret, []byte(t+"."), body))
		},
	},
}

// signed builds a request of pid made at ts and signs it with secret.
func (p *srcE2EProvider) signed(tb testing.TB, secret, pid string, ts time.Time) (http.Header, []byte) {
	tb.Helper()
	h, body := p.message(pid, ts)
	p.sign(tb, h, secret, ts, body)
	return h, body
}

// otherSecret is a secret of the right form that is not the source's.
func (p *srcE2EProvider) otherSecret() string {
	if p.provider == "standard" {
		return "whsec_" + base64.StdEncoding.EncodeToString([]byte("not the source's secret!"))
	}
	return "someone-else's-secret"
}

// keptHeader reports whether a provider header should reach forward_url
// as sent: hookd's own Standard Webhooks headers replace those of the same
// name, and Content-Type is checked on its own.
func (p *srcE2EProvider) keptHeader(name string) bool {
	return !strings.HasPrefix(strings.ToLower(name), "webhook-") && !strings.EqualFold(name, "Content-Type")
}

// Every provider, against a real hookd with a real forward receiver:
// requests signed by hand from the provider's algorithm are received,
// stored and forwarded as sent, carrying hookd's signature; bad, missing
// and stale signatures are 401 and store nothing; a resent provider
// delivery id is recorded once.
func TestSourceProviders(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	for _, p := range srcE2EProviders {
		t.Run(p.provider, func(t *testing.T) {
			t.Parallel()
			env := *env
			env.tb = t
			rc := newReceiver(t, nil)
			in := map[string]any{"name": "From " + p.provider, "provider": p.provider, "forward_url": rc.URL + "/inbound?from=" + p.provider}
			if p.secret != "" {
				in["secret"] = p.secret
			}
			if p.prefix != "" {
				in["header_prefix"] = p.prefix
			}
			src := env.create(in)
			secret := *src.Secret
			switch {
			case p.secret == "" && !strings.HasPrefix(secret, "whsec_"):
				t.Fatalf("generated secret %q does not start with whsec_", secret)
			case p.secret != "" && secret != p.secret:
				t.Fatalf("create answered secret %q, want the given %q", secret, p.secret)
			}
			if src.Provider != p.provider || src.ReceiveURL != env.srv.URL+"/v1/receive/"+src.ID {
				t.Fatalf("created provider %q receive_url %q, want %q and %s/v1/receive/%s", src.Provider, src.ReceiveURL, p.provider, env.srv.URL, src.ID)
			}
			now := time.Now()

			// Refused: 401 in the error format, nothing stored or forwarded.
			refuse := func(what string, h http.Header, body []byte) {
				t.Helper()
				r := srcE2EReceive(t, src.ReceiveURL, h, body)
				msg := srcE2EWantError(t, r, http.StatusUnauthorized, "UNAUTHORIZED")
				t.Logf("%s: 401 %q", what, msg)
			}
			h, body := p.signed(t, p.otherSecret(), "bad-1", now)
			refuse("signed with another secret", h, body)
			h, body = p.signed(t, secret, "bad-2", now)
			refuse("body changed after signing", h, append(bytes.Clone(body[:len(body)-1]), ' ', '}'))
			h, body = p.signed(t, secret, "bad-3", now)
			h.Del(p.sigHeader)
			refuse("no signature header", h, body)
			h, body = p.message("bad-4", now)
			refuse("not signed at all", h, body)
			if p.stale {
				h, body = p.signed(t, secret, "bad-5", now.Add(-time.Hour))
				refuse("signed an hour ago", h, body)
				h, body = p.signed(t, secret, "bad-6", now.Add(time.Hour))
				refuse("signed an hour ahead", h, body)
			}
			env.wantNothingStored(src.ID)
			if n := len(env.deliveries(src.ID)); n != 0 {
				t.Fatalf("refused requests made %d deliveries", n)
			}

			// Accepted.
			pid := "prov_" + p.provider + "_" + strconv.FormatInt(now.UnixNano(), 36)
			h, body = p.signed(t, secret, pid, now)
			id := srcE2EWantReceived(t, srcE2EReceive(t, src.ReceiveURL, h, body))

			evs := env.events(src.ID)
			if len(evs) != 1 {
				t.Fatalf("source has %d events, want 1", len(evs))
			}
			ev := evs[0]
			if ev.ID != id || ev.SourceID != src.ID || ev.SourceName != src.Name || ev.Status != "received" || ev.Test {
				t.Fatalf("stored event %+v, want id %s of source %s (%s), status received, not test", ev, id, src.ID, src.Name)
			}
			if ev.Type == nil || *ev.Type != p.typ {
				t.Fatalf("stored type %s, want %q", srcE2EStr(ev.Type), p.typ)
			}
			if ev.ProviderEventID == nil || *ev.ProviderEventID != pid {
				t.Fatalf("stored provider_event_id %s, want %q", srcE2EStr(ev.ProviderEventID), pid)
			}
			if ev.Body != string(body) {
				t.Fatalf("stored body %q, want %q", ev.Body, body)
			}
			if ev.ContentType == nil || *ev.ContentType != h.Get("Content-Type") {
				t.Fatalf("stored content_type %s, want %q", srcE2EStr(ev.ContentType), h.Get("Content-Type"))
			}
			for k := range h {
				if k == "Content-Type" {
					continue
				}
				if got, ok := srcE2EHeaderOf(ev.Headers, k); !ok || got != h.Get(k) {
					t.Fatalf("stored header %s = %q (present %t), want %q; headers %v", k, got, ok, h.Get(k), ev.Headers)
				}
			}
			if got := env.source(src.ID); got.EventCount != 1 || got.LastEventAt == nil {
				t.Fatalf("source after one event: event_count %d, last_event_at %v", got.EventCount, got.LastEventAt)
			}

			// Forwarded as it came, with hookd's signature.
			fwd := rc.waitFor(t, 1, srcE2EWait)[0]
			if !bytes.Equal(fwd.Body, body) {
				t.Fatalf("forwarded body %q, want the raw body %q", fwd.Body, body)
			}
			if got := fwd.Header.Get("Content-Type"); got != h.Get("Content-Type") {
				t.Fatalf("forwarded Content-Type %q, want %q", got, h.Get("Content-Type"))
			}
			for k := range h {
				if p.keptHeader(k) && fwd.Header.Get(k) != h.Get(k) {
					t.Fatalf("forwarded header %s = %q, want the provider's %q", k, fwd.Header.Get(k), h.Get(k))
				}
			}
			srcE2EHookdSigned(t, fwd, id, env.defaultSecret)
			d := env.waitDelivery(env.onlyDelivery(src.ID).ID, "to succeed", func(d *srcE2EDelivery) bool { return d.Status == "succeeded" })
			if d.EventID != id || d.SourceID == nil || *d.SourceID != src.ID || d.URL == nil || *d.URL != rc.URL+"/inbound?from="+p.provider {
				t.Fatalf("delivery %+v, want event %s of source %s to the forward_url", d, id, src.ID)
			}

			// The provider resends the same delivery, freshly signed: the
			// first event answers and nothing new is stored or forwarded.
			for range 2 {
				h2, body2 := p.message(pid, now)
				p.sign(t, h2, secret, time.Now(), body2)
				if again := srcE2EWantReceived(t, srcE2EReceive(t, src.ReceiveURL, h2, body2)); again != id {
					t.Fatalf("resent delivery %s answered id %s, want the first %s", pid, again, id)
				}
			}
			srcE2EQuietFor(t, srcE2EQuiet, "forwards after resends", func() int { return len(rc.Received()) })
			if evs := env.events(src.ID); len(evs) != 1 {
				t.Fatalf("after resends the source has %d events, want 1", len(evs))
			}
			if n := len(env.deliveries(src.ID)); n != 1 {
				t.Fatalf("after resends the source has %d deliveries, want 1", n)
			}
			if got := env.source(src.ID); got.EventCount != 1 {
				t.Fatalf("after resends event_count is %d, want 1", got.EventCount)
			}

			// A new delivery id is a new event.
			h, body = p.signed(t, secret, pid+"-2", time.Now())
			if id2 := srcE2EWantReceived(t, srcE2EReceive(t, src.ReceiveURL, h, body)); id2 == id {
				t.Fatalf("a new provider delivery id answered the old event %s", id)
			}
			rc.waitFor(t, 2, srcE2EWait)
		})
	}
}

// srcE2EHeaderOf looks a header up by name, whatever its spelling.
func srcE2EHeaderOf(h map[string]string, name string) (string, bool) {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// Stripe's own Go library signs what a stripe source accepts; what it
// signs with another secret, or an hour ago, is refused.
func TestSourceStripeGoSignedPayload(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	const secret = "whsec_stripeGoIssued_4242424242"
	src := env.create(map[string]any{"name": "Stripe", "provider": "stripe", "secret": secret})
	payload := []byte(`{"id":"evt_1PstripeGo","object":"event","type":"invoice.paid","data":{"object":{"id":"in_1"}}}`)
	send := func(secret string, ts time.Time) *srcE2EResp {
		sp := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: ts})
		h := http.Header{"Content-Type": {"application/json; charset=utf-8"}, "Stripe-Signature": {sp.Header}}
		return srcE2EReceive(t, src.ReceiveURL, h, payload)
	}
	srcE2EWantError(t, send("whsec_someoneElse", time.Now()), http.StatusUnauthorized, "UNAUTHORIZED")
	srcE2EWantError(t, send(secret, time.Now().Add(-time.Hour)), http.StatusUnauthorized, "UNAUTHORIZED")
	env.wantNothingStored(src.ID)

	id := srcE2EWantReceived(t, send(secret, time.Now()))
	evs := env.events(src.ID)
	if len(evs) != 1 || evs[0].ID != id || evs[0].ProviderEventID == nil || *evs[0].ProviderEventID != "evt_1PstripeGo" ||
		evs[0].Type == nil || *evs[0].Type != "invoice.paid" {
		t.Fatalf("events %+v, want one %s with provider id evt_1PstripeGo and type invoice.paid", evs, id)
	}
	// Stripe retries the same event: recorded once.
	if again := srcE2EWantReceived(t, send(secret, time.Now())); again != id {
		t.Fatalf("Stripe's retry answered %s, want the first %s", again, id)
	}
	if got := env.source(src.ID); got.EventCount != 1 {
		t.Fatalf("event_count %d after a retry, want 1", got.EventCount)
	}
}

// A Slack slash command is a form post, not JSON: it is verified, stored
// and forwarded as application/x-www-form-urlencoded, byte for byte. And
// Slack's URL verification gets its challenge back.
func TestSourceSlackFormAndChallenge(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	rc := newReceiver(t, nil)
	const secret = "8f742231b10e8888abcd99yyyzzz85a5"
	src := env.create(map[string]any{"name": "Slack commands", "provider": "slack", "secret": secret, "forward_url": rc.URL})
	slack := srcE2EProviders[5]
	if slack.provider != "slack" {
		t.Fatalf("provider table changed: %s", slack.provider)
	}

	body := []byte("token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=example&channel_id=C2147483705" +
		"&user_id=U2147483697&user_name=Steve&command=%2Fweather&text=94070&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1234%2F5678&trigger_id=13345224609.738474920.8088930838d88f008e0")
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "User-Agent": {"Slackbot 1.0 (+https://api.slack.com/robots)"}}
	slack.sign(t, h, secret, time.Now(), body)
	id := srcE2EWantReceived(t, srcE2EReceive(t, src.ReceiveURL, h, body))

	fwd := rc.waitFor(t, 1, srcE2EWait)[0]
	if !bytes.Equal(fwd.Body, body) {
		t.Fatalf("forwarded %q, want %q", fwd.Body, body)
	}
	if ct := fwd.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Fatalf("forwarded Content-Type %q, want application/x-www-form-urlencoded", ct)
	}
	for _, k := range []string{"X-Slack-Signature", "X-Slack-Request-Timestamp", "User-Agent"} {
		if fwd.Header.Get(k) != h.Get(k) {
			t.Fatalf("forwarded %s = %q, want %q", k, fwd.Header.Get(k), h.Get(k))
		}
	}
	srcE2EHookdSigned(t, fwd, id, env.defaultSecret)

	// Slack checks a new Events API URL with a signed url_verification.
	body = []byte(`{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	h = http.Header{"Content-Type": {"application/json"}}
	slack.sign(t, h, secret, time.Now(), body)
	r := srcE2EReceive(t, src.ReceiveURL, h, body)
	srcE2EWantReceived(t, r)
	if r.Body["challenge"] != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Fatalf("url_verification answer %s lacks the challenge", r.Raw)
	}
}

// The allow-list: an event outside it is stored as "filtered" and not
// forwarded. GitHub's type is X-GitHub-Event plus the body's action.
func TestSourceAllowList(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	rc := newReceiver(t, nil)
	src := env.create(map[string]any{"name": "GitHub", "provider": "github", "forward_url": rc.URL,
		"events": []string{"push", "pull_request.opened", "issues.*"}})
	if got := fmt.Sprint(src.Events); got != "[push pull_request.opened issues.*]" {
		t.Fatalf("events %s", got)
	}
	secret := *src.Secret
	send := func(event, delivery, body string) string {
		t.Helper()
		h := http.Header{"Content-Type": {"application/json"}, "X-GitHub-Event": {event}, "X-GitHub-Delivery": {delivery},
			"X-Hub-Signature-256": {"sha256=" + srcE2EHex(secret, []byte(body))}}
		return srcE2EWantReceived(t, srcE2EReceive(t, src.ReceiveURL, h, []byte(body)))
	}
	cases := []struct {
		event, body, typ string
		forwarded        bool
	}{
		{"push", `{"ref":"refs/heads/main"}`, "push", true},
		{"pull_request", `{"action":"opened","number":1}`, "pull_request.opened", true},
		{"pull_request", `{"action":"closed","number":1}`, "pull_request.closed", false},
		{"issues", `{"action":"labeled"}`, "issues.labeled", true},
		{"star", `{"action":"created"}`, "star.created", false},
		{"pull_request", `{"number":2}`, "pull_request", false},
	}
	want := map[string]bool{}
	var forwarded []string
	for i, c := range cases {
		id := send(c.event, fmt.Sprintf("d-%d", i), c.body)
		want[id] = c.forwarded
		if c.forwarded {
			forwarded = append(forwarded, c.body)
		}
	}
	evs := env.events(src.ID)
	if len(evs) != len(cases) {
		t.Fatalf("stored %d events, want %d: filtered ones are kept too", len(evs), len(cases))
	}
	for i, ev := range evs {
		c := cases[len(cases)-1-i] // newest first
		status := "filtered"
		if c.forwarded {
			status = "received"
		}
		if ev.Type == nil || *ev.Type != c.typ || ev.Status != status {
			t.Fatalf("event %d: type %s status %q, want %q %q", i, srcE2EStr(ev.Type), ev.Status, c.typ, status)
		}
		if c.forwarded != (len(ev.Deliveries) == 1) || len(ev.Deliveries) > 1 {
			t.Fatalf("event %s (%s) has deliveries %+v, forwarded %t", ev.ID, c.typ, ev.Deliveries, c.forwarded)
		}
	}
	rc.waitFor(t, len(forwarded), srcE2EWait)
	srcE2EQuietFor(t, srcE2EQuiet, "forwards of filtered events", func() int { return len(rc.Received()) })
	got := rc.Received()
	if len(got) != len(forwarded) {
		t.Fatalf("forwarded %d requests, want %d", len(got), len(forwarded))
	}
	seen := map[string]bool{}
	for _, g := range got {
		seen[string(g.Body)] = true
		if !want[g.Header.Get("webhook-id")] {
			t.Fatalf("forwarded event %s, which the allow-list filters", g.Header.Get("webhook-id"))
		}
	}
	for _, b := range forwarded {
		if !seen[b] {
			t.Fatalf("%s was not forwarded", b)
		}
	}
	if n := len(env.deliveries(src.ID)); n != len(forwarded) {
		t.Fatalf("%d deliveries, want %d", n, len(forwarded))
	}
}

// The same provider delivery sent many times at once is still recorded
// once: every answer names the one event, and one forward goes out.
func TestSourceConcurrentResendsRecordedOnce(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	rc := newReceiver(t, nil)
	src := env.create(map[string]any{"name": "Shopify", "provider": "shopify", "secret": "shpss_concurrent_0123456789", "forward_url": rc.URL})
	shopify := srcE2EProviders[4]
	h, body := shopify.signed(t, *src.Secret, "b1f6a0c2-concurrent", time.Now())
	const n = 12
	ids := make(chan string, n)
	errs := make(chan string, n)
	httpc := checkedHTTP(t)
	for range n {
		go func() {
			req, _ := http.NewRequest(http.MethodPost, src.ReceiveURL, bytes.NewReader(body))
			req.Header = h.Clone()
			resp, err := httpc.Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			defer resp.Body.Close()
			var a struct {
				ID string `json:"id"`
			}
			if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&a) != nil {
				errs <- fmt.Sprintf("status %d", resp.StatusCode)
				return
			}
			ids <- a.ID
		}()
	}
	seen := map[string]int{}
	for range n {
		select {
		case id := <-ids:
			seen[id]++
		case e := <-errs:
			t.Fatalf("a concurrent resend failed: %s", e)
		}
	}
	if len(seen) != 1 {
		t.Fatalf("%d concurrent sends of one delivery answered %d different ids: %v", n, len(seen), seen)
	}
	if evs := env.events(src.ID); len(evs) != 1 {
		t.Fatalf("%d events stored, want 1", len(evs))
	}
	rc.waitFor(t, 1, srcE2EWait)
	srcE2EQuietFor(t, srcE2EQuiet, "forwards of concurrent resends", func() int { return len(rc.Received()) })
	if got := len(rc.Received()); got != 1 {
		t.Fatalf("forwarded %d times, want once", got)
	}
}

// A source's tolerance_seconds is its replay window.
func TestSourceTolerance(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	slack := srcE2EProviders[5]
	const secret = "slack-signing-secret-tolerance"
	src := env.create(map[string]any{"name": "Slack", "provider": "slack", "secret": secret, "tolerance_seconds": 60})
	send := func(pid string, age time.Duration) *srcE2EResp {
		h, body := slack.signed(t, secret, pid, time.Now().Add(-age))
		return srcE2EReceive(t, src.ReceiveURL, h, body)
	}
	srcE2EWantError(t, send("Ev1", 3*time.Minute), http.StatusUnauthorized, "UNAUTHORIZED") // within the default 300 s, outside 60
	env.wantNothingStored(src.ID)
	srcE2EWantReceived(t, send("Ev2", 20*time.Second))

	env.patch(src.ID, map[string]any{"tolerance_seconds": 600})
	srcE2EWantReceived(t, send("Ev3", 8*time.Minute))
	srcE2EWantError(t, send("Ev4", 12*time.Minute), http.StatusUnauthorized, "UNAUTHORIZED")
	if n := len(env.events(src.ID)); n != 2 {
		t.Fatalf("%d events, want 2", n)
	}
}

// Credentials, cookies and hop-by-hop headers of the sender are neither
// kept nor forwarded; the provider's own headers are.
func TestSourceDropsHopAndCredentialHeaders(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	rc := newReceiver(t, nil)
	src := env.create(map[string]any{"name": "GitHub", "provider": "github", "forward_url": rc.URL})
	gh := srcE2EProviders[2]
	h, body := gh.signed(t, *src.Secret, "d-drop", time.Now())
	h.Set("Cookie", "session=secret-cookie")
	h.Set("X-Forwarded-For", "203.0.113.9")
	h.Set("Proxy-Authorization", "Basic c2VjcmV0")
	id := srcE2EWantReceived(t, srcE2EReceive(t, src.ReceiveURL, h, body))
	fwd := rc.waitFor(t, 1, srcE2EWait)[0]
	ev := env.events(src.ID)[0]
	for _, k := range []string{"Cookie", "X-Forwarded-For", "Proxy-Authorization"} {
		if v := fwd.Header.Get(k); v != "" {
			t.Fatalf("forward carries %s: %q", k, v)
		}
		if v, ok := srcE2EHeaderOf(ev.Headers, k); ok {
			t.Fatalf("stored event keeps %s: %q", k, v)
		}
	}
	for _, k := range []string{"X-GitHub-Event", "X-GitHub-Delivery", "X-Hub-Signature-256", "User-Agent"} {
		if fwd.Header.Get(k) != h.Get(k) {
			t.Fatalf("forward's %s = %q, want %q", k, fwd.Header.Get(k), h.Get(k))
		}
	}
	srcE2EHookdSigned(t, fwd, id, env.defaultSecret)
}

// A provider delivery id is recorded once per source: two sources that
// get the same id each keep their event.
func TestSourceProviderIDIsPerSource(t *testing.T) {
	t.Parallel()
	env := srcE2ESetup(t, "")
	gh := srcE2EProviders[2]
	a := env.create(map[string]any{"name": "Repo A", "provider": "github"})
	b := env.create(map[string]any{"name": "Repo B", "provider": "github"})
	ha, body := gh.signed(t, *a.Secret, "72d3162e-same-delivery", time.Now())
	hb, _ := gh.signed(t, *b.Secret, "72d3162e-same-delivery", time.Now())
	idA := srcE2EWantReceived(t, srcE2EReceive(t, a.ReceiveURL, ha, body))
	idB := srcE2EWantReceived(t, srcE2EReceive(t, b.ReceiveURL, hb, body))
	if idA == idB {
		t.Fatalf("two sources share the event %s", idA)
	}
	for _, src := range []*srcE2ESource{a, b} {
		if n := len(env.events(src.ID)); n != 1 {
			t.Fatalf("%s has %d events, want 1", src.Name, n)
		}
	}
}
