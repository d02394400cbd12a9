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
// value (as encoding/json decodes it), agrees with encoding/json on what
// is valid JSON, save for its documented extra refusals, and writes what
// JSON.stringify(JSON.parse(x)) writes (jsStringify, an independent model).
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
		js, ok, err := jsStringify(in)
		if err != nil {
			t.Fatalf("the JavaScript model cannot read %q, which CanonicalObject accepts: %v", in, err)
		}
		if ok && !bytes.Equal(js, out) {
			t.Fatalf("CanonicalObject(%q) = %q, JSON.stringify(JSON.parse(x)) = %q", in, out, js)
		}
	})
}

// FuzzBody checks that every body Body renders, nested or spread, is
// canonical and valid JSON: what a JavaScript receiver re-stringifies is
// what was signed, and it carries the event's type and data.
func FuzzBody(f *testing.F) {
	f.Add([]byte(`{"b":1,"2":2,"0":3}`), "job.done")
	f.Add([]byte(`{"event":1}`), "x")
	f.Add([]byte(`{}`), "")
	f.Add([]byte(`{"z":1,"10":"a","2":[1e21,1e-7,-0],"type":"clash"}`), "a\u2028<b>")
	f.Add([]byte(`{"s":"\u0000\ud800\udc00\n","4294967295":0,"4294967294":1}`), "t\x00")
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
			checkEnvelope(t, env, typ, data, body)
		}
	})
}

// checkEnvelope checks a rendered body against the JavaScript model and
// that it holds the type under the type key and the data, under the data
// key or spread at the top level.
func checkEnvelope(t *testing.T, env hookd.EnvelopeConfig, typ string, data, body []byte) {
	t.Helper()
	js, ok, err := jsStringify(body)
	if err != nil {
		t.Fatalf("Body wrote %q, which is not JSON: %v", body, err)
	}
	if ok && !bytes.Equal(js, body) {
		t.Fatalf("Body wrote %q, JSON.stringify(JSON.parse(body)) = %q", body, js)
	}
	var got, want map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("Body wrote %q: %v", body, err)
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatalf("Body accepted data %q: %v", data, err)
	}
	if env.TypeKey != "" && got[env.TypeKey] != typ {
		t.Fatalf("Body(%q) has %s %v, want %q", body, env.TypeKey, got[env.TypeKey], typ)
	}
	if env.DataKey != "" {
		if !reflect.DeepEqual(got[env.DataKey], want) {
			t.Fatalf("Body(%q) has %s %v, want %v", body, env.DataKey, got[env.DataKey], want)
		}
		return
	}
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			t.Fatalf("spread Body(%q) has %s %v, want %v", body, k, got[k], v)
		}
	}
}
