package retention_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/retention"
	"github.com/hookd/hookd/seal"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/storesqlite"
)

// TestPassDeletesOldFinishedEventsInBatches runs a pass over a real store:
// events older than the retention without open deliveries go, in batches;
// newer ones stay.
func TestPassDeletesOldFinishedEventsInBatches(t *testing.T) {
	t.Parallel()
	key := make([]byte, seal.KeySize)
	rand.Read(key)
	sealer, _ := seal.New(key)
	ids := ident.New(nil)
	st, err := storesqlite.Open(t.Context(), storesqlite.Config{Path: filepath.Join(t.TempDir(), "hookd.db"), Sealer: sealer, NewID: ids.New})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	now := time.Date(2030, 1, 31, 0, 0, 0, 0, time.UTC)
	app := &hookd.App{ID: ids.New("app"), Name: "r", Profile: hookd.DefaultProfile(), DefaultSecret: "s", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	publish := func(at time.Time, n int) {
		p := &store.PublishParams{AppID: app.ID, Now: at}
		for range n {
			p.Events = append(p.Events, &store.PublishEvent{Event: &hookd.Event{ID: ids.New("evt"), AppID: app.ID, Type: "x",
				Data: []byte(`{}`), Payload: []byte(`{}`), CreatedAt: at}})
		}
		if _, err := st.Publish(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	publish(now.Add(-40*24*time.Hour), 7) // no webhooks: finished at once
	publish(now.Add(-time.Hour), 3)

	p := retention.New(st, nil, retention.Config{MaxAge: 30 * 24 * time.Hour, Batch: 2, Pause: time.Millisecond, Now: func() time.Time { return now }})
	n, err := p.Pass(ctx)
	if err != nil || n != 7 {
		t.Fatalf("Pass = %d, %v; want 7 old events deleted", n, err)
	}
	left, _, err := st.ListEvents(ctx, store.EventFilter{AppID: app.ID}, store.Page{Limit: 50})
	if err != nil || len(left) != 3 {
		t.Fatalf("events left = %d, %v; want the 3 recent ones", len(left), err)
	}
	if n, err := p.Pass(ctx); err != nil || n != 0 {
		t.Errorf("second Pass = %d, %v; want nothing left to delete", n, err)
	}
}
