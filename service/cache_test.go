package service

import (
	"errors"
	"testing"
	"time"
)

func TestShortCache(t *testing.T) {
	c := newShortCache[int](time.Second)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	loads := 0
	load := func(v int) func() (int, error) {
		return func() (int, error) { loads++; return v, nil }
	}
	get := func(now time.Time, v int) int {
		t.Helper()
		got, err := c.get("k", now, load(v))
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		return got
	}

	if got := get(t0, 1); got != 1 || loads != 1 {
		t.Fatalf("first get: %d after %d loads, want 1 after 1", got, loads)
	}
	if got := get(t0.Add(999*time.Millisecond), 2); got != 1 || loads != 1 {
		t.Errorf("within the ttl: %d after %d loads, want the kept 1 after 1", got, loads)
	}
	if got := get(t0.Add(time.Second), 3); got != 3 || loads != 2 {
		t.Errorf("at the ttl: %d after %d loads, want a fresh 3 after 2", got, loads)
	}
	c.clear()
	if got := get(t0.Add(time.Second), 4); got != 4 || loads != 3 {
		t.Errorf("after clear: %d after %d loads, want a fresh 4 after 3", got, loads)
	}

	// A value loaded across a clear is not kept.
	c.clear()
	if _, err := c.get("k", t0, func() (int, error) { c.clear(); return 5, nil }); err != nil {
		t.Fatal(err)
	}
	if got := get(t0, 6); got != 6 {
		t.Errorf("after a load that raced a clear: %d, want a fresh 6", got)
	}

	// Errors are not kept.
	boom := errors.New("boom")
	if _, err := c.get("e", t0, func() (int, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Errorf("load error: %v, want boom", err)
	}
	if got, _ := c.get("e", t0, load(7)); got != 7 {
		t.Errorf("after an error: %d, want a fresh 7", got)
	}
}
