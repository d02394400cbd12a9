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
