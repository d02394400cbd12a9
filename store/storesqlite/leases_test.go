package storesqlite

import (
	"testing"
	"time"
)

// TestClaimLeavesLiveLeasesAlone checks that a claim's lease never
// replaces a live one (a publish's, taken while the claim read), and
// replaces one that ran out.
func TestClaimLeavesLiveLeasesAlone(t *testing.T) {
	t.Parallel()
	now := time.Now()
	leases := newLeaseTable()
	leases.take("dlv_1", lease{owner: "publisher", until: now.Add(time.Minute), rowid: 1})
	if leases.takeFree("dlv_1", lease{owner: "claim", until: now.Add(time.Minute), rowid: 1}, now) {
		t.Error("a claim took a delivery under a live lease")
	}
	if got := leases.owner("dlv_1"); got != "publisher" {
		t.Errorf("lease owner = %q, want publisher", got)
	}
	if !leases.takeFree("dlv_1", lease{owner: "claim", until: now.Add(3 * time.Minute), rowid: 1}, now.Add(2*time.Minute)) {
		t.Error("a claim did not take a delivery whose lease ran out")
	}
	if !leases.takeFree("dlv_2", lease{owner: "claim", until: now.Add(time.Minute), rowid: 2}, now) {
		t.Error("a claim did not take an unleased delivery")
	}
}
