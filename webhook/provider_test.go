package webhook_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/webhook"
)

// Requests exactly as the providers' documentation shows them.
func TestProviderPublishedExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    webhook.Options
		secret  string
		body    string
		headers []webhook.Header
		now     time.Time
	}{
		{
			// docs.github.com, "Validating webhook deliveries": testing the
			// webhook payload validation.
			name: "github", opts: webhook.Options{Scheme: webhook.GitHub},
			secret: "It's a Secret to Everybody", body: "Hello, World!",
			headers: []webhook.Header{
				{"X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"},
			},
			now: time.Now(),
		},
		{
			// api.slack.com, "Verifying requests from Slack".
			name: "slack", opts: webhook.Options{Scheme: webhook.Slack},
			secret: "8f742231b10e8888abcd99yyyzzz85a5",
			body:   "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
			headers: []webhook.Header{
				{"X-Slack-Signature", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"},
				{"X-Slack-Request-Timestamp", "1531420618"},
			},
			now: time.Unix(1531420618, 0),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := tt.opts
			opts.Now = fixedNow(tt.now)
			if err := webhook.Verify(opts, []string{tt.secret}, toHTTP(tt.headers), []byte(tt.body)); err != nil {
				t.Fatalf("Verify of the published example: %v", err)
			}
			// With the secret as the second, older one too.
			if err := webhook.Verify(opts, []string{"newer", tt.secret}, toHTTP(tt.headers), []byte(tt.body)); err != nil {
				t.Fatalf("Verify with two secrets: %v", err)
			}
			hs, err := webhook.Sign(tt.opts, []string{tt.secret}, "", tt.now, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(hs, tt.headers) {
				t.Fatalf("Sign =\n%q\nwant\n%q", hs, tt.headers)
			}
			if err := webhook.Verify(opts, []string{tt.secret}, toHTTP(tt.headers), []byte(tt.body+" ")); !errors.Is(err, webhook.ErrInvalidSignature) {
				t.Fatalf("Verify of the example with a changed body = %v, want ErrInvalidSignature", err)
			}
		})
	}
}

// Each provider's headers, computed by hand from its documented algorithm
// and built into a request by hand: Verify accepts them, and Sign, given
// two secrets and a header prefix, makes the same from the newest secret
// under the provider's own header names.
func TestProviderSignMatchesDocumentedAlgorithm(t *testing.T) {
	t.Parallel()
	const (
		newS = "lin_wh_5f2a9c1e7b3d4a6f8e0c2b4d6f8a0c2e"
		oldS = "shpss_0123456789abcdef0123456789abcdef"
	)
	ts := "1614265330"
	b := string(body)
	tests := []struct {
		scheme webhook.Scheme
		want   []webhook.Header
	}{
		{webhook.GitHub, []webhook.Header{{"X-Hub-Signature-256", "sha256=" + hexSig(newS, b)}}},
		{webhook.Linear, []webhook.Header{{"Linear-Signature", hexSig(newS, b)}}},
		{webhook.Shopify, []webhook.Header{{"X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(hmacSHA256([]byte(newS), b))}}},
		{webhook.Slack, []webhook.Header{
			{"X-Slack-Signature", "v0=" + hexSig(newS, "v0:"+ts+":"+b)},
			{"X-Slack-Request-Timestamp", ts},
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.scheme), func(t *testing.T) {
			t.Parallel()
			opts := webhook.Options{Scheme: tt.scheme, Now: fixedNow(t0)}
			// Canonical and lowercase header names, as a server or a hand-built map has them.
			lower := http.Header{}
			for _, x := range tt.want {
				lower[strings.ToLower(x.Name)] = []string{x.Value}
			}
			for _, h := range []http.Header{toHTTP(tt.want), lower} {
				for _, secrets := range [][]string{{newS}, {newS, oldS}, {oldS, newS}} {
					if err := webhook.Verify(opts, secrets, h, body); err != nil {
						t.Errorf("Verify(%q) of the hand-made headers %v: %v", secrets, h, err)
					}
				}
				if err := webhook.Verify(opts, []string{oldS}, h, body); !errors.Is(err, webhook.ErrInvalidSignature) {
					t.Errorf("Verify with another secret = %v, want ErrInvalidSignature", err)
				}
			}
			for _, prefix := range []string{"", "X-Alloy", "not a header name:"} {
				opts := webhook.Options{Scheme: tt.scheme, HeaderPrefix: prefix, Now: fixedNow(t0)}
				hs, err := webhook.Sign(opts, []string{newS, oldS}, "msg_1", t0, body)
				if err != nil {
					t.Fatalf("Sign with prefix %q: %v", prefix, err)
				}
				if !slices.Equal(hs, tt.want) {
					t.Fatalf("Sign with prefix %q =\n%q\nwant\n%q", prefix, hs, tt.want)
				}
				if err := webhook.Verify(opts, []string{newS}, toHTTP(tt.want), body); err != nil {
					t.Errorf("Verify with prefix %q: %v", prefix, err)
				}
			}
		})
	}
}

// Linear puts the send time in the body as webhookTimestamp, in Unix
// milliseconds; a signed body that carries one is held to the tolerance.
func TestLinearWebhookTimestamp(t *testing.T) {
	t.Parallel()
	const secret = "lin_wh_5f2a9c1e7b3d4a6f8e0c2b4d6f8a0c2e"
	now := time.UnixMilli(1676056940508)
	ms := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).UnixMilli(), 10) }
	linearBody := func(ts string) string {
		return `{"action":"create","type":"Issue","data":{"id":"2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9","title":"Test"},"url":"https://linear.app/issue/LIN-1778","createdAt":"2023-02-10T19:22:20.508Z","webhookTimestamp":` + ts + `}`
	}
	tests := []struct {
		name string
		body string
		tol  time.Duration
		sig  string // the secret that signs; secret unless set
		want error
	}{
		{name: "fresh", body: linearBody(ms(0))},
		{name: "a second old", body: linearBody(ms(-time.Second))},
		{name: "at the default tolerance", body: linearBody(ms(-webhook.DefaultTolerance))},
		{name: "just past the default tolerance", body: linearBody(ms(-webhook.DefaultTolerance - time.Millisecond)), want: webhook.ErrTimestampOutOfTolerance},
		{name: "from the future", body: linearBody(ms(webhook.DefaultTolerance + time.Millisecond)), want: webhook.ErrTimestampOutOfTolerance},
		{name: "a minute, as Linear suggests", body: linearBody(ms(-time.Minute)), tol: time.Minute},
		{name: "past a minute", body: linearBody(ms(-time.Minute - time.Millisecond)), tol: time.Minute, want: webhook.ErrTimestampOutOfTolerance},
		{name: "a minute ahead", body: linearBody(ms(time.Minute + time.Millisecond)), tol: time.Minute, want: webhook.ErrTimestampOutOfTolerance},
		{name: "check off", body: linearBody("1"), tol: -1},
		{name: "seconds, not milliseconds", body: linearBody(strconv.FormatInt(now.Unix(), 10)), want: webhook.ErrTimestampOutOfTolerance},
		{name: "a day old", body: linearBody(ms(-24 * time.Hour)), want: webhook.ErrTimestampOutOfTolerance},
		{name: "stale and badly signed", body: linearBody(ms(-24 * time.Hour)), sig: "other", want: webhook.ErrInvalidSignature},
		{name: "absent", body: `{"action":"create","type":"Issue","data":{}}`},
		{name: "null", body: linearBody("null")},
		{name: "not JSON", body: `webhookTimestamp=1`},
		{name: "only nested", body: `{"data":{"webhookTimestamp":1}}`},
		{name: "other case", body: `{"WebhookTimestamp":1}`},
		{name: "last duplicate wins", body: `{"webhookTimestamp":1,"webhookTimestamp":` + ms(0) + `}`},
		{name: "last duplicate stale", body: `{"webhookTimestamp":` + ms(0) + `,"webhookTimestamp":1}`, want: webhook.ErrTimestampOutOfTolerance},
		{name: "string", body: linearBody(`"` + ms(0) + `"`), want: webhook.ErrInvalidSignature},
		{name: "fraction", body: linearBody(ms(0) + ".5"), want: webhook.ErrInvalidSignature},
		{name: "exponent", body: linearBody("1.676056940508e12"), want: webhook.ErrInvalidSignature},
		{name: "negative", body: linearBody("-" + ms(0)), want: webhook.ErrInvalidSignature},
		{name: "huge", body: linearBody("99999999999999999999999"), want: webhook.ErrInvalidSignature},
		{name: "object", body: linearBody(`{}`), want: webhook.ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			signer := secret
			if tt.sig != "" {
				signer = tt.sig
			}
			h := http.Header{}
			h.Set("Linear-Signature", hexSig(signer, tt.body))
			opts := webhook.Options{Scheme: webhook.Linear, Tolerance: tt.tol, Now: fixedNow(now)}
			err := webhook.Verify(opts, []string{secret}, h, []byte(tt.body))
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// The stripe scheme under its default header, read as Stripe's libraries
// read it: any v1 entry may match, other schemes are ignored, and t is
// held to the tolerance.
func TestStripeSignatureHeader(t *testing.T) {
	t.Parallel()
	const secret, other = "whsec_test_secret", "whsec_other"
	now := t0
	at := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	v1 := func(secret, ts string) string { return "v1=" + hexSig(secret, ts+"."+string(body)) }
	ts := at(0)
	tests := []struct {
		name    string
		header  string
		secrets []string
		want    error
	}{
		{name: "one v1", header: "t=" + ts + "," + v1(secret, ts)},
		{name: "v0 first", header: "t=" + ts + ",v0=" + hexSig(secret, ts+"."+string(body)) + "," + v1(secret, ts)},
		{name: "second v1 matches", header: "t=" + ts + "," + v1(other, ts) + "," + v1(secret, ts)},
		{name: "t last", header: v1(secret, ts) + ",t=" + ts},
		{name: "unknown entries", header: "t=" + ts + ",v1=zz,scheme=x," + v1(secret, ts)},
		{name: "receiver with two secrets", header: "t=" + ts + "," + v1(secret, ts), secrets: []string{other, secret}},
		{name: "only v0", header: "t=" + ts + ",v0=" + hexSig(secret, ts+"."+string(body)), want: webhook.ErrInvalidSignature},
		{name: "no v1 matches", header: "t=" + ts + "," + v1(other, ts) + ",v1=00", want: webhook.ErrInvalidSignature},
		{name: "v1 for another t", header: "t=" + ts + "," + v1(secret, at(-1)), want: webhook.ErrInvalidSignature},
		{name: "stale", header: "t=" + at(-5*time.Minute-time.Second) + "," + v1(secret, at(-5*time.Minute-time.Second)), want: webhook.ErrTimestampOutOfTolerance},
		{name: "future", header: "t=" + at(5*time.Minute+time.Second) + "," + v1(secret, at(5*time.Minute+time.Second)), want: webhook.ErrTimestampOutOfTolerance},
		{name: "no t", header: v1(secret, ts), want: webhook.ErrInvalidSignature},
		{name: "no equals", header: "t=" + ts + "," + v1(secret, ts) + ",junk", want: webhook.ErrInvalidSignature},
		{name: "empty", header: "", want: webhook.ErrMissingHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			h.Set("Stripe-Signature", tt.header)
			secrets := tt.secrets
			if secrets == nil {
				secrets = []string{secret}
			}
			err := webhook.Verify(webhook.Options{Scheme: webhook.Stripe, Now: fixedNow(now)}, secrets, h, body)
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Verify(%q) = %v, want %v", tt.header, err, tt.want)
			}
		})
	}
}
