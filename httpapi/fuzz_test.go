package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/service"
)

// decodeTargets are the request bodies the API decodes, each a fresh
// value to decode into.
var decodeTargets = map[string]func() any{
	"app":        func() any { return new(service.AppInput) },
	"key":        func() any { return new(service.KeyInput) },
	"event type": func() any { return new(service.EventTypeInput) },
	"webhook":    func() any { return new(service.WebhookInput) },
	"rotate":     func() any { return new(service.RotateInput) },
	"test":       func() any { return new(service.TestInput) },
	"recover":    func() any { return new(service.RecoverInput) },
	"publish":    func() any { return new(service.PublishInput) },
	"batch": func() any {
		return new(struct {
			Events []*service.PublishInput `json:"events"`
		})
	},
	"source": func() any { return new(service.SourceInput) },
	"verify": func() any { return new(verifyInput) },
	"object": func() any { return new(map[string]any) },
}

// FuzzDecode feeds arbitrary bytes to the request body decoder, into every
// input the API reads: it answers a 400 or 413 whose message says what is
// wrong with the request body, in valid UTF-8, on one line; and any JSON
// object encoding/json reads without complaint (no duplicate keys, valid
// UTF-8) decodes into a map.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"url":"https://example.com/hook","events":["a.b","job.*"],"name":"n","headers":{"X-A":"1"},"rate_limit":5,"metadata":{"k":"v"}}`,
		`{"type":"a.b","data":{"x":1,"y":[true,null,"\u0000"]},"idempotency_key":"k","webhook_url":"https://e.com/","webhook_events":["*"]}`,
		`{"events":[{"type":"a.b"},{"type":"a.b","data":{}}]}`,
		`{"name":"A","uid":"a","profile":{"signature":{"scheme":"stripe"}}}`,
		`{"grace_seconds":1e400}`,
		`{"rate_limit":1.5}`,
		`{"rate_limit":-1e20}`,
		`{"tolerance_seconds":"300"}`,
		`{"a":1,"a":2}`,
		"{\"\x00\":1}",
		"{\"name\":\"\xff\"}",
		`{"name":"\ud800"}`,
		`[{}]`,
		`{} {}`,
		`{"events":{"0":1}}`,
		strings.Repeat("[", 100) + strings.Repeat("]", 100),
		`{"x":` + strings.Repeat(`{"x":`, 200) + "1" + strings.Repeat("}", 201),
		"",
		"   ",
		"null",
		"nul",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for name, newValue := range decodeTargets {
			v := newValue()
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			err := decode(httptest.NewRecorder(), r, smallBody, v)
			if err != nil {
				checkDecodeError(t, name, body, err)
			}
		}
		if isPlainObject(body) {
			var m map[string]any
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			if err := decode(httptest.NewRecorder(), r, smallBody, &m); err != nil {
				t.Fatalf("a valid object %q does not decode: %v", body, err)
			}
		}
	})
}

func checkDecodeError(t *testing.T, name string, body []byte, err error) {
	t.Helper()
	code, msg := hookd.ErrorCode(err), hookd.ErrorMessage(err)
	if code != hookd.EINVALID && code != hookd.ETOOLARGE {
		t.Fatalf("%s: body %q: error code %s (%v), want %s or %s", name, body, code, err, hookd.EINVALID, hookd.ETOOLARGE)
	}
	if !strings.HasPrefix(msg, "request body") {
		t.Fatalf("%s: body %q: message %q does not say it is about the request body", name, body, msg)
	}
	if !utf8.ValidString(msg) || strings.ContainsAny(msg, "\x00\r\n") || len(msg) > 400 {
		t.Fatalf("%s: body %q: message %q is not one short line of text", name, body, msg)
	}
}

// isPlainObject reports whether body is one JSON object in valid UTF-8
// without duplicate keys at any depth, by encoding/json's reading.
func isPlainObject(body []byte) bool {
	if !utf8.Valid(body) || !json.Valid(body) {
		return false
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return false
	}
	d := json.NewDecoder(bytes.NewReader(body))
	return noDuplicates(d) && !surrogateEscape(body)
}

// surrogateEscape reports whether body escapes a UTF-16 surrogate, which
// encoding/json takes as U+FFFD where a lone one is invalid to the API's
// stricter decoder.
func surrogateEscape(body []byte) bool {
	lower := bytes.ToLower(body)
	for _, p := range []string{`\ud8`, `\ud9`, `\uda`, `\udb`, `\udc`, `\udd`, `\ude`, `\udf`} {
		if bytes.Contains(lower, []byte(p)) {
			return true
		}
	}
	return false
}

// noDuplicates reads one value from d and reports whether none of its
// objects repeats a key.
func noDuplicates(d *json.Decoder) bool {
	tok, err := d.Token()
	if err != nil {
		return false
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return true
	}
	seen := map[string]bool{}
	for d.More() {
		if delim == '{' {
			k, err := d.Token()
			if err != nil {
				return false
			}
			key := k.(string)
			if seen[key] {
				return false
			}
			seen[key] = true
		}
		if !noDuplicates(d) {
			return false
		}
	}
	_, err = d.Token()
	return err == nil
}

// FuzzPage feeds arbitrary ?after= and ?limit= values to the list
// paging: each either reads as a cursor and a limit in range, or answers
// a 400 naming the parameter; a cursor that passes is an id, which a
// store can compare with.
func FuzzPage(f *testing.F) {
	for _, s := range [][2]string{
		{"", ""},
		{"wh_01jab3c4d5e6f7g8h9j0k1m2n3", "50"},
		{"etp_01jab3c4d5e6f7g8h9j0k1m2n3", "1"},
		{"garbage", "-1"},
		{"'; DROP TABLE webhooks; --", "abc"},
		{"\x00", "250"},
		{"\xff\xfe", "251"},
		{"é", "1e2"},
		{strings.Repeat("a", 129), "0x10"},
		{"a b", " 5"},
		{"%00", "99999999999999999999"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, after, limit string) {
		q := url.Values{}
		if after != "" {
			q.Set("after", after)
		}
		if limit != "" {
			q.Set("limit", limit)
		}
		r := httptest.NewRequest(http.MethodGet, "/?"+q.Encode(), nil)
		p, err := page(r)
		if err != nil {
			msg := hookd.ErrorMessage(err)
			if hookd.ErrorCode(err) != hookd.EINVALID || !strings.HasPrefix(msg, "after ") && !strings.HasPrefix(msg, "limit ") {
				t.Fatalf("after=%q limit=%q: %v, want a 400 naming after or limit", after, limit, err)
			}
			return
		}
		if p.After != after {
			t.Fatalf("after=%q read as %q", after, p.After)
		}
		if p.Limit < 1 || p.Limit > maxLimit {
			t.Fatalf("limit=%q read as %d", limit, p.Limit)
		}
		if after != "" && !ident.Valid(after) {
			t.Fatalf("after=%q passes, which is no id", after)
		}
	})
}
