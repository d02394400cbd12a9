package ident

import (
	"strings"
	"testing"
	"time"
)

func TestIDsSortInCreationOrder(t *testing.T) {
	t.Parallel()
	fixed := time.Unix(1700000000, 0)
	g := New(func() time.Time { return fixed })
	prev := ""
	for i := 0; i < 1000; i++ {
		id := g.New("evt")
		if !strings.HasPrefix(id, "evt_") || len(id) != 30 {
			t.Fatalf("id %q has the wrong shape", id)
		}
		if id <= prev {
			t.Fatalf("id %q does not sort after %q", id, prev)
		}
		prev = id
	}
}

func TestFloorSplitsIDsByTheirTime(t *testing.T) {
	t.Parallel()
	at := time.Date(2030, 3, 4, 5, 6, 7, 891_500_000, time.UTC) // half a millisecond in
	floor := Floor("evt", at)
	for _, tc := range []struct {
		made  time.Time
		below bool
	}{
		{at.Add(-time.Hour), true},
		{at.Truncate(time.Millisecond).Add(-time.Nanosecond), true},
		{at.Truncate(time.Millisecond), false}, // the same millisecond
		{at, false},
		{at.Add(time.Millisecond), false},
		{at.Add(24 * time.Hour), false},
	} {
		g := New(func() time.Time { return tc.made })
		for range 100 {
			id := g.New("evt")
			if below := id < floor; below != tc.below {
				t.Fatalf("id %s made at %s sorts below Floor(%s) = %s: %v, want %v", id, tc.made, at, floor, below, tc.below)
			}
		}
	}
	if got := Floor("evt", at); !strings.HasPrefix(got, "evt_") || len(got) != 30 {
		t.Errorf("Floor = %q, not an id's shape", got)
	}
}
