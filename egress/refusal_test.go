package egress_test

import (
	"strings"
	"testing"

	"github.com/hookd/hookd/egress"
)

// A refusal at dial time names the host as the URL gave it and says what
// kind of address it resolves to, never the address: the error is shown
// to the customer, and an internal name's address maps the operator's
// network.
func TestClientRefusalRevealsNoAddress(t *testing.T) {
	t.Parallel()
	srv, _ := newCountingServer(t)
	r := newResolver(t, names(map[string][]string{
		"loop.test":     {"127.0.0.1"},
		"internal.test": {"10.1.2.3"},
	}))
	proxy, _ := newProxy(t)
	for _, tc := range []struct {
		name, host string
		cfg        egress.Config
		addr       string
	}{
		{"dial time, loopback", "loop.test", egress.Config{Resolver: r}, "127.0.0.1"},
		{"dial time, private", "internal.test", egress.Config{Resolver: r}, "10.1.2.3"},
		{"through a proxy", "internal.test", egress.Config{Resolver: r, Proxy: proxy}, "10.1.2.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, tc.cfg)
			_, err := post(c, "http://"+tc.host+":"+srv.port+"/hook")
			assertBlocked(t, err)
			msg := err.Error()
			if strings.Contains(msg, tc.addr) {
				t.Errorf("error %q reveals the address %s", msg, tc.addr)
			}
			if want := "refused " + tc.host + ": it resolves to a private, loopback, link-local or otherwise not allowed address"; !strings.Contains(msg, want) {
				t.Errorf("error = %q, want it to say %q", msg, want)
			}
		})
	}
}
