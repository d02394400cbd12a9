package hookd_test

import (
	"maps"
	"testing"

	"github.com/hookd/hookd"
)

func TestCredentialHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want bool
	}{
		{"Authorization", true},
		{"authorization", true},
		{"Proxy-Authorization", true},
		{"Cookie", true},
		{"COOKIE", true},
		{"X-Api-Key", true},
		{"X-API-KEY", true},
		{"Api-Key", true},
		{"X-Auth", true},
		{"X-Auth-Token", true},
		{"X-Access-Token", true},
		{"X-Client-Secret", true},
		{"X-Password", true},
		{"DB-PASSWORD", true},
		{"X-Signature", true},
		{"X-Hub-Signature-256", true},
		{"X-Oauth-Client", true},
		{"Monkey", true}, // by the rule, a name containing "key"
		{"X-Tenant", false},
		{"Accept", false},
		{"X-Request-Id", false},
		{"X-Cookies-Accepted", false}, // Cookie is matched whole
		{"Set-Cookie", false},
		{"X-Trace", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := hookd.CredentialHeader(tt.name); got != tt.want {
			t.Errorf("CredentialHeader(%q) = %t, want %t", tt.name, got, tt.want)
		}
	}
}

func TestRedactHeaders(t *testing.T) {
	t.Parallel()
	in := map[string]string{"Authorization": "Bearer sk_live_1", "X-Api-Key": "k1", "X-Tenant": "acme"}
	want := map[string]string{"Authorization": "[redacted]", "X-Api-Key": "[redacted]", "X-Tenant": "acme"}
	if got := hookd.RedactHeaders(in); !maps.Equal(got, want) {
		t.Fatalf("RedactHeaders = %v, want %v", got, want)
	}
	if in["Authorization"] != "Bearer sk_live_1" {
		t.Fatal("RedactHeaders changed its input")
	}
	if hookd.RedactHeaders(nil) != nil {
		t.Fatal("RedactHeaders(nil) is not nil")
	}
}
