package storesqlite

import (
	"sync"
	"time"

	"github.com/hookd/hookd/store"
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
//
// A lease also keeps its delivery's rowid and due time as the claim found
// them, so that claims can pass over leased deliveries in the due index
// without reading their rows, and leave out those due before where they
// start looking.
type leaseTable struct {
	mu    sync.Mutex
	live  map[string]lease      // by delivery id
	ended map[string]endedLease // by delivery id
}

type lease struct {
	owner string
	until time.Time
	rowid int64
	due   int64 // Unix ms
	// ordered tells that the delivery's webhook is ordered: ending the
	// lease may release the webhook's next delivery.
	ordered bool
}

type endedLease struct {
	seq uint64 // the commit after which the lease ended
	lease
}

func newLeaseTable() *leaseTable {
	return &leaseTable{live: map[string]lease{}, ended: map[string]endedLease{}}
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

// skip returns the rowids of the deliveries due at or after from (Unix ms)
// that a claim must leave alone: those under a live lease at now, and
// those whose lease ended after commit number seen, the last the claim's
// snapshot is sure to hold. Expired leases and ended leases the snapshot
// covers are forgotten.
func (t *leaseTable) skip(now time.Time, seen uint64, from int64) []int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	rowids := make([]int64, 0, len(t.live)+len(t.ended))
	for id, l := range t.live {
		if now.After(l.until) {
			delete(t.live, id)
			continue
		}
		if l.due >= from {
			rowids = append(rowids, l.rowid)
		}
	}
	for id, e := range t.ended {
		if e.seq <= seen {
			delete(t.ended, id)
			continue
		}
		if e.due >= from {
			rowids = append(rowids, e.rowid)
		}
	}
	return rowids
}

// liveRowids returns the rowids of the deliveries under a live lease at now.
func (t *leaseTable) liveRowids(now time.Time) []int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	rowids := make([]int64, 0, len(t.live))
	for _, l := range t.live {
		if !now.After(l.until) {
			rowids = append(rowids, l.rowid)
		}
	}
	return rowids
}

// len returns how many leases the table holds, live or ended.
func (t *leaseTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.live) + len(t.ended)
}

// take records the lease of a delivery.
func (t *leaseTable) take(id string, l lease) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.live[id] = l
	delete(t.ended, id)
}

// takeFree records a claim's lease of a delivery unless a live lease at
// now covers it already (one a publish took, see HandTo), and reports
// whether it did.
func (t *leaseTable) takeFree(id string, l lease, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if held, ok := t.live[id]; ok && !now.After(held.until) {
		return false
	}
	t.live[id] = l
	delete(t.ended, id)
	return true
}

// end ends the leases of ids that owner holds, as of commit number seq,
// and reports whether one of them was of an ordered webhook's delivery.
func (t *leaseTable) end(owner string, ids []string, seq uint64) (ordered bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range ids {
		if l, ok := t.live[id]; ok && l.owner == owner {
			delete(t.live, id)
			t.ended[id] = endedLease{seq: seq, lease: l}
			ordered = ordered || l.ordered
		}
	}
	return ordered
}

// clear ends the delivery's lease, whoever holds it, as of commit number
// seq.
func (t *leaseTable) clear(id string, seq uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if l, ok := t.live[id]; ok {
		delete(t.live, id)
		t.ended[id] = endedLease{seq: seq, lease: l}
	}
}

// drop forgets the leases of jobs whose deliveries were never committed,
// or that claims are to take at once.
func (t *leaseTable) drop(jobs []*store.Job) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, j := range jobs {
		delete(t.live, j.Delivery.ID)
	}
}
