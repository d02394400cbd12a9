package egress_test

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/egress"
)

func TestCheckURL(t *testing.T) {
	t.Parallel()
	r := newResolver(t, names(map[string][]string{
		"public.test":   {"93.184.216.34"},
		"loopback.test": {"127.0.0.1", "::1"},
		"internal.test": {"10.0.0.7"},
		"mixed.test":    {"10.0.0.7", "93.184.216.34"},
	}))
	const blocked = "url must not point to a private, loopback or link-local address"
	// A name's refusal says what it resolves to, never the address.
	const resolvesBlocked = "url host resolves to a private, loopback or link-local address"
	long := "https://example.com/" + strings.Repeat("a", egress.MaxURLLength-len("https://example.com/"))
	tests := []struct {
		name         string
		raw          string
		allowPrivate bool
		want         string // the error message, "" for accepted
	}{
		{"https literal", "https://93.184.216.34/hook", false, ""},
		{"https literal with port", "https://93.184.216.34:8443/hook?x=1", false, ""},
		{"public IPv6 literal", "https://[2606:4700:4700::1111]/", false, ""},
		{"empty", "", false, "url is required"},
		{"http", "http://93.184.216.34/hook", false, "url must be https"},
		{"http allowed", "http://93.184.216.34/hook", true, ""},
		{"ftp", "ftp://93.184.216.34/hook", false, "url must be https"},
		{"ftp allowPrivate", "ftp://93.184.216.34/hook", true, "url must be http or https"},
		{"relative", "/hooks/1", false, "url must be an absolute URL"},
		{"no scheme", "example.com/hook", false, "url must be an absolute URL"},
		{"opaque", "https:example.com", false, "url must be an absolute URL"},
		{"no host", "https:///hook", false, "url must have a host"},
		{"bad port", "https://93.184.216.34:99999/", false, "url has an invalid port"},
		{"zero port", "https://93.184.216.34:0/", false, "url has an invalid port"},
		{"unparsable", "https://exa mple.com/", false, "url is not a valid URL"},
		{"max length", long, false, ""},
		{"too long", long + "a", false, "url must be at most 2048 characters"},
		{"userinfo", "https://user:pass@93.184.216.34/", false, "url must not contain a user name or password"},
		{"user only", "https://user@93.184.216.34/", false, "url must not contain a user name or password"},
		{"loopback", "https://127.0.0.1/hook", false, blocked},
		{"loopback allowed", "http://127.0.0.1:8080/hook", true, ""},
		{"IPv6 loopback", "https://[::1]/hook", false, blocked},
		{"IPv4-mapped loopback", "https://[::ffff:127.0.0.1]/hook", false, blocked},
		{"private", "https://10.1.2.3/hook", false, blocked},
		{"metadata", "https://169.254.169.254/latest/meta-data/", false, blocked},
		{"CGNAT", "https://100.64.0.1/hook", false, blocked},
		{"unspecified", "https://0.0.0.0/", false, blocked},
		{"link-local with zone", "https://[fe80::1%25eth0]/", false, blocked},
		{"localhost", "https://localhost/hook", false, blocked},
		{"localhost upper case and dot", "https://LOCALHOST./hook", false, blocked},
		{"sub.localhost", "https://api.localhost:3000/hook", false, blocked},
		{"localhost allowed", "http://localhost:3000/hook", true, ""},
		{"IPv4 shorthand", "https://127.1/", false, "url has an invalid host"},
		{"IPv4 decimal", "https://2130706433/", false, "url has an invalid host"},
		{"IPv4 hex", "https://0x7f000001/", false, "url has an invalid host"},
		{"IPv4 octal", "https://0177.0.0.1/", false, "url has an invalid host"},
		{"name resolving to loopback", "https://loopback.test/hook", false, resolvesBlocked},
		{"name resolving to private", "https://internal.test/hook", false, resolvesBlocked},
		{"name resolving to private allowed", "https://internal.test/hook", true, ""},
		{"name resolving to public", "https://public.test/hook", false, ""},
		{"name resolving partly public", "https://mixed.test/hook", false, ""},
		{"name that does not resolve", "https://missing.test/hook", false, ""},
		{"name with digits", "https://1.example.test/hook", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := egress.CheckURL(context.Background(), "url", tt.raw, tt.allowPrivate, r)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckURL(%q) = %v, want nil", tt.raw, err)
				}
				return
			}
			if code := hookd.ErrorCode(err); code != hookd.EINVALID {
				t.Fatalf("CheckURL(%q) = %v, want code %s", tt.raw, err, hookd.EINVALID)
			}
			if msg := hookd.ErrorMessage(err); msg != tt.want {
				t.Fatalf("CheckURL(%q) message = %q, want %q", tt.raw, msg, tt.want)
			}
		})
	}
}

func TestCheckURLNamesField(t *testing.T) {
	t.Parallel()
	err := egress.CheckURL(context.Background(), "forward_url", "http://93.184.216.34/", false, nil)
	if got, want := hookd.ErrorMessage(err), "forward_url must be https"; got != want {
		t.Fatalf("message = %q, want %q", got, want)
	}
}

// A resolver that cannot be reached makes CheckURL accept: the dial-time
// guard still refuses a blocked address when a delivery is made.
func TestCheckURLResolutionFailureAccepts(t *testing.T) {
	t.Parallel()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close() // nothing answers there now
	r := &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", addr)
		},
	}
	if err := egress.CheckURL(context.Background(), "url", "https://unreachable.test/", false, r); err != nil {
		t.Fatalf("CheckURL = %v, want nil when resolution fails", err)
	}
}

// DNS rebinding: the name is public when checked and loopback when dialled.
// CheckURL accepts it; the client's dial-time guard refuses it.
func TestDNSRebinding(t *testing.T) {
	t.Parallel()
	srv, hits := newCountingServer(t)
	var queries atomic.Int32
	r := newResolver(t, func(name string, qtype uint16) ([]netip.Addr, bool) {
		if name != "rebind.test" {
			return nil, false
		}
		if qtype != 1 {
			return nil, true
		}
		if queries.Add(1) == 1 {
			return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, true
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, true
	})
	raw := "https://rebind.test:" + srv.port + "/hook"
	if err := egress.CheckURL(context.Background(), "url", raw, false, r); err != nil {
		t.Fatalf("CheckURL at create time = %v, want nil", err)
	}
	c := newClient(t, egress.Config{Resolver: r})
	_, err := post(c, "http://rebind.test:"+srv.port+"/hook")
	assertBlocked(t, err)
	if n := hits.Load(); n != 0 {
		t.Fatalf("server saw %d requests, want 0", n)
	}
}
