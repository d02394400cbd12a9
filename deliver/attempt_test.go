package deliver

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestRedactCustom(t *testing.T) {
	t.Parallel()
	custom := map[string]string{"Authorization": "Bearer tok_1", "X-Tenant": "acme", "webhook-signature": "mine"}
	logged := map[string]string{"Authorization": "Bearer tok_1", "X-Tenant": "acme", "webhook-signature": "v1,hookd's", "Content-Type": "application/json"}
	redactCustom(logged, custom)
	want := map[string]string{"Authorization": "[redacted]", "X-Tenant": "acme", "webhook-signature": "v1,hookd's", "Content-Type": "application/json"}
	if !maps.Equal(logged, want) {
		t.Fatalf("redactCustom = %v, want %v (hookd's own signature, which replaced the custom one, shown)", logged, want)
	}
}

func TestRedactEchoes(t *testing.T) {
	t.Parallel()
	custom := map[string]string{"Authorization": "Bearer tok_12345", "X-Api-Key": "key-6789", "X-Tenant": "acme-tenant", "X-Token": "abc"}
	tests := []struct{ body, want string }{
		{"Authorization: Bearer tok_12345\r\nX-Tenant: acme-tenant", "Authorization: [redacted]\r\nX-Tenant: acme-tenant"},
		{`{"token":"tok_12345"}`, `{"token":"[redacted]"}`},
		{"key-6789 and key-6789", "[redacted] and [redacted]"},
		{"abc is too short to hide", "abc is too short to hide"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := redactEchoes(tt.body, custom); got != tt.want {
			t.Errorf("redactEchoes(%q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestResponseHeaders(t *testing.T) {
	t.Parallel()
	custom := map[string]string{"Authorization": "Bearer tok_12345"}
	if got := responseHeaders(nil, custom); got != nil {
		t.Errorf("responseHeaders(nil) = %v, want nil", got)
	}
	h := http.Header{"Content-Type": {"text/plain"}, "Set-Cookie": {"a=1", "b=2"}, "X-Echo": {"Bearer tok_12345"}, "X-Bad\x00": {"v\xff"}}
	got := responseHeaders(h, custom)
	want := map[string]string{"Content-Type": "text/plain", "Set-Cookie": "a=1, b=2", "X-Echo": "[redacted]", "X-Bad\uFFFD": "v\uFFFD"}
	if !maps.Equal(got, want) {
		t.Errorf("responseHeaders = %q, want %q", got, want)
	}

	// Past the count cap, the first names in order are kept.
	many := http.Header{}
	for i := range 100 {
		many[fmt.Sprintf("X-H%03d", i)] = []string{"v"}
	}
	got = responseHeaders(many, nil)
	if len(got) != responseHeaderCount || got["X-H000"] != "v" || got[fmt.Sprintf("X-H%03d", responseHeaderCount-1)] != "v" {
		t.Errorf("responseHeaders of 100 headers kept %d (want the first %d by name): %v", len(got), responseHeaderCount, slices.Sorted(maps.Keys(got)))
	}

	// Past the byte cap, the header that crosses it is cut short and
	// nothing after it is kept.
	big := http.Header{"A": {strings.Repeat("a", 5000)}, "B": {strings.Repeat("b", 5000)}, "C": {"c"}}
	got = responseHeaders(big, nil)
	size := 0
	for k, v := range got {
		size += len(k) + len(v)
	}
	if size > responseHeaderBytes || len(got["A"]) != 5000 || len(got["B"]) == 0 || len(got["B"]) >= 5000 || got["C"] != "" {
		t.Errorf("responseHeaders of 10 KB kept %d bytes: A %d, B %d, C %q", size, len(got["A"]), len(got["B"]), got["C"])
	}
}
