package wire_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

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
			case len(trimmed) == 0 || trimmed[0] != '{':
				if !strings.Contains(msg, "must be a JSON object") && !strings.Contains(msg, "nested more than") {
					t.Fatalf("valid non-object %q: %v", in, err)
				}
			case strings.Contains(msg, "duplicate key"), strings.Contains(msg, "out of range"),
				strings.Contains(msg, "nested more than"):
			case strings.Contains(msg, "not valid UTF-8") && !utf8.Valid(in):
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
