package sqlrow_test

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/hookd/hookd/store/internal/sqlrow"
)

func TestAppendHeadersDecodesToTheSameHeaders(t *testing.T) {
	t.Parallel()
	for _, h := range []map[string]string{
		nil,
		{},
		{"Webhook-Id": "evt_01", "Content-Type": "application/json"},
		{"X-Quote": `say "hi" \ bye`, "X-Ctl": "a\tb\nc\x00d\x7f", "X-Html": "<a href='x'>&amp;</a>", "X-Unicode": "héllo ☃ 𝄞 \u2028"},
		{"": ""},
	} {
		got := sqlrow.AppendHeaders([]byte("prefix"), h)
		body, ok := strings.CutPrefix(string(got), "prefix")
		if !ok {
			t.Fatalf("AppendHeaders dropped what dst held: %q", got)
		}
		var back map[string]string
		if err := json.Unmarshal([]byte(body), &back); err != nil {
			t.Fatalf("AppendHeaders(%v) = %s, not JSON: %v", h, body, err)
		}
		if len(h) == 0 && len(back) == 0 {
			continue
		}
		if !maps.Equal(back, h) {
			t.Errorf("AppendHeaders(%v) decodes to %v", h, back)
		}
	}
}

func TestAppendHeadersSortsKeys(t *testing.T) {
	t.Parallel()
	got := sqlrow.AppendHeaders(nil, map[string]string{"c": "3", "a": "1", "b": "2"})
	if want := `{"a":"1","b":"2","c":"3"}`; string(got) != want {
		t.Errorf("AppendHeaders = %s, want %s", got, want)
	}
}

func TestAppendHeadersReplacesInvalidUTF8(t *testing.T) {
	t.Parallel()
	got := sqlrow.AppendHeaders(nil, map[string]string{"X-Bad": "a\xffb"})
	var back map[string]string
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("AppendHeaders = %q, not JSON: %v", got, err)
	}
	if want := "a\ufffdb"; back["X-Bad"] != want {
		t.Errorf("X-Bad = %q, want %q (what json.Marshal writes)", back["X-Bad"], want)
	}
}
