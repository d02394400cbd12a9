package egress_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/hookd/hookd/internal/dnstest"
)

// The egress tests' names for dnstest's helpers.
var (
	newResolver = dnstest.NewResolver
	names       = dnstest.Names
)

func TestTestResolver(t *testing.T) {
	t.Parallel()
	r := newResolver(t, names(map[string][]string{"hook.test": {"127.0.0.1", "::1"}}))
	got, err := r.LookupNetIP(context.Background(), "ip", "hook.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("LookupNetIP(hook.test) = %v, want 127.0.0.1 and ::1", got)
	}
	_, err = r.LookupNetIP(context.Background(), "ip", "missing.test")
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Fatalf("LookupNetIP(missing.test) error = %v, want not found", err)
	}
}
