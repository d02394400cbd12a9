package retention_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookd/hookd/retention"
	"github.com/hookd/hookd/store"
)

// statsStore records what a StatsPruner asks of the store, and has rows
// of each resolution to delete.
type statsStore struct {
	left  map[int]int // rows left per resolution
	calls []string
}

func (s *statsStore) PruneStats(_ context.Context, res int, before time.Time, limit int) (int, error) {
	n := min(limit, s.left[res])
	s.left[res] -= n
	s.calls = append(s.calls, before.UTC().Format(time.RFC3339))
	return n, nil
}

// TestStatsPassPrunesEachResolutionInBatches: a pass deletes minute rows
// older than Minutes and hour rows older than Hours, a batch at a time
// until a batch comes back short.
func TestStatsPassPrunesEachResolutionInBatches(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)
	st := &statsStore{left: map[int]int{store.StatsMinute: 5, store.StatsHour: 2}}
	p := retention.NewStats(st, nil, retention.StatsConfig{Batch: 2, Pause: time.Millisecond, Now: func() time.Time { return now }})
	n, err := p.Pass(context.Background())
	if err != nil || n != 7 {
		t.Fatalf("Pass = %d, %v; want 7 rows", n, err)
	}
	minute, hour := now.Add(-48*time.Hour).Format(time.RFC3339), now.Add(-90*24*time.Hour).Format(time.RFC3339)
	want := []string{minute, minute, minute, hour, hour}
	if len(st.calls) != len(want) {
		t.Fatalf("calls %v, want %v", st.calls, want)
	}
	for i := range want {
		if st.calls[i] != want[i] {
			t.Fatalf("calls %v, want %v", st.calls, want)
		}
	}
}
