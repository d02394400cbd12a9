package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// takerRecord is a Taker that takes every pending delivery it is offered
// but those of the webhooks in full, and records what it is handed and
// what it was asked to take.
type takerRecord struct {
	full   map[string]bool
	taken  []store.Candidate // what Take kept room for
	handed [][]string        // the delivery ids of each Hand
}

func (t *takerRecord) Offer(time.Time) store.Offer { return t }
func (t *takerRecord) Lease() (string, time.Time) {
	return "engine", time.Unix(100, 0)
}
func (t *takerRecord) Take(c store.Candidate) bool {
	if t.full[c.WebhookID] {
		return false
	}
	t.taken = append(t.taken, c)
	return true
}
func (t *takerRecord) Hand(_ context.Context, jobs []*store.Job) {
	ids := []string{}
	for _, j := range jobs {
		ids = append(ids, j.Delivery.ID)
	}
	t.handed = append(t.handed, ids)
}

// TestHandingHandsWhatCommitted follows a Handing through what the
// stores do with it: a publish rolled back to its savepoint (Mark, Undo),
// a transaction run again from its start (Reset), a commit that failed, and
// a resolver that failed. Only the jobs of a commit that succeeded are
// handed, once each, and Hand is called once whatever happened.
func TestHandingHandsWhatCommitted(t *testing.T) {
	t.Parallel()
	ev := &hookd.Event{ID: "evt_1", Type: "a", Payload: []byte(`{}`)}
	route := hookd.Route{WebhookID: "wh_1", Status: hookd.DeliveryPending}
	now := time.Unix(50, 0)
	resolveAll := func(_ context.Context, jobs []*store.Job) ([]*store.Job, error) { return jobs, nil }
	take := func(h *store.Handing, id string) {
		t.Helper()
		if got := h.TakeRoute(id, "app_1", ev, route, now, nil); got != store.RouteTaken {
			t.Fatalf("delivery %s not taken: %v", id, got)
		}
	}

	tests := []struct {
		name      string
		run       func(h *store.Handing)
		committed bool
		resolve   store.Resolver
		want      []string
		wantErr   bool
	}{
		{
			name:      "committed",
			run:       func(h *store.Handing) { take(h, "dlv_1"); take(h, "dlv_2") },
			committed: true, resolve: resolveAll,
			want: []string{"dlv_1", "dlv_2"},
		},
		{
			name: "a publish rolled back to its savepoint",
			run: func(h *store.Handing) {
				take(h, "dlv_1")
				h.Mark()
				take(h, "dlv_2")
				take(h, "dlv_3")
				if undone := h.Undo(); len(undone) != 2 || undone[0].Delivery.ID != "dlv_2" || undone[1].Delivery.ID != "dlv_3" {
					t.Errorf("Undo returned %d jobs, want dlv_2 and dlv_3", len(undone))
				}
				take(h, "dlv_4")
			},
			committed: true, resolve: resolveAll,
			want: []string{"dlv_1", "dlv_4"},
		},
		{
			name: "a transaction run again",
			run: func(h *store.Handing) {
				take(h, "dlv_1")
				take(h, "dlv_2")
				h.Reset()
				take(h, "dlv_3")
			},
			committed: true, resolve: resolveAll,
			want: []string{"dlv_3"},
		},
		{
			name:      "a commit that failed",
			run:       func(h *store.Handing) { take(h, "dlv_1") },
			committed: false, resolve: resolveAll,
			want: []string{},
		},
		{
			name: "a resolver that failed",
			run:  func(h *store.Handing) { take(h, "dlv_1") },
			resolve: func(context.Context, []*store.Job) ([]*store.Job, error) {
				return nil, errors.New("database gone")
			},
			committed: true, want: []string{}, wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			taker := &takerRecord{}
			h := store.NewHanding(taker, now, tt.resolve)
			tt.run(h)
			err := h.Done(t.Context(), tt.committed)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Done: error %v, want one: %t", err, tt.wantErr)
			}
			if len(taker.handed) != 1 {
				t.Fatalf("Hand called %d times, want once", len(taker.handed))
			}
			if !slices.Equal(taker.handed[0], tt.want) {
				t.Errorf("handed %v, want %v", taker.handed[0], tt.want)
			}
			if tt.wantErr && !slices.Equal(jobIDs(h.Jobs()), []string{"dlv_1"}) {
				// The caller sees to them: they are written leased.
				t.Errorf("after a failed resolve, Jobs() = %v, want dlv_1", jobIDs(h.Jobs()))
			}
		})
	}
}

func jobIDs(jobs []*store.Job) []string {
	ids := []string{}
	for _, j := range jobs {
		ids = append(ids, j.Delivery.ID)
	}
	return ids
}

// A nil Handing (no taker, or no room) takes nothing and hands nothing.
func TestNilHandingTakesNothing(t *testing.T) {
	t.Parallel()
	var h *store.Handing = store.NewHanding(nil, time.Now(), nil)
	if h != nil {
		t.Fatal("NewHanding without a taker made a Handing")
	}
	ev := &hookd.Event{ID: "evt_1"}
	if got := h.TakeRoute("dlv_1", "app_1", ev, hookd.Route{WebhookID: "wh_1", Status: hookd.DeliveryPending}, time.Now(), nil); got != store.RouteClaim {
		t.Errorf("a nil Handing made %v of a pending delivery, want RouteClaim", got)
	}
	if got := h.TakeRoute("dlv_2", "app_1", ev, hookd.Route{WebhookID: "wh_1", Status: hookd.DeliveryHeld}, time.Now(), nil); got != store.RouteHeld {
		t.Errorf("a nil Handing made %v of a held delivery, want RouteHeld", got)
	}
	h.Mark()
	h.Reset()
	if len(h.Undo()) != 0 || len(h.Jobs()) != 0 {
		t.Error("a nil Handing holds jobs")
	}
	if err := h.Done(t.Context(), true); err != nil {
		t.Errorf("Done on a nil Handing: %v", err)
	}
}

// Held deliveries (a paused webhook's) are not offered, and an ordered
// webhook's stay for claims: they go one at a time, oldest first. Test
// events go to an ordered webhook regardless, as claims send them. What
// the taker turns down is its to claim.
func TestHandingLeavesHeldAndOrderedToClaims(t *testing.T) {
	t.Parallel()
	taker := &takerRecord{full: map[string]bool{"wh_full": true}}
	now := time.Unix(50, 0)
	h := store.NewHanding(taker, now, func(_ context.Context, jobs []*store.Job) ([]*store.Job, error) { return jobs, nil })
	ev := &hookd.Event{ID: "evt_1"}
	test := &hookd.Event{ID: "evt_2", Test: true}
	ordered := map[string]bool{"wh_ordered": true}
	for _, c := range []struct {
		id   string
		ev   *hookd.Event
		r    hookd.Route
		want store.Taking
	}{
		{"dlv_held", ev, hookd.Route{WebhookID: "wh_1", Status: hookd.DeliveryHeld}, store.RouteHeld},
		{"dlv_ordered", ev, hookd.Route{WebhookID: "wh_ordered", Status: hookd.DeliveryPending}, store.RouteClaim},
		{"dlv_ordered_test", test, hookd.Route{WebhookID: "wh_ordered", Status: hookd.DeliveryPending}, store.RouteTaken},
		{"dlv_one_off", ev, hookd.Route{URL: "https://example.com/", Status: hookd.DeliveryPending}, store.RouteTaken},
		{"dlv_turned_down", ev, hookd.Route{WebhookID: "wh_full", Status: hookd.DeliveryPending}, store.RouteTurnedDown},
	} {
		if got := h.TakeRoute(c.id, "app_1", c.ev, c.r, now, ordered); got != c.want {
			t.Errorf("%s: %v, want %v", c.id, got, c.want)
		}
	}
	if err := h.Done(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	if want := []string{"dlv_ordered_test", "dlv_one_off"}; len(taker.handed) != 1 || !slices.Equal(taker.handed[0], want) {
		t.Errorf("handed %v, want %v", taker.handed, want)
	}
	// The taker is told whose each delivery is and, for a one-off,
	// where it goes: its room is shared by app and by host.
	want := []store.Candidate{{AppID: "app_1", WebhookID: "wh_ordered"}, {AppID: "app_1", URL: "https://example.com/"}}
	if !slices.Equal(taker.taken, want) {
		t.Errorf("room kept for %+v, want %+v", taker.taken, want)
	}
}
