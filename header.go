package hookd

import "strings"

// Redacted stands in for a credential header's value wherever hookd shows
// one: webhook reads and attempts' request headers.
const Redacted = "[redacted]"

// credentialWords are the parts of a header name that mark its value as
// a credential, wherever they appear in the name.
var credentialWords = []string{"token", "secret", "key", "auth", "password", "signature"}

// CredentialHeader reports whether a custom header's value carries a
// credential, by its name alone, without regard to case: Authorization,
// Proxy-Authorization, Cookie, and any name containing token, secret,
// key, auth, password or signature. Such values are stored encrypted and
// shown as [Redacted]. This is the one place the rule lives.
func CredentialHeader(name string) bool {
	lower := strings.ToLower(name)
	switch lower {
	case "authorization", "proxy-authorization", "cookie":
		return true
	}
	for _, w := range credentialWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// RedactHeaders returns a copy of h in which every credential header's
// value is [Redacted]; nil stays nil.
func RedactHeaders(h map[string]string) map[string]string {
	if h == nil {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		if CredentialHeader(k) {
			v = Redacted
		}
		out[k] = v
	}
	return out
}
