package wire_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/wire"
)

// FuzzCanonicalObject checks that CanonicalObject is idempotent, keeps the
// value (as encoding/json decodes it), and agrees with encoding/json on
// what is valid JSON, save for its documented extra refusals.
func FuzzCanonicalObject(f *testing.F) {
	for _, c := range canonicalCases {
		f.Add([]byte(c.in))
	}
	for _, c := range invalidCases {
		if len(c.in) < 1000 {
			f.Add([]byte(c.in))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := wire.CanonicalObject(in)
		trimmed := bytes.TrimLeft(in, " \t\r\n")
		if err != nil {
			if !json.Valid(in) {
				return
			}
			msg := err.Error()
			switch {
			case strings.Contains(msg, "not valid UTF-8") && !utf8.Valid(in):
			case strings.Contains(msg, "duplicate key"), strings.Contains(msg, "out of range"),
				strings.Contains(msg, "nested more than"):
			case len(trimmed) == 0 || trimmed[0] != '{':
				if !strings.Contains(msg, "must be a JSON object") {
					t.Fatalf("valid non-object %q: %v", in, err)
				}
			default:
				t.Fatalf("encoding/json accepts %q, CanonicalObject says %v", in, err)
			}
			return
		}
		if !json.Valid(in) || trimmed[0] != '{' {
			t.Fatalf("CanonicalObject accepts %q, which is not a JSON object", in)
		}
		again, err := wire.CanonicalObject(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, out, again, err)
		}
		var a, b any
		if err := json.Unmarshal(in, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &b); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("value changed: %q -> %q", in, out)
		}
	})
}

// FuzzBody checks that every body Body renders, nested or spread, is
// canonical: what a JavaScript receiver re-stringifies is what was signed.
func FuzzBody(f *testing.F) {
	f.Add([]byte(`{"b":1,"2":2,"0":3}`), "job.done")
	f.Add([]byte(`{"event":1}`), "x")
	f.Add([]byte(`{}`), "")
	f.Fuzz(func(t *testing.T, data []byte, typ string) {
		for _, env := range []hookd.EnvelopeConfig{
			hookd.DefaultProfile().Envelope,
			{TypeKey: "event", TimeKey: "timestamp", TimeFormat: hookd.TimeRFC3339},
			{TypeKey: "type", IDKey: "id", AppKey: "app"},
			{},
		} {
			body, err := wire.Body(env, wire.Event{ID: "msg_1", AppID: "app_1", Type: typ, Data: data})
			if err != nil {
				continue
			}
			c, err := wire.CanonicalObject(body)
			if err != nil || !bytes.Equal(c, body) {
				t.Fatalf("Body(%+v, %q) = %q is not canonical: %q, %v", env, data, body, c, err)
			}
		}
	})
}
