package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/webhook"
)

// hmacSHA256 is the documented primitive, computed here without the package.
func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func hexSig(secret, msg string) string { return hex.EncodeToString(hmacSHA256([]byte(secret), msg)) }

func b64Sig(secret, msg string) string {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(hmacSHA256(key, msg))
}

// toHTTP puts headers into an http.Header the way a server would see them.
func toHTTP(hs []webhook.Header) http.Header {
	h := http.Header{}
	for _, x := range hs {
		h.Add(x.Name, x.Value)
	}
	return h
}

func fixedNow(t time.Time) func() time.Time { return func() time.Time { return t } }

const (
	secret1 = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secret2 = "whsec_Xa9kQ2mR7v0bN4pL6sD8fG1hJ3wY5z+/"
)

var (
	t0   = time.Unix(1614265330, 0)
	body = []byte(`{"test": 2432232314}`)
)

// The published Standard Webhooks test vector.
func TestStandardWebhooksVector(t *testing.T) {
	t.Parallel()
	const want = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	hs, err := webhook.Sign(webhook.Options{Scheme: webhook.Standard}, []string{secret1}, "msg_p5jXN8AQM9LWM0D4loKWxJek", t0, body)
	if err != nil {
		t.Fatal(err)
	}
	wantHs := []webhook.Header{
		{"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
		{"webhook-timestamp", "1614265330"},
		{"webhook-signature", want},
	}
	if !slices.Equal(hs, wantHs) {
		t.Fatalf("Sign = %q, want %q", hs, wantHs)
	}
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", want)
	if err := webhook.Verify(webhook.Options{Scheme: webhook.Standard, Now: fixedNow(t0)}, []string{secret1}, h, body); err != nil {
		t.Fatalf("Verify of the published vector: %v", err)
	}
}

// Each scheme's headers, computed by hand from the documented algorithm.
func TestSignMatchesDocumentedAlgorithm(t *testing.T) {
	t.Parallel()
	const id = "msg_2mKoYbWIx3bZVTWJFsLiFQc5k9d"
	ts := "1614265330"
	b := string(body)
	tests := []struct {
		name    string
		opts    webhook.Options
		secrets []string
		want    []webhook.Header
	}{
		{
			name: "standard", opts: webhook.Options{Scheme: webhook.Standard},
			secrets: []string{secret1},
			want: []webhook.Header{
				{"webhook-id", id}, {"webhook-timestamp", ts},
				{"webhook-signature", "v1," + b64Sig(secret1, id+"."+ts+"."+b)},
			},
		},
		{
			name: "standard prefix and rotation", opts: webhook.Options{Scheme: webhook.Standard, HeaderPrefix: "svix"},
			secrets: []string{secret2, secret1},
			want: []webhook.Header{
				{"svix-id", id}, {"svix-timestamp", ts},
				{"svix-signature", "v1," + b64Sig(secret2, id+"."+ts+"."+b) + " v1," + b64Sig(secret1, id+"."+ts+"."+b)},
			},
		},
		{
			name: "stripe (Alakazam)", opts: webhook.Options{Scheme: webhook.Stripe, HeaderPrefix: "Alakazam"},
			secrets: []string{secret1},
			want: []webhook.Header{
				{"Alakazam-Signature", "t=" + ts + ",v1=" + hexSig(secret1, ts+"."+b)},
			},
		},
		{
			name: "stripe rotation", opts: webhook.Options{Scheme: webhook.Stripe, HeaderPrefix: "Alakazam"},
			secrets: []string{secret2, secret1},
			want: []webhook.Header{
				{"Alakazam-Signature", "t=" + ts + ",v1=" + hexSig(secret2, ts+"."+b) + ",v1=" + hexSig(secret1, ts+"."+b)},
			},
		},
		{
			name: "stripe default prefix", opts: webhook.Options{Scheme: webhook.Stripe},
			secrets: []string{"sk"},
			want:    []webhook.Header{{"Stripe-Signature", "t=" + ts + ",v1=" + hexSig("sk", ts+"."+b)}},
		},
		{
			name: "hmac-hex (Alloy)", opts: webhook.Options{Scheme: webhook.HMACHex, HeaderPrefix: "X-Alloy"},
			secrets: []string{"5d41402abc4b2a76b9719d911017c592", "old"},
			want:    []webhook.Header{{"X-Alloy-Signature", hexSig("5d41402abc4b2a76b9719d911017c592", b)}},
		},
		{
			name: "timestamped-hex (WePlaytestGames)", opts: webhook.Options{Scheme: webhook.TimestampedHex, HeaderPrefix: "X-WPG"},
			secrets: []string{secret1, "old"},
			want: []webhook.Header{
				{"X-WPG-Signature", hexSig(secret1, ts+"."+b)},
				{"X-WPG-Timestamp", ts},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hs, err := webhook.Sign(tt.opts, tt.secrets, id, t0, body)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(hs, tt.want) {
				t.Fatalf("Sign =\n%q\nwant\n%q", hs, tt.want)
			}
			opts := tt.opts
			opts.Now = fixedNow(t0)
			for _, s := range tt.secrets[:1] {
				if err := webhook.Verify(opts, []string{s}, toHTTP(hs), body); err != nil {
					t.Errorf("Verify with %q: %v", s, err)
				}
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	const id = "msg_1"
	now := t0
	type scheme struct {
		opts    webhook.Options
		sigName string // the header carrying the signature
		tsName  string // the header carrying the timestamp, if separate
	}
	schemes := []scheme{
		{webhook.Options{Scheme: webhook.Standard}, "webhook-signature", "webhook-timestamp"},
		{webhook.Options{Scheme: webhook.Stripe, HeaderPrefix: "Alakazam"}, "Alakazam-Signature", ""},
		{webhook.Options{Scheme: webhook.HMACHex, HeaderPrefix: "X-Alloy"}, "X-Alloy-Signature", ""},
		{webhook.Options{Scheme: webhook.TimestampedHex, HeaderPrefix: "X-Wazza"}, "X-Wazza-Signature", "X-Wazza-Timestamp"},
		{webhook.Options{Scheme: webhook.Stripe}, "Stripe-Signature", ""},
		{webhook.Options{Scheme: webhook.GitHub}, "X-Hub-Signature-256", ""},
		{webhook.Options{Scheme: webhook.Linear}, "Linear-Signature", ""},
		{webhook.Options{Scheme: webhook.Shopify}, "X-Shopify-Hmac-Sha256", ""},
		{webhook.Options{Scheme: webhook.Slack}, "X-Slack-Signature", "X-Slack-Request-Timestamp"},
	}
	// Linear's timestamp is in the body, which Sign leaves alone; see
	// TestLinearWebhookTimestamp.
	timestamped := func(s scheme) bool {
		switch s.opts.Scheme {
		case webhook.HMACHex, webhook.GitHub, webhook.Linear, webhook.Shopify:
			return false
		}
		return true
	}

	type tc struct {
		name   string
		signAt time.Time
		mutate func(h http.Header)
		body   []byte
		verify []string
		want   error
	}
	for _, s := range schemes {
		cases := []tc{
			{name: "valid", want: nil},
			{name: "tampered body", body: []byte(`{"test": 2432232315}`), want: webhook.ErrInvalidSignature},
			{name: "empty body", body: []byte{}, want: webhook.ErrInvalidSignature},
			{name: "wrong secret", verify: []string{secret2}, want: webhook.ErrInvalidSignature},
			{name: "missing signature", mutate: func(h http.Header) { h.Del(s.sigName) }, want: webhook.ErrMissingHeader},
			{name: "empty signature", mutate: func(h http.Header) { h.Set(s.sigName, "") }, want: webhook.ErrMissingHeader},
			{name: "garbage signature", mutate: func(h http.Header) { h.Set(s.sigName, "not,a=signature") }, want: webhook.ErrInvalidSignature},
			{name: "truncated signature", mutate: func(h http.Header) {
				v := h.Get(s.sigName)
				h.Set(s.sigName, v[:len(v)-2])
			}, want: webhook.ErrInvalidSignature},
			{name: "no headers", mutate: func(h http.Header) { clear(h) }, want: webhook.ErrMissingHeader},
		}
		if timestamped(s) {
			cases = append(cases,
				tc{name: "stale", signAt: now.Add(-5*time.Minute - time.Second), want: webhook.ErrTimestampOutOfTolerance},
				tc{name: "future", signAt: now.Add(5*time.Minute + time.Second), want: webhook.ErrTimestampOutOfTolerance},
				tc{name: "at the tolerance", signAt: now.Add(-5 * time.Minute), want: nil},
				tc{name: "very old", signAt: time.Unix(1, 0), want: webhook.ErrTimestampOutOfTolerance},
			)
		} else {
			cases = append(cases, tc{name: "no timestamp to check", signAt: now.Add(-24 * time.Hour), want: nil})
		}
		switch s.opts.Scheme {
		case webhook.Standard:
			cases = append(cases,
				tc{name: "missing id", mutate: func(h http.Header) { h.Del("webhook-id") }, want: webhook.ErrMissingHeader},
				tc{name: "other id", mutate: func(h http.Header) { h.Set("webhook-id", "msg_2") }, want: webhook.ErrInvalidSignature},
				tc{name: "missing timestamp", mutate: func(h http.Header) { h.Del("webhook-timestamp") }, want: webhook.ErrMissingHeader},
				tc{name: "malformed timestamp", mutate: func(h http.Header) { h.Set("webhook-timestamp", "16142653x0") }, want: webhook.ErrInvalidSignature},
				tc{name: "signed timestamp changed", mutate: func(h http.Header) { h.Set("webhook-timestamp", "1614265331") }, want: webhook.ErrInvalidSignature},
				tc{name: "only other versions", mutate: func(h http.Header) { h.Set("webhook-signature", "v1a,abc v2,def") }, want: webhook.ErrInvalidSignature},
				tc{name: "other versions ignored", mutate: func(h http.Header) {
					h.Set("webhook-signature", "v1a,abc v1,!!! "+h.Get("webhook-signature")+" v2,xyz")
				}, want: nil},
				tc{name: "second header line", mutate: func(h http.Header) {
					v := h.Get("webhook-signature")
					h.Set("webhook-signature", "v1,AAAA")
					h.Add("webhook-signature", v)
				}, want: nil},
			)
		case webhook.Stripe:
			cases = append(cases,
				tc{name: "no t", mutate: func(h http.Header) {
					_, v, _ := strings.Cut(h.Get(s.sigName), ",")
					h.Set(s.sigName, v)
				}, want: webhook.ErrInvalidSignature},
				tc{name: "no v1", mutate: func(h http.Header) {
					v, _, _ := strings.Cut(h.Get(s.sigName), ",")
					h.Set(s.sigName, v+",v0=abc")
				}, want: webhook.ErrInvalidSignature},
				tc{name: "two t", mutate: func(h http.Header) { h.Set(s.sigName, "t=1,"+h.Get(s.sigName)) }, want: webhook.ErrInvalidSignature},
				tc{name: "t changed", mutate: func(h http.Header) {
					h.Set(s.sigName, strings.Replace(h.Get(s.sigName), "t=", "t=1", 1))
				}, want: webhook.ErrInvalidSignature},
				tc{name: "malformed t", mutate: func(h http.Header) {
					h.Set(s.sigName, strings.Replace(h.Get(s.sigName), "t=", "t=-", 1))
				}, want: webhook.ErrInvalidSignature},
				tc{name: "extra v1 and v0", mutate: func(h http.Header) {
					h.Set(s.sigName, h.Get(s.sigName)+",v1=00,v0=ff")
				}, want: nil},
				tc{name: "uppercase hex", mutate: func(h http.Header) {
					t, v1, _ := strings.Cut(h.Get(s.sigName), ",v1=")
					h.Set(s.sigName, t+", v1="+strings.ToUpper(v1))
				}, want: nil},
			)
		case webhook.GitHub:
			cases = append(cases,
				tc{name: "bare hex", mutate: func(h http.Header) {
					h.Set(s.sigName, strings.TrimPrefix(h.Get(s.sigName), "sha256="))
				}, want: webhook.ErrInvalidSignature},
				tc{name: "sha1 prefix", mutate: func(h http.Header) {
					h.Set(s.sigName, "sha1="+strings.TrimPrefix(h.Get(s.sigName), "sha256="))
				}, want: webhook.ErrInvalidSignature},
				tc{name: "prefix alone", mutate: func(h http.Header) { h.Set(s.sigName, "sha256=") }, want: webhook.ErrInvalidSignature},
				tc{name: "legacy sha1 header only", mutate: func(h http.Header) {
					h.Del(s.sigName)
					h.Set("X-Hub-Signature", "sha1=0000000000000000000000000000000000000000")
				}, want: webhook.ErrMissingHeader},
				tc{name: "second header line", mutate: func(h http.Header) {
					v := h.Get(s.sigName)
					h.Set(s.sigName, "sha256=00")
					h.Add(s.sigName, v)
				}, want: nil},
			)
		case webhook.Linear:
			cases = append(cases,
				tc{name: "github style prefix", mutate: func(h http.Header) { h.Set(s.sigName, "sha256="+h.Get(s.sigName)) }, want: webhook.ErrInvalidSignature},
				tc{name: "base64", mutate: func(h http.Header) {
					raw, _ := hex.DecodeString(h.Get(s.sigName))
					h.Set(s.sigName, base64.StdEncoding.EncodeToString(raw))
				}, want: webhook.ErrInvalidSignature},
			)
		case webhook.Shopify:
			cases = append(cases,
				tc{name: "hex", mutate: func(h http.Header) {
					raw, _ := base64.StdEncoding.DecodeString(h.Get(s.sigName))
					h.Set(s.sigName, hex.EncodeToString(raw))
				}, want: webhook.ErrInvalidSignature},
				tc{name: "unpadded", mutate: func(h http.Header) { h.Set(s.sigName, strings.TrimRight(h.Get(s.sigName), "=")) }, want: webhook.ErrInvalidSignature},
				tc{name: "long", mutate: func(h http.Header) { h.Set(s.sigName, strings.Repeat("A", 1<<16)) }, want: webhook.ErrInvalidSignature},
			)
		case webhook.Slack:
			cases = append(cases,
				tc{name: "missing timestamp", mutate: func(h http.Header) { h.Del(s.tsName) }, want: webhook.ErrMissingHeader},
				tc{name: "malformed timestamp", mutate: func(h http.Header) { h.Set(s.tsName, "1614265330.5") }, want: webhook.ErrInvalidSignature},
				tc{name: "overlong timestamp", mutate: func(h http.Header) { h.Set(s.tsName, strings.Repeat("9", 40)) }, want: webhook.ErrInvalidSignature},
				tc{name: "signed timestamp changed", mutate: func(h http.Header) { h.Set(s.tsName, "1614265331") }, want: webhook.ErrInvalidSignature},
				tc{name: "bare hex", mutate: func(h http.Header) {
					h.Set(s.sigName, strings.TrimPrefix(h.Get(s.sigName), "v0="))
				}, want: webhook.ErrInvalidSignature},
				tc{name: "other version", mutate: func(h http.Header) {
					h.Set(s.sigName, "v1="+strings.TrimPrefix(h.Get(s.sigName), "v0="))
				}, want: webhook.ErrInvalidSignature},
			)
		case webhook.TimestampedHex:
			cases = append(cases,
				tc{name: "missing timestamp", mutate: func(h http.Header) { h.Del(s.tsName) }, want: webhook.ErrMissingHeader},
				tc{name: "malformed timestamp", mutate: func(h http.Header) { h.Set(s.tsName, "+1614265330") }, want: webhook.ErrInvalidSignature},
				tc{name: "overlong timestamp", mutate: func(h http.Header) { h.Set(s.tsName, strings.Repeat("9", 40)) }, want: webhook.ErrInvalidSignature},
				tc{name: "signed timestamp changed", mutate: func(h http.Header) { h.Set(s.tsName, "1614265331") }, want: webhook.ErrInvalidSignature},
			)
		}
		for _, c := range cases {
			t.Run(string(s.opts.Scheme)+"("+s.sigName+")/"+c.name, func(t *testing.T) {
				t.Parallel()
				signAt := c.signAt
				if signAt.IsZero() {
					signAt = now
				}
				hs, err := webhook.Sign(s.opts, []string{secret1}, id, signAt, body)
				if err != nil {
					t.Fatal(err)
				}
				h := toHTTP(hs)
				if c.mutate != nil {
					c.mutate(h)
				}
				b := body
				if c.body != nil {
					b = c.body
				}
				secrets := []string{secret1}
				if c.verify != nil {
					secrets = c.verify
				}
				opts := s.opts
				opts.Now = fixedNow(now)
				err = webhook.Verify(opts, secrets, h, b)
				switch {
				case c.want == nil && err != nil:
					t.Fatalf("Verify = %v, want nil", err)
				case c.want != nil && !errors.Is(err, c.want):
					t.Fatalf("Verify = %v, want %v", err, c.want)
				}
			})
		}
	}
}

// During a rotation the sender signs with the new and the old secret; a
// receiver holding either one accepts, where the scheme carries both.
func TestRotation(t *testing.T) {
	t.Parallel()
	const oldS, newS = secret1, secret2
	tests := []struct {
		opts          webhook.Options
		oldStillWorks bool
	}{
		{webhook.Options{Scheme: webhook.Standard}, true},
		{webhook.Options{Scheme: webhook.Stripe, HeaderPrefix: "Alakazam"}, true},
		{webhook.Options{Scheme: webhook.HMACHex, HeaderPrefix: "X-Alloy"}, false},
		{webhook.Options{Scheme: webhook.TimestampedHex, HeaderPrefix: "X-WPG"}, false},
		{webhook.Options{Scheme: webhook.GitHub}, false},
		{webhook.Options{Scheme: webhook.Linear}, false},
		{webhook.Options{Scheme: webhook.Shopify}, false},
		{webhook.Options{Scheme: webhook.Slack}, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.opts.Scheme), func(t *testing.T) {
			t.Parallel()
			hs, err := webhook.Sign(tt.opts, []string{newS, oldS}, "msg_1", t0, body)
			if err != nil {
				t.Fatal(err)
			}
			opts := tt.opts
			opts.Now = fixedNow(t0)
			h := toHTTP(hs)
			if err := webhook.Verify(opts, []string{newS}, h, body); err != nil {
				t.Errorf("receiver with the new secret: %v", err)
			}
			if err := webhook.Verify(opts, []string{newS, oldS}, h, body); err != nil {
				t.Errorf("receiver with both secrets: %v", err)
			}
			err = webhook.Verify(opts, []string{oldS}, h, body)
			if tt.oldStillWorks && err != nil {
				t.Errorf("receiver with the old secret: %v", err)
			}
			if !tt.oldStillWorks && !errors.Is(err, webhook.ErrInvalidSignature) {
				t.Errorf("receiver with the old secret on a one-signature scheme = %v, want ErrInvalidSignature", err)
			}
			// A receiver that has both accepts a sender that still signs with the old one.
			hs, err = webhook.Sign(tt.opts, []string{oldS}, "msg_1", t0, body)
			if err != nil {
				t.Fatal(err)
			}
			if err := webhook.Verify(opts, []string{newS, oldS}, toHTTP(hs), body); err != nil {
				t.Errorf("old signature, receiver with both secrets: %v", err)
			}
		})
	}
}

// Headers built by hand, not in canonical form, are still found.
func TestVerifyNonCanonicalHeaderMap(t *testing.T) {
	t.Parallel()
	h := http.Header{
		"webhook-id":        {"msg_p5jXN8AQM9LWM0D4loKWxJek"},
		"webhook-timestamp": {"1614265330"},
		"webhook-signature": {"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
	}
	if err := webhook.Verify(webhook.Options{Scheme: webhook.Standard, Now: fixedNow(t0)}, []string{secret1}, h, body); err != nil {
		t.Fatal(err)
	}
}

// VerifyMessage answers the id the signature covers, even where an empty
// id header comes first (which http.Header.Get would return), and refuses
// a message that carries two ids.
func TestVerifyMessageID(t *testing.T) {
	t.Parallel()
	const id, sig = "msg_p5jXN8AQM9LWM0D4loKWxJek", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	opts := webhook.Options{Scheme: webhook.Standard, Now: fixedNow(t0)}
	tests := []struct {
		name   string
		h      http.Header
		wantID string
		want   error
	}{
		{name: "one id", h: http.Header{"Webhook-Id": {id}}, wantID: id},
		{name: "empty id first", h: http.Header{"Webhook-Id": {"", id}}, wantID: id},
		{name: "two ids", h: http.Header{"Webhook-Id": {id, "msg_other"}}, want: webhook.ErrInvalidSignature},
		{name: "same id twice", h: http.Header{"Webhook-Id": {id, id}}, want: webhook.ErrInvalidSignature},
		{name: "two spellings", h: http.Header{"Webhook-Id": {id}, "webhook-id": {"msg_other"}}, want: webhook.ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.h.Set("webhook-timestamp", "1614265330")
			tt.h.Set("webhook-signature", sig)
			got, err := webhook.VerifyMessage(opts, []string{secret1}, tt.h, body)
			if tt.want != nil {
				if !errors.Is(err, tt.want) || got.ID != "" {
					t.Fatalf("VerifyMessage = %+v, %v, want %v", got, err, tt.want)
				}
				return
			}
			if err != nil || got.ID != tt.wantID {
				t.Fatalf("VerifyMessage = %+v, %v, want id %q", got, err, tt.wantID)
			}
		})
	}
	for _, scheme := range []webhook.Scheme{webhook.Stripe, webhook.GitHub} {
		hs, err := webhook.Sign(webhook.Options{Scheme: scheme}, []string{secret1}, "", t0, body)
		if err != nil {
			t.Fatal(err)
		}
		got, err := webhook.VerifyMessage(webhook.Options{Scheme: scheme, Now: fixedNow(t0)}, []string{secret1}, toHTTP(hs), body)
		if err != nil || got.ID != "" {
			t.Fatalf("%s: VerifyMessage = %+v, %v, want no id (the signature covers none)", scheme, got, err)
		}
	}
}

func TestTolerance(t *testing.T) {
	t.Parallel()
	opts := webhook.Options{Scheme: webhook.TimestampedHex, HeaderPrefix: "X-WPG"}
	hs, err := webhook.Sign(opts, []string{"s"}, "", t0, body)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		tol  time.Duration
		now  time.Time
		want error
	}{
		{0, t0.Add(5 * time.Minute), nil},
		{0, t0.Add(5*time.Minute + time.Second), webhook.ErrTimestampOutOfTolerance},
		{time.Minute, t0.Add(-time.Minute), nil},
		{time.Minute, t0.Add(-61 * time.Second), webhook.ErrTimestampOutOfTolerance},
		{-1, t0.Add(1000 * time.Hour), nil},
	}
	for _, tt := range tests {
		t.Run(tt.tol.String()+"@"+strconv.FormatInt(tt.now.Unix()-t0.Unix(), 10), func(t *testing.T) {
			t.Parallel()
			o := opts
			o.Tolerance, o.Now = tt.tol, fixedNow(tt.now)
			err := webhook.Verify(o, []string{"s"}, toHTTP(hs), body)
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestConfigurationErrors(t *testing.T) {
	t.Parallel()
	h := toHTTP([]webhook.Header{{"webhook-id", "a"}, {"webhook-timestamp", "1"}, {"webhook-signature", "v1,AAAA"}})
	tests := []struct {
		name    string
		opts    webhook.Options
		secrets []string
		want    error
	}{
		{"no secrets", webhook.Options{Scheme: webhook.Standard}, nil, webhook.ErrInvalidSecret},
		{"empty secret", webhook.Options{Scheme: webhook.HMACHex, HeaderPrefix: "X"}, []string{""}, webhook.ErrInvalidSecret},
		{"empty whsec secret", webhook.Options{Scheme: webhook.Standard}, []string{"whsec_"}, webhook.ErrInvalidSecret},
		{"undecodable standard secret", webhook.Options{Scheme: webhook.Standard}, []string{"whsec_not base64!"}, webhook.ErrInvalidSecret},
		{"unknown scheme", webhook.Options{Scheme: "gitlab"}, []string{"s"}, webhook.ErrUnknownScheme},
		{"case matters in scheme names", webhook.Options{Scheme: "GitHub"}, []string{"s"}, webhook.ErrUnknownScheme},
		{"empty github secret", webhook.Options{Scheme: webhook.GitHub}, []string{""}, webhook.ErrInvalidSecret},
		{"empty linear secret", webhook.Options{Scheme: webhook.Linear}, []string{""}, webhook.ErrInvalidSecret},
		{"empty shopify secret", webhook.Options{Scheme: webhook.Shopify}, []string{""}, webhook.ErrInvalidSecret},
		{"empty slack secret", webhook.Options{Scheme: webhook.Slack}, []string{""}, webhook.ErrInvalidSecret},
		{"empty scheme", webhook.Options{}, []string{"s"}, webhook.ErrUnknownScheme},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := webhook.Sign(tt.opts, tt.secrets, "msg", t0, body); !errors.Is(err, tt.want) {
				t.Errorf("Sign = %v, want %v", err, tt.want)
			}
			if err := webhook.Verify(tt.opts, tt.secrets, h, body); !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	bad := []webhook.Options{
		{Scheme: webhook.HMACHex},
		{Scheme: webhook.TimestampedHex},
		{Scheme: webhook.Stripe, HeaderPrefix: "X Y"},
		{Scheme: webhook.Standard, HeaderPrefix: "a:b"},
	}
	for _, o := range bad {
		if _, err := webhook.Sign(o, []string{"whsec_AAAA"}, "msg", t0, body); err == nil {
			t.Errorf("Sign(%+v) = nil error, want one about the header prefix", o)
		}
	}
	if _, err := webhook.Sign(webhook.Options{Scheme: webhook.Standard}, []string{secret1}, "", t0, body); err == nil {
		t.Error("Sign of a standard message without id = nil error")
	}
}

// A secret without the whsec_ prefix is decoded whole; unpadded base64 is accepted.
func TestStandardSecretForms(t *testing.T) {
	t.Parallel()
	raw := "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	for _, s := range []string{raw, "whsec_" + raw, "whsec_QUJD", "whsec_QUI"} {
		hs, err := webhook.Sign(webhook.Options{Scheme: webhook.Standard}, []string{s}, "msg_p5jXN8AQM9LWM0D4loKWxJek", t0, body)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		key, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(strings.TrimPrefix(s, "whsec_"), "="))
		if err != nil {
			t.Fatal(err)
		}
		want := "v1," + base64.StdEncoding.EncodeToString(hmacSHA256(key, "msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330."+string(body)))
		if hs[2].Value != want {
			t.Errorf("%s: signature %s, want %s", s, hs[2].Value, want)
		}
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	a, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two secrets are equal")
	}
	if !strings.HasPrefix(a, "whsec_") {
		t.Fatalf("%q lacks whsec_", a)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if err != nil || len(key) != 24 {
		t.Fatalf("%q: %d bytes, %v; want 24 bytes of standard base64", a, len(key), err)
	}
	// It works as a key for every scheme.
	for _, s := range []webhook.Scheme{
		webhook.Standard, webhook.Stripe, webhook.HMACHex, webhook.TimestampedHex,
		webhook.GitHub, webhook.Linear, webhook.Shopify, webhook.Slack,
	} {
		o := webhook.Options{Scheme: s, HeaderPrefix: "X-Test", Now: fixedNow(t0)}
		hs, err := webhook.Sign(o, []string{a}, "msg", t0, body)
		if err != nil {
			t.Fatal(err)
		}
		if err := webhook.Verify(o, []string{a}, toHTTP(hs), body); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}
