package deliver

import (
	"maps"
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
