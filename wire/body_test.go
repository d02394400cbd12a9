package wire_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/webhook"
	"github.com/hookd/hookd/wire"
)

var (
	alakazamEnv = hookd.EnvelopeConfig{TypeKey: "type", TimeKey: "created", TimeFormat: hookd.TimeUnix, AppKey: "appId", DataKey: "data"}
	alloyEnv    = hookd.EnvelopeConfig{TypeKey: "event", TimeKey: "timestamp", TimeFormat: hookd.TimeRFC3339Ms, DataKey: "data"}
	wazzaEnv    = hookd.EnvelopeConfig{TypeKey: "event", TimeKey: "timestamp", TimeFormat: hookd.TimeRFC3339}
)

func TestBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  hookd.EnvelopeConfig
		ev   wire.Event
		want string
	}{
		{
			name: "default profile",
			env:  hookd.DefaultProfile().Envelope,
			ev: wire.Event{ID: "msg_1", AppID: "app_1", Type: "invoice.paid",
				CreatedAt: time.Date(2025, 1, 8, 10, 16, 12, 456789000, time.UTC),
				Data:      []byte(`{"id": "in_1", "amount": 1e3, "note": "<b>&</b>"}`)},
			want: `{"type":"invoice.paid","timestamp":"2025-01-08T10:16:12.456Z","data":{"id":"in_1","amount":1000,"note":"<b>&</b>"}}`,
		},
		{
			name: "Alakazam",
			env:  alakazamEnv,
			ev: wire.Event{ID: "evt_1", AppID: "11111111-2222-4333-8444-555555555555", Type: "world.generation.succeeded",
				CreatedAt: time.Unix(1719576000, 0),
				Data:      []byte(`{"worldId":"66666666-7777-4888-8999-aaaaaaaaaaaa","jobId":"bbbbbbbb-cccc-4ddd-8eee-ffffffffffff"}`)},
			want: `{"type":"world.generation.succeeded","created":1719576000,"appId":"11111111-2222-4333-8444-555555555555","data":{"worldId":"66666666-7777-4888-8999-aaaaaaaaaaaa","jobId":"bbbbbbbb-cccc-4ddd-8eee-ffffffffffff"}}`,
		},
		{
			name: "Alloy",
			env:  alloyEnv,
			ev: wire.Event{Type: "dashboard.ready",
				CreatedAt: time.Date(2025, 1, 8, 11, 16, 12, 456000000, time.FixedZone("CET", 3600)),
				Data:      []byte(`{"generation_id":"af52d214-...","title":"Q3 Sales Overview","share_url":"https://api.example.com/share/4a5b.../view/"}`)},
			want: `{"event":"dashboard.ready","timestamp":"2025-01-08T10:16:12.456Z","data":{"generation_id":"af52d214-...","title":"Q3 Sales Overview","share_url":"https://api.example.com/share/4a5b.../view/"}}`,
		},
		{
			name: "Wazza spread",
			env:  wazzaEnv,
			ev: wire.Event{Type: "job.completed", CreatedAt: time.Date(2025, 10, 22, 10, 30, 0, 999000000, time.UTC),
				Data: []byte(`{"jobId":"job_abc123","status":"completed","output":{"width":1920,"duration":10}}`)},
			want: `{"event":"job.completed","timestamp":"2025-10-22T10:30:00Z","jobId":"job_abc123","status":"completed","output":{"width":1920,"duration":10}}`,
		},
		{
			name: "spread, empty data",
			env:  wazzaEnv,
			ev:   wire.Event{Type: "ping", CreatedAt: time.Unix(0, 0), Data: []byte(`{}`)},
			want: `{"event":"ping","timestamp":"1970-01-01T00:00:00Z"}`,
		},
		{
			name: "spread, index keys lead as in JavaScript",
			env:  hookd.EnvelopeConfig{TypeKey: "type"},
			ev:   wire.Event{Type: "t", Data: []byte(`{"b":1,"2":2,"0":3}`)},
			want: `{"0":3,"2":2,"type":"t","b":1}`,
		},
		{
			name: "spread, only index keys",
			env:  hookd.EnvelopeConfig{TypeKey: "type"},
			ev:   wire.Event{Type: "t", Data: []byte(`{"1":1}`)},
			want: `{"1":1,"type":"t"}`,
		},
		{
			name: "spread, no envelope keys",
			env:  hookd.EnvelopeConfig{},
			ev:   wire.Event{Type: "t", Data: []byte(`{"1":1, "a":2}`)},
			want: `{"1":1,"a":2}`,
		},
		{
			name: "all keys, milliseconds always three digits",
			env:  hookd.EnvelopeConfig{TypeKey: "type", TimeKey: "at", TimeFormat: hookd.TimeRFC3339Ms, IDKey: "id", AppKey: "app", DataKey: "payload"},
			ev: wire.Event{ID: "msg_\"1\"", AppID: "app\u2028", Type: "a.b", CreatedAt: time.Date(2025, 1, 8, 10, 16, 12, 0, time.UTC),
				Data: []byte(`{"x":[]}`)},
			want: "{\"type\":\"a.b\",\"at\":\"2025-01-08T10:16:12.000Z\",\"id\":\"msg_\\\"1\\\"\",\"app\":\"app\u2028\",\"payload\":{\"x\":[]}}",
		},
		{
			name: "only data",
			env:  hookd.EnvelopeConfig{DataKey: "data"},
			ev:   wire.Event{Type: "t", Data: []byte(`{"a":1}`)},
			want: `{"data":{"a":1}}`,
		},
		{
			name: "time key omitted ignores the format",
			env:  hookd.EnvelopeConfig{TypeKey: "type", DataKey: "data"},
			ev:   wire.Event{Type: "t", Data: []byte(`{}`)},
			want: `{"type":"t","data":{}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := wire.Body(tt.env, tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("Body\n got %s\nwant %s", got, tt.want)
			}
			// What a JavaScript receiver re-stringifies is what was signed.
			if c, err := wire.CanonicalObject(got); err != nil || string(c) != string(got) {
				t.Fatalf("body is not canonical: %s, %v", c, err)
			}
			if err := wire.CheckEnvelope(tt.env, tt.ev.Data); err != nil {
				t.Fatalf("CheckEnvelope: %v", err)
			}
			// Data canonicalized beforehand, and said to be, is copied
			// into the same body.
			canon, err := wire.CanonicalObject(tt.ev.Data)
			if err != nil {
				t.Fatal(err)
			}
			ev := tt.ev
			ev.Data, ev.Canonical = canon, true
			if got, err := wire.Body(tt.env, ev); err != nil || string(got) != tt.want {
				t.Fatalf("Body of canonical data\n got %s, %v\nwant %s", got, err, tt.want)
			}
		})
	}
}

func TestBodyErrors(t *testing.T) {
	t.Parallel()
	data := []byte(`{"jobId":"j","event":"x"}`)
	tests := []struct {
		name  string
		env   hookd.EnvelopeConfig
		ev    wire.Event
		msg   string
		check bool // CheckEnvelope refuses too
	}{
		{"collision", wazzaEnv, wire.Event{Type: "t", Data: data}, `data has a field "event", which the envelope's type_key also uses`, true},
		{"collision with id key", hookd.EnvelopeConfig{TypeKey: "type", IDKey: "jobId"}, wire.Event{Type: "t", Data: data}, `"jobId", which the envelope's id_key`, true},
		{"collision through escape", wazzaEnv, wire.Event{Type: "t", Data: []byte(`{"\u0065vent":1}`)}, `"event"`, true},
		{"data not an object", alloyEnv, wire.Event{Type: "t", Data: []byte(`[1]`)}, "data must be a JSON object", false},
		{"spread data not an object", wazzaEnv, wire.Event{Type: "t", Data: []byte(`"x"`)}, "data must be a JSON object", true},
		{"no data", alloyEnv, wire.Event{Type: "t"}, "data must be a JSON object", false},
		{"duplicate data key", alloyEnv, wire.Event{Type: "t", Data: []byte(`{"a":1,"a":2}`)}, "duplicate key", false},
		{"repeated envelope key", hookd.EnvelopeConfig{TypeKey: "type", TimeKey: "type", TimeFormat: hookd.TimeUnix, DataKey: "data"}, wire.Event{Data: []byte(`{}`)}, `type_key and time_key are both "type"`, false},
		{"data key repeats", hookd.EnvelopeConfig{TypeKey: "data", DataKey: "data"}, wire.Event{Data: []byte(`{}`)}, `type_key and data_key are both "data"`, false},
		{"integer envelope key", hookd.EnvelopeConfig{TypeKey: "0", DataKey: "data"}, wire.Event{Data: []byte(`{}`)}, `type_key "0" is an integer`, false},
		{"bad time format", hookd.EnvelopeConfig{TypeKey: "type", TimeKey: "ts", DataKey: "data"}, wire.Event{Data: []byte(`{}`)}, "time_format", false},
		{"invalid UTF-8 type", alloyEnv, wire.Event{Type: "a\xff", Data: []byte(`{}`)}, "event type is not valid UTF-8", false},
		{"invalid UTF-8 key", hookd.EnvelopeConfig{TypeKey: "\xff", DataKey: "data"}, wire.Event{Data: []byte(`{}`)}, "type_key is not valid UTF-8", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := wire.Body(tt.env, tt.ev)
			if err == nil {
				t.Fatalf("Body = %s, want an error", got)
			}
			var he *hookd.Error
			if !errors.As(err, &he) || he.Code != hookd.EINVALID || !strings.Contains(he.Message, tt.msg) {
				t.Fatalf("Body error = %v, want a %s *hookd.Error saying %q", err, hookd.EINVALID, tt.msg)
			}
			cerr := wire.CheckEnvelope(tt.env, tt.ev.Data)
			if tt.check && (cerr == nil || hookd.ErrorCode(cerr) != hookd.EINVALID || !strings.Contains(hookd.ErrorMessage(cerr), tt.msg)) {
				t.Fatalf("CheckEnvelope = %v, want an error saying %q", cerr, tt.msg)
			}
		})
	}
	// With a data key nothing is spread, so nothing collides.
	if err := wire.CheckEnvelope(alloyEnv, data); err != nil {
		t.Fatalf("CheckEnvelope with a data key = %v", err)
	}
}

func hexHMAC(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func TestSignatureHeaders(t *testing.T) {
	t.Parallel()
	body := []byte(`{"type":"world.generation.succeeded","created":1719576000,"data":{}}`)
	ts := time.Unix(1719576000, 0)
	const secret = "whsec_Xa9kQ2mR7v0bN4pL6sD8fG1hJ3wY5z"
	b := string(body)
	tests := []struct {
		name string
		sig  hookd.SignatureConfig
		want []webhook.Header // nil: only check names and a round trip
	}{
		{"Alakazam", hookd.SignatureConfig{Scheme: hookd.SchemeStripe, HeaderPrefix: "Alakazam", EventHeader: true}, []webhook.Header{
			{Name: "Alakazam-Signature", Value: "t=1719576000,v1=" + hexHMAC(secret, "1719576000."+b)},
			{Name: "Alakazam-Event", Value: "world.generation.succeeded"},
		}},
		{"Alloy", hookd.SignatureConfig{Scheme: hookd.SchemeHMACHex, HeaderPrefix: "X-Alloy"}, []webhook.Header{
			{Name: "X-Alloy-Signature", Value: hexHMAC(secret, b)},
		}},
		{"WePlaytestGames", hookd.SignatureConfig{Scheme: hookd.SchemeTimestampedHex, HeaderPrefix: "X-WPG"}, []webhook.Header{
			{Name: "X-WPG-Signature", Value: hexHMAC(secret, "1719576000."+b)},
			{Name: "X-WPG-Timestamp", Value: "1719576000"},
		}},
		{"standard with event header", hookd.SignatureConfig{Scheme: hookd.SchemeStandard, EventHeader: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hs, err := wire.SignatureHeaders(tt.sig, []string{secret}, "msg_1", "world.generation.succeeded", ts, body)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != nil && !slices.Equal(hs, tt.want) {
				t.Fatalf("SignatureHeaders =\n%q\nwant\n%q", hs, tt.want)
			}
			if tt.want == nil {
				var names []string
				for _, h := range hs {
					names = append(names, h.Name)
				}
				if want := []string{"webhook-id", "webhook-timestamp", "webhook-signature", "webhook-event"}; !slices.Equal(names, want) {
					t.Fatalf("names %q, want %q", names, want)
				}
			}
			h := http.Header{}
			for _, x := range hs {
				h[x.Name] = []string{x.Value}
			}
			opts := webhook.Options{Scheme: webhook.Scheme(tt.sig.Scheme), HeaderPrefix: tt.sig.HeaderPrefix, Now: func() time.Time { return ts }}
			if err := webhook.Verify(opts, []string{secret}, h, body); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
	if _, err := wire.SignatureHeaders(hookd.SignatureConfig{Scheme: "nope"}, []string{secret}, "m", "t", ts, body); !errors.Is(err, webhook.ErrUnknownScheme) {
		t.Errorf("unknown scheme: %v", err)
	}
	if _, err := wire.SignatureHeaders(hookd.SignatureConfig{Scheme: hookd.SchemeStripe, HeaderPrefix: "A", EventHeader: true}, []string{secret}, "m", "a\r\nX-Evil: 1", ts, body); err == nil {
		t.Error("an event type with CRLF went into a header")
	}
}
