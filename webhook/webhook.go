package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Scheme names a signature algorithm and its headers. The values are the
// ones a hookd profile uses in signature.scheme.
type Scheme string

// The signature schemes. See the package documentation for each algorithm.
const (
	Standard       Scheme = "standard"
	Stripe         Scheme = "stripe"
	HMACHex        Scheme = "hmac-hex"
	TimestampedHex Scheme = "timestamped-hex"
)

// The third-party providers an inbound source can receive from, each
// signing as the provider publishes. Their header names are fixed:
// Options.HeaderPrefix does not apply to them.
const (
	GitHub  Scheme = "github"
	Linear  Scheme = "linear"
	Shopify Scheme = "shopify"
	Slack   Scheme = "slack"
)

// DefaultTolerance is how far a signed timestamp may be from the verifier's
// clock, either way, when Options.Tolerance is zero.
const DefaultTolerance = 5 * time.Minute

// SecretPrefix starts the secrets that [NewSecret] makes and that the
// Standard scheme base64-decodes.
const SecretPrefix = "whsec_"

// Sentinel errors. Verify wraps them with details; test them with errors.Is.
var (
	// ErrMissingHeader means a header the scheme needs is absent or empty.
	ErrMissingHeader = errors.New("webhook: missing header")
	// ErrInvalidSignature means no signature matches any of the secrets,
	// or a signature or timestamp header is malformed.
	ErrInvalidSignature = errors.New("webhook: invalid signature")
	// ErrTimestampOutOfTolerance means the signature is good but the signed
	// timestamp is too old or too far in the future: a replay, or a clock
	// that is off.
	ErrTimestampOutOfTolerance = errors.New("webhook: timestamp out of tolerance")
	// ErrUnknownScheme means Options.Scheme is not one this package knows.
	ErrUnknownScheme = errors.New("webhook: unknown scheme")
	// ErrInvalidSecret means no secret was given, a secret is empty, or a
	// Standard secret is not base64.
	ErrInvalidSecret = errors.New("webhook: invalid secret")
)

// Header is one header with its name spelled exactly as it goes on the wire.
type Header struct{ Name, Value string }

// Options selects a scheme and its header names, and, for Verify, the
// replay window and the clock.
type Options struct {
	Scheme Scheme
	// HeaderPrefix is the literal start of the header names: "Alakazam"
	// gives Alakazam-Signature, "X-WPG" gives X-WPG-Signature. For Standard
	// an empty prefix means "webhook" (webhook-id, webhook-timestamp,
	// webhook-signature); for Stripe it means "Stripe" (Stripe-Signature).
	// HMACHex and TimestampedHex need one. GitHub, Linear, Shopify and
	// Slack ignore it: their header names are fixed.
	HeaderPrefix string
	// Tolerance is, for Verify, the largest accepted difference between the
	// signed timestamp and Now, either way. Zero means DefaultTolerance; a
	// negative value turns the check off (for checking old payloads by
	// hand, never in a receiver). For Linear it bounds the webhookTimestamp
	// field of the body, which Linear's documentation suggests checking
	// within a minute.
	Tolerance time.Duration
	// Now is Verify's clock; nil means time.Now.
	Now func() time.Time
}

// Sign returns the signature headers for one message, signed with every
// secret in secrets (newest first) where the scheme carries several
// signatures, and with secrets[0] alone where it carries one.
// id is the message id (used by Standard only) and ts the signing time,
// written as Unix seconds (unused by GitHub, Linear, Shopify and HMACHex,
// whose headers carry no timestamp; a Linear body carries its own).
func Sign(opts Options, secrets []string, id string, ts time.Time, body []byte) ([]Header, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%w: no secret to sign with", ErrInvalidSecret)
	}
	prefix, err := opts.prefix()
	if err != nil {
		return nil, err
	}
	t := strconv.FormatInt(ts.Unix(), 10)
	switch opts.Scheme {
	case Standard:
		if id == "" {
			return nil, errors.New("webhook: the standard scheme needs a message id")
		}
		signed := []byte(id + "." + t + ".")
		sig := make([]byte, 0, len(secrets)*48)
		for i, s := range secrets {
			key, err := standardKey(s)
			if err != nil {
				return nil, err
			}
			if i > 0 {
				sig = append(sig, ' ')
			}
			sig = append(sig, "v1,"...)
			sig = base64.StdEncoding.AppendEncode(sig, mac(key, signed, body))
		}
		return []Header{
			{prefix + "-id", id},
			{prefix + "-timestamp", t},
			{prefix + "-signature", string(sig)},
		}, nil
	case Stripe:
		signed := []byte(t + ".")
		sig := append(make([]byte, 0, 2+len(t)+len(secrets)*68), "t="...)
		sig = append(sig, t...)
		for _, s := range secrets {
			if s == "" {
				return nil, fmt.Errorf("%w: empty secret", ErrInvalidSecret)
			}
			sig = append(sig, ",v1="...)
			sig = hex.AppendEncode(sig, mac([]byte(s), signed, body))
		}
		return []Header{{prefix + "-Signature", string(sig)}}, nil
	case HMACHex:
		if secrets[0] == "" {
			return nil, fmt.Errorf("%w: empty secret", ErrInvalidSecret)
		}
		return []Header{
			{prefix + "-Signature", hex.EncodeToString(mac([]byte(secrets[0]), nil, body))},
		}, nil
	case TimestampedHex:
		if secrets[0] == "" {
			return nil, fmt.Errorf("%w: empty secret", ErrInvalidSecret)
		}
		return []Header{
			{prefix + "-Signature", hex.EncodeToString(mac([]byte(secrets[0]), []byte(t+"."), body))},
			{prefix + "-Timestamp", t},
		}, nil
	case GitHub, Linear, Shopify, Slack:
		// One signature header each: the newest secret alone.
		key, err := rawKey(secrets[0])
		if err != nil {
			return nil, err
		}
		switch opts.Scheme {
		case GitHub:
			return []Header{{githubHeader, "sha256=" + hex.EncodeToString(mac(key, nil, body))}}, nil
		case Linear:
			return []Header{{linearHeader, hex.EncodeToString(mac(key, nil, body))}}, nil
		case Shopify:
			return []Header{{shopifyHeader, base64.StdEncoding.EncodeToString(mac(key, nil, body))}}, nil
		default: // Slack
			return []Header{
				{slackSigHeader, "v0=" + hex.EncodeToString(mac(key, []byte("v0:"+t+":"), body))},
				{slackTSHeader, t},
			}, nil
		}
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownScheme, opts.Scheme)
}

// The providers' header names, spelled as they send them.
const (
	githubHeader   = "X-Hub-Signature-256"
	linearHeader   = "Linear-Signature"
	shopifyHeader  = "X-Shopify-Hmac-Sha256"
	slackSigHeader = "X-Slack-Signature"
	slackTSHeader  = "X-Slack-Request-Timestamp"
)

// Verify checks a received request's headers and raw body against any of
// secrets; nil means the request is authentic and recent. See the package
// documentation for the errors it returns.
func Verify(opts Options, secrets []string, h http.Header, body []byte) error {
	_, err := VerifyMessage(opts, secrets, h, body)
	return err
}

// Verified is what [VerifyMessage] found in a request it accepted.
type Verified struct {
	// ID is the message id the signature covers: the Standard scheme's
	// {prefix}-id. It is empty for the other schemes, whose signatures
	// cover no id. A receiver that deduplicates Standard messages must
	// use this id, not a header it reads again: a header may be sent
	// more than once, and http.Header.Get returns the first value, which
	// may be empty where the signed one is not.
	ID string
}

// VerifyMessage is [Verify] that also returns what the signature covers.
func VerifyMessage(opts Options, secrets []string, h http.Header, body []byte) (Verified, error) {
	if len(secrets) == 0 {
		return Verified{}, fmt.Errorf("%w: no secret to verify with", ErrInvalidSecret)
	}
	prefix, err := opts.prefix()
	if err != nil {
		return Verified{}, err
	}
	// Configuration errors come first, whatever the request holds.
	keyOf := rawKey
	if opts.Scheme == Standard {
		keyOf = standardKey
	}
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		if keys[i], err = keyOf(s); err != nil {
			return Verified{}, err
		}
	}
	var v verifier
	switch opts.Scheme {
	case Standard:
		v, err = verifyStandard(prefix, keys, h, body)
	case Stripe:
		v, err = verifyStripe(prefix, keys, h, body)
	case HMACHex:
		v, err = verifyHex(prefix, keys, h, body)
	case TimestampedHex:
		v, err = verifyTimestampedHex(prefix, keys, h, body)
	case GitHub:
		v, err = verifyGitHub(keys, h, body)
	case Linear:
		v, err = verifyLinear(keys, h, body)
	case Shopify:
		v, err = verifyShopify(keys, h, body)
	case Slack:
		v, err = verifySlack(keys, h, body)
	default:
		return Verified{}, fmt.Errorf("%w %q", ErrUnknownScheme, opts.Scheme)
	}
	if err != nil {
		return Verified{}, err
	}
	if err := opts.checkTimestamp(v); err != nil {
		return Verified{}, err
	}
	return Verified{ID: v.id}, nil
}

// NewSecret returns a new signing secret: "whsec_" followed by the standard
// base64 of 24 random bytes from crypto/rand. It suits every scheme.
func NewSecret() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("webhook: new secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b[:]), nil
}

// verifier is what a scheme's check found: whether it signs a timestamp,
// and which, in Unix seconds or, when millis is set, milliseconds.
type verifier struct {
	timestamped bool
	millis      bool
	ts          int64
	// id is the message id the signature covers, where it covers one.
	id string
}

func (o Options) prefix() (string, error) {
	switch o.Scheme {
	case GitHub, Linear, Shopify, Slack:
		return "", nil // fixed header names
	}
	p := o.HeaderPrefix
	if p == "" {
		switch o.Scheme {
		case Standard:
			return "webhook", nil
		case Stripe:
			return "Stripe", nil
		case HMACHex, TimestampedHex:
			return "", fmt.Errorf("webhook: the %s scheme needs a header prefix", o.Scheme)
		default:
			return "", fmt.Errorf("%w %q", ErrUnknownScheme, o.Scheme)
		}
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return "", fmt.Errorf("webhook: header prefix %q is not a valid header name", p)
		}
	}
	return p, nil
}

func (o Options) checkTimestamp(v verifier) error {
	if !v.timestamped || o.Tolerance < 0 {
		return nil
	}
	tol := o.Tolerance
	if tol == 0 {
		tol = DefaultTolerance
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	// Whole units of the timestamp on both sides, so that Unix seconds
	// compare as such and nothing overflows: |ts| is at most 10^18 (see
	// parseUnix).
	n, unit, u := now().Unix(), time.Second, "s"
	if v.millis {
		n, unit, u = now().UnixMilli(), time.Millisecond, "ms"
	}
	d := n - v.ts
	limit := int64(tol / unit)
	switch {
	case d > limit:
		return fmt.Errorf("%w: signed %d%s ago, tolerance %s", ErrTimestampOutOfTolerance, d, u, tol)
	case -d > limit:
		return fmt.Errorf("%w: signed %d%s in the future, tolerance %s", ErrTimestampOutOfTolerance, -d, u, tol)
	}
	return nil
}

// mac returns the HMAC-SHA256 under key of prefix followed by body, without
// building their concatenation.
func mac(key, prefix, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(prefix)
	m.Write(body)
	return m.Sum(make([]byte, 0, sha256.Size))
}

// standardKey returns the HMAC key of a Standard Webhooks secret: the
// base64 after "whsec_", or the whole string when it lacks the prefix.
func standardKey(secret string) ([]byte, error) {
	s := strings.TrimPrefix(secret, SecretPrefix)
	if s == "" {
		return nil, fmt.Errorf("%w: empty secret", ErrInvalidSecret)
	}
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		// Some issuers drop the padding.
		if key, err = base64.RawStdEncoding.DecodeString(s); err != nil {
			return nil, fmt.Errorf("%w: a standard scheme secret must be base64 after %q", ErrInvalidSecret, SecretPrefix)
		}
	}
	if len(key) == 0 {
		return nil, fmt.Errorf("%w: empty secret", ErrInvalidSecret)
	}
	return key, nil
}

// header returns the first non-empty value of the header name, matching the
// name without regard to case even when h was built by hand with names
// that are not in canonical form.
func header(h http.Header, name string) string {
	for _, v := range h.Values(name) {
		if v != "" {
			return v
		}
	}
	for k, vs := range h {
		if strings.EqualFold(k, name) {
			for _, v := range vs {
				if v != "" {
					return v
				}
			}
		}
	}
	return ""
}

// headerValues returns all values of the header name, matched as in header.
func headerValues(h http.Header, name string) []string {
	var out []string
	for k, vs := range h {
		if strings.EqualFold(k, name) {
			out = append(out, vs...)
		}
	}
	return out
}

// nonEmptyCount counts the non-empty values of the header name, matched
// as in headerValues.
func nonEmptyCount(h http.Header, name string) int {
	n := 0
	for _, v := range headerValues(h, name) {
		if v != "" {
			n++
		}
	}
	return n
}

func requireHeader(h http.Header, name string) (string, error) {
	v := header(h, name)
	if v == "" {
		return "", fmt.Errorf("%w %s", ErrMissingHeader, name)
	}
	return v, nil
}

// parseUnix parses a timestamp header: decimal digits only, no sign, no
// spaces, at most 18 digits so that arithmetic on it cannot overflow.
func parseUnix(name, s string) (int64, error) {
	if s == "" || len(s) > 18 {
		return 0, fmt.Errorf("%w: malformed timestamp in %s", ErrInvalidSignature, name)
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: malformed timestamp in %s", ErrInvalidSignature, name)
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// macs computes, once per key, the expected MAC of prefix followed by body.
func macs(keys [][]byte, prefix string, body []byte) [][]byte {
	p := []byte(prefix)
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = mac(k, p, body)
	}
	return out
}

func rawKey(s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: empty secret", ErrInvalidSecret)
	}
	return []byte(s), nil
}

// matches reports whether got equals any of want, comparing in constant
// time for a given length.
func matches(want [][]byte, got []byte) bool {
	ok := false
	for _, w := range want {
		if hmac.Equal(w, got) {
			ok = true
		}
	}
	return ok
}

func verifyStandard(prefix string, keys [][]byte, h http.Header, body []byte) (verifier, error) {
	idName, tsName, sigName := prefix+"-id", prefix+"-timestamp", prefix+"-signature"
	id, err := requireHeader(h, idName)
	if err != nil {
		return verifier{}, err
	}
	// Two ids would leave it to each reader which one the message has:
	// the signature covers one, a deduplicating receiver might read the
	// other.
	if n := nonEmptyCount(h, idName); n > 1 {
		return verifier{}, fmt.Errorf("%w: %s is given %d times", ErrInvalidSignature, idName, n)
	}
	t, err := requireHeader(h, tsName)
	if err != nil {
		return verifier{}, err
	}
	if _, err := requireHeader(h, sigName); err != nil {
		return verifier{}, err
	}
	ts, err := parseUnix(tsName, t)
	if err != nil {
		return verifier{}, err
	}
	want := macs(keys, id+"."+t+".", body)
	seen := false
	for _, v := range headerValues(h, sigName) {
		for _, entry := range strings.Fields(v) {
			version, sig, ok := strings.Cut(entry, ",")
			if !ok || version != "v1" {
				continue
			}
			seen = true
			if matchesBase64(want, sig) {
				return verifier{timestamped: true, ts: ts, id: id}, nil
			}
		}
	}
	if !seen {
		return verifier{}, fmt.Errorf("%w: no v1 signature in %s", ErrInvalidSignature, sigName)
	}
	return verifier{}, fmt.Errorf("%w: no v1 signature in %s matches", ErrInvalidSignature, sigName)
}

func verifyStripe(prefix string, keys [][]byte, h http.Header, body []byte) (verifier, error) {
	name := prefix + "-Signature"
	v, err := requireHeader(h, name)
	if err != nil {
		return verifier{}, err
	}
	var t string
	var sigs []string
	for part := range strings.SplitSeq(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return verifier{}, fmt.Errorf("%w: malformed %s header", ErrInvalidSignature, name)
		}
		switch k {
		case "t":
			if t != "" {
				return verifier{}, fmt.Errorf("%w: %s has two timestamps", ErrInvalidSignature, name)
			}
			t = val
		case "v1":
			sigs = append(sigs, val)
		}
	}
	if t == "" {
		return verifier{}, fmt.Errorf("%w: %s has no t= timestamp", ErrInvalidSignature, name)
	}
	ts, err := parseUnix(name, t)
	if err != nil {
		return verifier{}, err
	}
	if len(sigs) == 0 {
		return verifier{}, fmt.Errorf("%w: %s has no v1= signature", ErrInvalidSignature, name)
	}
	want := macs(keys, t+".", body)
	for _, s := range sigs {
		if matchesHex(want, s) {
			return verifier{timestamped: true, ts: ts}, nil
		}
	}
	return verifier{}, fmt.Errorf("%w: no v1 signature in %s matches", ErrInvalidSignature, name)
}

func verifyHex(prefix string, keys [][]byte, h http.Header, body []byte) (verifier, error) {
	return verifyHexHeader(prefix+"-Signature", keys, h, body)
}

// verifyHexHeader checks a header that holds the hex MAC of the body alone.
func verifyHexHeader(name string, keys [][]byte, h http.Header, body []byte) (verifier, error) {
	if _, err := requireHeader(h, name); err != nil {
		return verifier{}, err
	}
	want := macs(keys, "", body)
	for _, s := range headerValues(h, name) {
		if matchesHex(want, strings.TrimSpace(s)) {
			return verifier{}, nil
		}
	}
	return verifier{}, fmt.Errorf("%w: %s does not match", ErrInvalidSignature, name)
}

func verifyTimestampedHex(prefix string, keys [][]byte, h http.Header, body []byte) (verifier, error) {
	sigName, tsName := prefix+"-Signature", prefix+"-Timestamp"
	if _, err := requireHeader(h, sigName); err != nil {
		return verifier{}, err
	}
	t, err := requireHeader(h, tsName)
	if err != nil {
		return verifier{}, err
	}
	ts, err := parseUnix(tsName, t)
	if err != nil {
		return verifier{}, err
	}
	want := macs(keys, t+".", body)
	for _, s := range headerValues(h, sigName) {
		if matchesHex(want, strings.TrimSpace(s)) {
			return verifier{timestamped: true, ts: ts}, nil
		}
	}
	return verifier{}, fmt.Errorf("%w: %s does not match", ErrInvalidSignature, sigName)
}

// matchesHex decodes a hex signature (either case) and compares it with
// want in constant time; anything that is not hex of the right length
// does not match.
func matchesHex(want [][]byte, s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	var buf [sha256.Size]byte
	if _, err := hex.Decode(buf[:], []byte(s)); err != nil {
		return false
	}
	return matches(want, buf[:])
}

// matchesBase64 decodes a standard base64 signature and compares it with
// want in constant time; anything that is not the padded base64 of a MAC,
// in its one canonical spelling, does not match. Strict decoding refuses
// set padding bits, and the exact length refuses the line breaks the
// decoder would skip, so that no other string than the one signed passes.
func matchesBase64(want [][]byte, s string) bool {
	if len(s) != base64.StdEncoding.EncodedLen(sha256.Size) {
		return false
	}
	// DecodedLen of 44 characters: a 45th byte's worth of room, for a
	// value whose padding was replaced by data.
	var buf [sha256.Size + 1]byte
	n, err := base64.StdEncoding.Strict().Decode(buf[:], []byte(s))
	if err != nil || n != sha256.Size {
		return false
	}
	return matches(want, buf[:n])
}

// verifyVersionedHex checks a header that holds "{version}<hex MAC>" of
// prefix followed by body, as GitHub's and Slack's do.
func verifyVersionedHex(name, version string, keys [][]byte, prefix string, h http.Header, body []byte) error {
	if _, err := requireHeader(h, name); err != nil {
		return err
	}
	want := macs(keys, prefix, body)
	seen := false
	for _, v := range headerValues(h, name) {
		sig, ok := strings.CutPrefix(strings.TrimSpace(v), version)
		if !ok {
			continue
		}
		seen = true
		if matchesHex(want, sig) {
			return nil
		}
	}
	if !seen {
		return fmt.Errorf("%w: no %s signature in %s", ErrInvalidSignature, version, name)
	}
	return fmt.Errorf("%w: %s does not match", ErrInvalidSignature, name)
}

// verifyGitHub checks X-Hub-Signature-256: sha256=<hex>, the HMAC of the
// body alone. GitHub signs no timestamp; its X-GitHub-Delivery id is what
// tells a redelivery apart.
func verifyGitHub(keys [][]byte, h http.Header, body []byte) (verifier, error) {
	return verifier{}, verifyVersionedHex(githubHeader, "sha256=", keys, "", h, body)
}

// verifySlack checks X-Slack-Signature: v0=<hex> over
// "v0:{X-Slack-Request-Timestamp}:{body}".
func verifySlack(keys [][]byte, h http.Header, body []byte) (verifier, error) {
	if _, err := requireHeader(h, slackSigHeader); err != nil {
		return verifier{}, err
	}
	t, err := requireHeader(h, slackTSHeader)
	if err != nil {
		return verifier{}, err
	}
	ts, err := parseUnix(slackTSHeader, t)
	if err != nil {
		return verifier{}, err
	}
	if err := verifyVersionedHex(slackSigHeader, "v0=", keys, "v0:"+t+":", h, body); err != nil {
		return verifier{}, err
	}
	return verifier{timestamped: true, ts: ts}, nil
}

// verifyShopify checks X-Shopify-Hmac-Sha256: the base64 HMAC of the body.
func verifyShopify(keys [][]byte, h http.Header, body []byte) (verifier, error) {
	if _, err := requireHeader(h, shopifyHeader); err != nil {
		return verifier{}, err
	}
	want := macs(keys, "", body)
	for _, s := range headerValues(h, shopifyHeader) {
		if matchesBase64(want, strings.TrimSpace(s)) {
			return verifier{}, nil
		}
	}
	return verifier{}, fmt.Errorf("%w: %s does not match", ErrInvalidSignature, shopifyHeader)
}

// verifyLinear checks Linear-Signature, the hex HMAC of the body, and then
// the body's top-level webhookTimestamp (Unix milliseconds) where there is
// one: Linear signs no timestamp header, so the replay window rests on the
// signed body. The body is parsed only once its signature is good.
func verifyLinear(keys [][]byte, h http.Header, body []byte) (verifier, error) {
	if _, err := verifyHexHeader(linearHeader, keys, h, body); err != nil {
		return verifier{}, err
	}
	// Most bodies are skipped without parsing. A key spelled with JSON
	// escapes would slip past this check, but the body is Linear's own,
	// already authenticated, and Linear writes the name plainly.
	if !bytes.Contains(body, []byte(linearTSField)) {
		return verifier{}, nil
	}
	// A map keeps the match exact and case-sensitive, and the last of
	// duplicate keys wins, as with JSON.parse in Linear's own SDK.
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return verifier{}, nil // not a JSON object: no timestamp to check
	}
	raw, ok := fields[linearTSField]
	if !ok || string(raw) == "null" {
		return verifier{}, nil
	}
	ms, err := parseUnix(linearTSField, string(raw))
	if err != nil {
		return verifier{}, err
	}
	return verifier{timestamped: true, millis: true, ts: ms}, nil
}

const linearTSField = "webhookTimestamp"
