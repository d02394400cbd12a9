package storepg_test

import (
	"sync"
	"testing"

	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/store/storepg"
)

// Processes that start together on a fresh database migrate it one at a
// time: every one of them succeeds.
func TestConcurrentMigrations(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = storepg.Migrate(t.Context(), url, nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migration %d of %d started together: %v", i+1, n, err)
		}
	}
}
