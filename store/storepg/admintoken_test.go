package storepg_test

import (
	"fmt"
	"sync"
	"testing"
)

// Stores offering admin token hashes at once all end with the one stored;
// setting one replaces it.
func TestAdminTokenHashOneForAll(t *testing.T) {
	t.Parallel()
	url, st, _ := freshStore(t)
	other := openOn(t, url)
	const n = 8
	got := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := st
			if i%2 == 1 {
				s = other
			}
			got[i], errs[i] = s.OfferAdminTokenHash(t.Context(), fmt.Sprintf("hash-%d", i))
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("offer %d: %v", i, errs[i])
		}
		if got[i] != got[0] {
			t.Fatalf("offers answered %q, want one hash for all", got)
		}
	}
	if err := other.SetAdminTokenHash(t.Context(), "hash-set"); err != nil {
		t.Fatal(err)
	}
	if stored, err := st.OfferAdminTokenHash(t.Context(), "hash-late"); err != nil || stored != "hash-set" {
		t.Fatalf("offer after a set = %q, %v, want the set hash", stored, err)
	}
}
