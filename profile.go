package hookd

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Signature schemes a profile may choose. See package webhook for the
// algorithms.
const (
	SchemeStandard       = "standard"
	SchemeStripe         = "stripe"
	SchemeHMACHex        = "hmac-hex"
	SchemeTimestampedHex = "timestamped-hex"
)

// Time formats of the envelope's time field.
const (
	TimeUnix       = "unix"
	TimeRFC3339    = "rfc3339"
	TimeRFC3339Ms  = "rfc3339ms"
	maxRetryWait   = 7 * 24 * time.Hour
	maxAttemptsCap = 50
)

// Profile is an app's wire contract: how deliveries are signed and shaped,
// how often they are retried and when a failing webhook is disabled.
type Profile struct {
	Signature        SignatureConfig `json:"signature"`
	Envelope         EnvelopeConfig  `json:"envelope"`
	Retry            RetryPolicy     `json:"retry"`
	AutoDisableAfter int             `json:"auto_disable_after"`
	MaxWebhooks      int             `json:"max_webhooks"`
}

// SignatureConfig selects the signature scheme and the header names.
type SignatureConfig struct {
	Scheme string `json:"scheme"`
	// HeaderPrefix is the literal start of the header names: "Alakazam"
	// gives Alakazam-Signature. For the standard scheme an empty prefix
	// means the Standard Webhooks names (webhook-id, ...).
	HeaderPrefix string `json:"header_prefix"`
	// EventHeader adds {prefix}-Event carrying the event type.
	EventHeader bool `json:"event_header"`
}

// EnvelopeConfig shapes the JSON body around an event's data. Keys are
// written in the order type, time, id, app, data; an empty key leaves that
// field out, and an empty DataKey spreads the data's fields at the top level.
type EnvelopeConfig struct {
	TypeKey    string `json:"type_key"`
	TimeKey    string `json:"time_key"`
	TimeFormat string `json:"time_format"`
	IDKey      string `json:"id_key"`
	AppKey     string `json:"app_key"`
	DataKey    string `json:"data_key"`
}

// RetryPolicy says how long to wait after each failed attempt and how many
// attempts a delivery gets in all.
type RetryPolicy struct {
	// ScheduleSeconds are the waits after the first, second, ... failed
	// attempt; the last entry repeats if MaxAttempts asks for more.
	ScheduleSeconds []float64 `json:"schedule_seconds"`
	MaxAttempts     int       `json:"max_attempts"`
	// Jitter spreads each wait uniformly by ±Jitter of its length.
	Jitter float64 `json:"jitter"`
}

// maxEnvelopeKey bounds the length of an envelope key.
const maxEnvelopeKey = 128

// DefaultProfile returns the profile used where an app sets nothing.
func DefaultProfile() Profile {
	return Profile{
		Signature: SignatureConfig{Scheme: SchemeStandard},
		Envelope: EnvelopeConfig{
			TypeKey: "type", TimeKey: "timestamp", TimeFormat: TimeRFC3339Ms, DataKey: "data",
		},
		Retry: RetryPolicy{
			ScheduleSeconds: []float64{5, 300, 1800, 7200, 18000, 36000, 36000},
			MaxAttempts:     8,
			Jitter:          0.2,
		},
		AutoDisableAfter: 10,
	}
}

// MergeProfile decodes patch, a JSON object, over base: fields the patch
// names replace base's, the others keep base's values. The result is
// validated.
func MergeProfile(base Profile, patch []byte) (Profile, error) {
	p := base
	p.Retry.ScheduleSeconds = append([]float64(nil), base.Retry.ScheduleSeconds...)
	if len(bytes.TrimSpace(patch)) == 0 || string(bytes.TrimSpace(patch)) == "null" {
		return p, p.Validate()
	}
	dec := json.NewDecoder(bytes.NewReader(patch))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Profile{}, Errorf(EINVALID, "profile: %s", JSONProblem(err))
	}
	return p, p.Validate()
}

// Validate reports the first problem with p as a BAD_REQUEST error.
func (p Profile) Validate() error {
	switch p.Signature.Scheme {
	case SchemeStandard:
	case SchemeStripe, SchemeHMACHex, SchemeTimestampedHex:
		if p.Signature.HeaderPrefix == "" {
			return Errorf(EINVALID, "profile.signature.header_prefix is required for the %s scheme", p.Signature.Scheme)
		}
	default:
		return Errorf(EINVALID, "profile.signature.scheme must be one of standard, stripe, hmac-hex, timestamped-hex")
	}
	if !validHeaderToken(p.Signature.HeaderPrefix) {
		return Errorf(EINVALID, "profile.signature.header_prefix must be a valid header name start")
	}
	e := p.Envelope
	if e.TypeKey == "" {
		return Errorf(EINVALID, "profile.envelope.type_key is required")
	}
	switch e.TimeFormat {
	case TimeUnix, TimeRFC3339, TimeRFC3339Ms:
	default:
		return Errorf(EINVALID, "profile.envelope.time_format must be unix, rfc3339 or rfc3339ms")
	}
	seen := map[string]string{}
	for _, k := range []struct{ name, key string }{
		{"type_key", e.TypeKey}, {"time_key", e.TimeKey}, {"id_key", e.IDKey}, {"app_key", e.AppKey}, {"data_key", e.DataKey},
	} {
		if k.key == "" {
			continue
		}
		if isArrayIndex(k.key) || !utf8.ValidString(k.key) {
			// JavaScript moves integer-like keys to the front of an
			// object, which would break the documented key order.
			return Errorf(EINVALID, "profile.envelope.%s must not be an integer or invalid UTF-8", k.name)
		}
		if len(k.key) > maxEnvelopeKey || strings.ContainsFunc(k.key, unicode.IsControl) {
			return Errorf(EINVALID, "profile.envelope.%s must be at most %d bytes without control characters", k.name, maxEnvelopeKey)
		}
		if other, dup := seen[k.key]; dup {
			return Errorf(EINVALID, "profile.envelope.%s repeats the key of %s", k.name, other)
		}
		seen[k.key] = k.name
	}
	r := p.Retry
	if r.MaxAttempts < 1 || r.MaxAttempts > maxAttemptsCap {
		return Errorf(EINVALID, "profile.retry.max_attempts must be between 1 and %d", maxAttemptsCap)
	}
	if len(r.ScheduleSeconds) == 0 && r.MaxAttempts > 1 {
		return Errorf(EINVALID, "profile.retry.schedule_seconds must not be empty")
	}
	for i, s := range r.ScheduleSeconds {
		// Compared as seconds: a huge value would overflow a Duration.
		if !(s >= 0 && s <= maxRetryWait.Seconds()) {
			return Errorf(EINVALID, "profile.retry.schedule_seconds[%d] must be between 0 and %d", i, int(maxRetryWait.Seconds()))
		}
	}
	if r.Jitter < 0 || r.Jitter > 1 {
		return Errorf(EINVALID, "profile.retry.jitter must be between 0 and 1")
	}
	if p.AutoDisableAfter < 0 {
		return Errorf(EINVALID, "profile.auto_disable_after must be 0 (never) or more")
	}
	if p.MaxWebhooks < 0 {
		return Errorf(EINVALID, "profile.max_webhooks must be 0 (no cap) or more")
	}
	return nil
}

// isArrayIndex reports whether JavaScript treats key as an array index.
func isArrayIndex(key string) bool {
	if key == "" || len(key) > 10 || (len(key) > 1 && key[0] == '0') {
		return false
	}
	var n uint64
	for _, c := range key {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + uint64(c-'0')
	}
	return n < 1<<32-1
}

func validHeaderToken(s string) bool {
	for _, c := range s {
		if c > 0x7e || c <= ' ' || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", c) {
			return false
		}
	}
	return true
}
