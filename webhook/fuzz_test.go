package webhook_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/webhook"
)

// FuzzVerify feeds arbitrary header values to every scheme: Verify must
// return an error that wraps one of the documented sentinels, never panic,
// and never accept a signature it did not compute.
func FuzzVerify(f *testing.F) {
	f.Add("msg_1", "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte(`{"test": 2432232314}`))
	f.Add("", "", "", []byte{})
	f.Add("x", "99999999999999999999999", "t=1,v1=zz,v1", []byte("{}"))
	f.Add("x", "-1", "t=,v1=,=,,", []byte("{}"))
	f.Add("x", "1614265330", "v1, v1,==== v1,"+string(make([]byte, 300)), []byte("{}"))
	f.Add("x", "1614265330", "t=1614265330,t=1614265330,v1=0000000000000000000000000000000000000000000000000000000000000000", []byte("{}"))
	f.Add("x", "1614265330", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", []byte("Hello, World!"))
	f.Add("x", "1614265330", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503", []byte("{}"))
	f.Add("x", "1614265330", "sha256= v0= v0=zz", []byte("{}"))
	f.Add("x", "1614265330", "AAAA====", []byte("{}"))
	// Correctly signed Linear bodies, so that the webhookTimestamp parser
	// is reached: fresh, stale, malformed.
	for _, b := range []string{
		`{"webhookTimestamp":1614265330000}`,
		`{"webhookTimestamp":1}`,
		`{"webhookTimestamp":-1.5e3,"webhookTimestamp":"x"}`,
		`{"webhookTimestamp":`,
	} {
		m := hmac.New(sha256.New, []byte(fuzzSecret))
		m.Write([]byte(b))
		f.Add("x", "1614265330", hex.EncodeToString(m.Sum(nil)), []byte(b))
	}
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		now := func() time.Time { return time.Unix(1614265330, 0) }
		for _, o := range []webhook.Options{
			{Scheme: webhook.Standard},
			{Scheme: webhook.Stripe, HeaderPrefix: "Alakazam"},
			{Scheme: webhook.HMACHex, HeaderPrefix: "X-Alloy"},
			{Scheme: webhook.TimestampedHex, HeaderPrefix: "X-WPG"},
			{Scheme: webhook.Stripe},
			{Scheme: webhook.GitHub},
			{Scheme: webhook.Linear, Tolerance: time.Minute},
			{Scheme: webhook.Shopify},
			{Scheme: webhook.Slack},
		} {
			o.Now = now
			h := http.Header{}
			h["webhook-id"] = []string{id}
			h["Webhook-Timestamp"] = []string{ts}
			h["X-Wpg-Timestamp"] = []string{ts}
			h["x-slack-request-timestamp"] = []string{ts}
			for _, n := range []string{
				"webhook-signature", "Alakazam-Signature", "x-alloy-signature", "X-WPG-Signature",
				"Stripe-Signature", "X-Hub-Signature-256", "linear-signature", "X-Shopify-Hmac-Sha256", "X-Slack-Signature",
			} {
				h[n] = []string{sig}
			}
			err := webhook.Verify(o, []string{fuzzSecret}, h, body)
			if err == nil {
				// Only the real signature of these bytes may pass; recompute
				// it, at the signed time where a header carries one.
				signAt := now()
				if n, perr := strconv.ParseInt(ts, 10, 64); perr == nil && n >= 0 {
					signAt = time.Unix(n, 0)
				}
				hs, serr := webhook.Sign(o, []string{fuzzSecret}, id, signAt, body)
				if serr != nil || !containsSig(hs, sig) {
					t.Fatalf("%s: accepted id=%q ts=%q sig=%q", o.Scheme, id, ts, sig)
				}
				continue
			}
			if !errors.Is(err, webhook.ErrMissingHeader) && !errors.Is(err, webhook.ErrInvalidSignature) &&
				!errors.Is(err, webhook.ErrTimestampOutOfTolerance) {
				t.Fatalf("%s: error %v wraps no sentinel", o.Scheme, err)
			}
		}
	})
}

const fuzzSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// containsSig reports whether the received signature value sig carries one
// of the signatures in hs: the whole value, or for Standard and Stripe the
// last signature in it. A loose check: the fuzz target only needs to rule
// out accepting something that was never signed.
func containsSig(hs []webhook.Header, sig string) bool {
	for _, h := range hs {
		v := h.Value
		if v == "" {
			continue
		}
		if strings.Contains(sig, v) ||
			len(v) > 64 && strings.Contains(sig, v[len(v)-64:]) ||
			len(v) > 44 && strings.Contains(sig, v[len(v)-44:]) {
			return true
		}
	}
	return false
}

// fuzzSchemes are the schemes and providers the round-trip target signs
// and verifies with, one Options each.
var fuzzSchemes = []webhook.Options{
	{Scheme: webhook.Standard},
	{Scheme: webhook.Stripe, HeaderPrefix: "Alakazam"},
	{Scheme: webhook.HMACHex, HeaderPrefix: "X-Alloy"},
	{Scheme: webhook.TimestampedHex, HeaderPrefix: "X-WPG"},
	{Scheme: webhook.GitHub},
	// A Linear body's own webhookTimestamp is checked apart from the
	// signature; the round trip is about the signature alone.
	{Scheme: webhook.Linear, Tolerance: -1},
	{Scheme: webhook.Shopify},
	{Scheme: webhook.Slack},
}

// FuzzSignVerify signs arbitrary bodies with every scheme and checks that
// Verify accepts exactly what Sign produced: the untouched request passes,
// and changing one byte of the body or of any header Sign wrote (other
// than a hex digit's case, which hex ignores) is refused as an invalid
// signature.
func FuzzSignVerify(f *testing.F) {
	f.Add([]byte(`{"type":"job.done","timestamp":"2026-01-02T03:04:05.000Z","data":{"a":1}}`), "msg_2K8f", int64(1614265330), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", uint16(3), uint16(0), byte(1))
	f.Add([]byte("Hello, World!"), "x", int64(0), "It's a Secret to Everybody", uint16(0), uint16(1), byte(0x20))
	f.Add([]byte{}, "id", int64(99999999999), "s", uint16(50), uint16(2), byte(0xff))
	f.Add([]byte(`{"webhookTimestamp":1614265330000}`), "id", int64(1614265330), "whsec_AAAA", uint16(43), uint16(0), byte(2))
	f.Fuzz(func(t *testing.T, body []byte, id string, unix int64, secret string, pos uint16, which uint16, flip byte) {
		if unix < 0 || unix > 1e11 {
			unix %= 1e11
			if unix < 0 {
				unix = -unix
			}
		}
		at := time.Unix(unix, 0)
		for _, o := range fuzzSchemes {
			o.Now = func() time.Time { return at }
			hs, err := webhook.Sign(o, []string{secret}, id, at, body)
			if err != nil {
				if !errors.Is(err, webhook.ErrInvalidSecret) && !(o.Scheme == webhook.Standard && id == "") {
					t.Fatalf("%s: Sign: %v", o.Scheme, err)
				}
				continue
			}
			if err := webhook.Verify(o, []string{secret}, toHeader(hs), body); err != nil {
				if o.Scheme == webhook.Linear && errors.Is(err, webhook.ErrInvalidSignature) && strings.Contains(err.Error(), "webhookTimestamp") {
					continue // a body's own malformed webhookTimestamp is refused by design (see the package doc)
				}
				t.Fatalf("%s: Verify refuses what Sign wrote (id %q, t %d, body %q): %v", o.Scheme, id, unix, body, err)
			}
			if flip == 0 {
				continue
			}
			if len(body) > 0 {
				mutated := bytes.Clone(body)
				mutated[int(pos)%len(mutated)] ^= flip
				refuse(t, o, secret, toHeader(hs), mutated, "body byte %d", int(pos)%len(body))
			}
			h := slices.Clone(hs)
			i := int(which) % len(h)
			v := []byte(h[i].Value)
			if len(v) == 0 {
				continue
			}
			v[int(pos)%len(v)] ^= flip
			if strings.EqualFold(string(v), h[i].Value) && isHexHeader(o.Scheme, h[i].Name) {
				continue
			}
			h[i].Value = string(v)
			refuse(t, o, secret, toHeader(h), body, "%s byte %d", h[i].Name, int(pos)%len(v))
		}
	})
}

// isHexHeader reports whether the header holds a hex signature, whose
// digits may come in either case.
func isHexHeader(s webhook.Scheme, name string) bool {
	switch s {
	case webhook.Standard, webhook.Shopify:
		return false
	}
	return strings.HasSuffix(strings.ToLower(name), "signature") || strings.HasSuffix(strings.ToLower(name), "signature-256")
}

// refuse fails unless Verify refuses the request as an invalid signature.
func refuse(t *testing.T, o webhook.Options, secret string, h http.Header, body []byte, what string, args ...any) {
	t.Helper()
	err := webhook.Verify(o, []string{secret}, h, body)
	if !errors.Is(err, webhook.ErrInvalidSignature) && !errors.Is(err, webhook.ErrMissingHeader) {
		t.Fatalf("%s: changed %s, Verify says %v; headers %q", o.Scheme, fmt.Sprintf(what, args...), err, h)
	}
}

// toHeader puts signature headers into a request's header map.
func toHeader(hs []webhook.Header) http.Header {
	h := http.Header{}
	for _, x := range hs {
		h.Add(x.Name, x.Value)
	}
	return h
}
