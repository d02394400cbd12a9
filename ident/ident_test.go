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

func TestValid(t *testing.T) {
	t.Parallel()
	g := New(nil)
	for _, p := range []string{"app", "wh", "evt", "dlv", "key", "etp", "src"} {
		if id := g.New(p); !Valid(id) {
			t.Errorf("Valid(%q) = false for an id New made", id)
		}
	}
	if id := Floor("evt", time.Unix(0, 0)); !Valid(id) {
		t.Errorf("Valid(%q) = false for a floor", id)
	}
	for _, id := range []string{
		"", "garbage", "wh_", "_01jab3c4d5e6f7g8h9j0k1m2n3", "wh01jab3c4d5e6f7g8h9j0k1m2n3",
		"wh_01JAB3C4D5E6F7G8H9J0K1M2N3", // upper case: New writes lower
		"wh_01jab3c4d5e6f7g8h9j0k1m2n",  // 25 characters
		"wh_01jab3c4d5e6f7g8h9j0k1m2n3x",
		"wh_01jab3c4d5e6f7g8h9j0k1m2nu", // u is not Crockford base32
		"wh_81jab3c4d5e6f7g8h9j0k1m2n3", // beyond the largest ULID
		"w-h_01jab3c4d5e6f7g8h9j0k1m2n3", "wh_01jab3c4d5e6f7g8h9j0k1m2n\x00",
		"abcdefghijklmnopq_01jab3c4d5e6f7g8h9j0k1m2n3",
	} {
		if Valid(id) {
			t.Errorf("Valid(%q) = true", id)
		}
	}
}
