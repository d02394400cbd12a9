package egress_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/egress"
)

// queryLog records the names a test resolver was asked for.
type queryLog struct {
	mu    sync.Mutex
	names map[string]int
}

func (q *queryLog) add(name string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.names == nil {
		q.names = map[string]int{}
	}
	q.names[name]++
}

func (q *queryLog) snapshot() map[string]int {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := map[string]int{}
	for k, v := range q.names {
		out[k] = v
	}
	return out
}

// countingResolver answers from table and logs every query.
func countingResolver(tb testing.TB, table map[string][]string) (*net.Resolver, *queryLog) {
	tb.Helper()
	log := &queryLog{}
	answer := names(table)
	return newResolver(tb, func(name string, qtype uint16) ([]netip.Addr, bool) {
		log.add(name)
		return answer(name, qtype)
	}), log
}

// silentResolver logs the names it is asked for and never answers.
func silentResolver(tb testing.TB) (*net.Resolver, *queryLog) {
	tb.Helper()
	log := &queryLog{}
	return newResolver(tb, func(name string, _ uint16) ([]netip.Addr, bool) {
		log.add(name)
		return nil, false
	}), log
}

// A batch of a thousand one-off destinations over three hosts asks the
// resolver about three names, and the refusal names the first field whose
// host resolves to a blocked address, without the address.
func TestCheckURLsResolvesEachHostOnce(t *testing.T) {
	t.Parallel()
	r, log := countingResolver(t, map[string][]string{
		"a.test":        {"93.184.216.34"},
		"b.test":        {"93.184.216.35"},
		"internal.test": {"10.1.2.3"},
	})
	hosts := []string{"a.test", "B.test", "b.test."}
	var urls []egress.URLField
	for i := range 1000 {
		urls = append(urls, egress.URLField{Field: fmt.Sprintf("events[%d].webhook_url", i), URL: "https://" + hosts[i%len(hosts)] + "/hook"})
	}
	if err := egress.CheckURLs(context.Background(), urls, false, r); err != nil {
		t.Fatalf("CheckURLs = %v, want nil", err)
	}
	urls[700].URL = "https://internal.test/hook"
	urls[900].URL = "https://internal.test/other"
	err := egress.CheckURLs(context.Background(), urls, false, r)
	const want = "events[700].webhook_url host resolves to a private, loopback or link-local address"
	if hookd.ErrorCode(err) != hookd.EINVALID || hookd.ErrorMessage(err) != want {
		t.Fatalf("CheckURLs = %v, want %q", err, want)
	}
	// Each name is asked for its A and AAAA records once per batch: two
	// batches, four queries.
	for name, n := range log.snapshot() {
		limit := 4
		if name == "internal.test" {
			limit = 2
		}
		if n > limit {
			t.Errorf("the resolver was asked %d times about %s, want at most %d: once per distinct host per batch", n, name, limit)
		}
	}
}

// All of a batch's lookups end within one CheckTimeout: a resolver that
// never answers is asked about every host at once, not one host per
// timeout.
func TestCheckURLsOneDeadlineForTheBatch(t *testing.T) {
	t.Parallel()
	r, log := silentResolver(t)
	const hosts = 12
	var urls []egress.URLField
	for i := range hosts {
		urls = append(urls, egress.URLField{Field: fmt.Sprintf("events[%d].webhook_url", i), URL: fmt.Sprintf("https://h%d.test/hook", i)})
	}
	start := time.Now()
	if err := egress.CheckURLs(context.Background(), urls, false, r); err != nil {
		t.Fatalf("CheckURLs = %v, want nil: a host that cannot be resolved is accepted", err)
	}
	// One after the other, the lookups would take a CheckTimeout each.
	if took := time.Since(start); took >= 3*egress.CheckTimeout {
		t.Fatalf("CheckURLs took %v for %d hosts that never resolve, want one deadline (%v) for all of them", took, hosts, egress.CheckTimeout)
	}
	asked := log.snapshot()
	for _, u := range urls {
		if name := u.URL[len("https://") : len(u.URL)-len("/hook")]; asked[name] == 0 {
			t.Errorf("the resolver was never asked about %s", name)
		}
	}
}
