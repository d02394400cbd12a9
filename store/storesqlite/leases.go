package storesqlite

import (
	"sync"
	"time"
)

// leaseTable holds the embedded store's claims. Only one process opens the
// database, so a lease need not be written to it: a claim costs SQLite's
// single writer nothing, and a crash forgets every lease, which makes the
// deliveries due again at once on restart. The deliveries table's lease
// columns are left unused.
//
// Claims read the due rows on a reader connection, whose snapshot may
// predate the write that ended a lease (recording the attempt, a manual
// retry). So an ended lease is kept, with the number of the commit that
// ended it, until a claim starts whose snapshot is sure to hold that
// commit; until then claims skip the delivery as if it were still leased.
type leaseTable struct {
	mu    sync.Mutex
	live  map[string]lease  // by delivery id
	ended map[string]uint64 // by delivery id: the commit after which the lease ended
}

type lease struct {
	owner string
	until time.Time
}

func newLeaseTable() *leaseTable {
	return &leaseTable{live: map[string]lease{}, ended: map[string]uint64{}}
}

// held reports whether a live lease covers the delivery at now; a lease
// covers its last instant.
func (t *leaseTable) held(id string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	l, ok := t.live[id]
	return ok && !now.After(l.until)
}

// owner returns who holds or last held the delivery's lease, expired or
// not, until it is ended or taken by someone else; "" for nobody.
func (t *leaseTable) owner(id string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.live[id].owner
}

// skip returns the deliveries a claim must leave alone: those under a live
// lease at now, and those whose lease ended after commit number seen, the
// last the claim's snapshot is sure to hold. Expired leases and ended
// leases the snapshot covers are forgotten.
func (t *leaseTable) skip(now time.Time, seen uint64) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	ids := make([]string, 0, len(t.live)+len(t.ended))
	for id, l := range t.live {
		if now.After(l.until) {
			delete(t.live, id)
			continue
		}
		ids = append(ids, id)
	}
	for id, seq := range t.ended {
		if seq <= seen {
			delete(t.ended, id)
			continue
		}
		ids = append(ids, id)
	}
	return ids
}

// count returns how many leases are live at now.
func (t *leaseTable) count(now time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, l := range t.live {
		if !now.After(l.until) {
			n++
		}
	}
	return n
}

// take leases the delivery to owner.
func (t *leaseTable) take(id, owner string, until time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.live[id] = lease{owner: owner, until: until}
	delete(t.ended, id)
}

// end ends the leases of ids that owner holds, as of commit number seq.
func (t *leaseTable) end(owner string, ids []string, seq uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range ids {
		if l, ok := t.live[id]; ok && l.owner == owner {
			delete(t.live, id)
			t.ended[id] = seq
		}
	}
}

// clear ends the delivery's lease, whoever holds it, as of commit number
// seq.
func (t *leaseTable) clear(id string, seq uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.live[id]; ok {
		delete(t.live, id)
		t.ended[id] = seq
	}
}
