package storesqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/seal"
	"github.com/hookd/hookd/store"
)

// takeAll is a store.Taker that takes every delivery offered.
type takeAll struct{}

func (takeAll) Offer(now time.Time) store.Offer { return takeAllOffer{until: now.Add(time.Minute)} }

type takeAllOffer struct{ until time.Time }

func (o takeAllOffer) Lease() (string, time.Time)       { return "engine", o.until }
func (takeAllOffer) Take(store.Candidate) bool          { return true }
func (takeAllOffer) Hand(context.Context, []*store.Job) {}

// TestPublishLeasesTheRowsItWrote checks the rowids a publish gives its
// handed deliveries' leases (claims pass over leased rows by rowid) against
// the rows in the table, across publishes of several multi-row statements
// and a publish that failed and was rolled back between them.
func TestPublishLeasesTheRowsItWrote(t *testing.T) {
	t.Parallel()
	sealer, err := seal.New(make([]byte, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	ids := ident.New(nil)
	s, err := Open(t.Context(), Config{Path: filepath.Join(t.TempDir(), "hookd.db"), Sealer: sealer, NewID: ids.New})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx, now := t.Context(), time.Now()
	app := &hookd.App{ID: ids.New("app"), Name: "a", Profile: hookd.DefaultProfile(), DefaultSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		w := &hookd.Webhook{ID: ids.New("wh"), AppID: app.ID, URL: "https://example.com/hook", Events: []string{"*"},
			Status: hookd.WebhookActive, Secret: app.DefaultSecret, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateWebhook(ctx, w, 0); err != nil {
			t.Fatal(err)
		}
	}
	s.HandTo(takeAll{})
	// publish publishes n events to both webhooks, and then one to
	// lastOnly alone if it is given.
	publish := func(n int, lastOnly string) error {
		p := &store.PublishParams{AppID: app.ID, Now: now}
		for i := range n {
			ev := &hookd.Event{ID: ids.New("evt"), AppID: app.ID, Type: "a", Data: []byte(`{}`), Payload: []byte(`{"data":{}}`), CreatedAt: now}
			pe := &store.PublishEvent{Event: ev}
			if i == n-1 {
				pe.OnlyWebhookID = lastOnly
			}
			p.Events = append(p.Events, pe)
		}
		_, err := s.Publish(ctx, p)
		return err
	}
	if err := publish(150, ""); err != nil { // 300 deliveries: 128 + 128 + 32 + 8 + 4 rows
		t.Fatal(err)
	}
	if err := publish(3, "wh_missing"); !hookd.IsNotFound(err) { // after taking two events' deliveries
		t.Fatalf("publish to a missing webhook: %v, want not found", err)
	}
	if err := publish(7, ""); err != nil {
		t.Fatal(err)
	}

	rows, err := s.r.QueryContext(ctx, `SELECT id, rowid FROM deliveries`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := map[string]int64{}
	for rows.Next() {
		var id string
		var rowid int64
		if err := rows.Scan(&id, &rowid); err != nil {
			t.Fatal(err)
		}
		want[id] = rowid
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	s.leases.mu.Lock()
	defer s.leases.mu.Unlock()
	if len(want) != 314 || len(s.leases.live) != len(want) {
		t.Fatalf("%d deliveries and %d leases, want 314 of each", len(want), len(s.leases.live))
	}
	for id, l := range s.leases.live {
		if rowid, ok := want[id]; !ok || l.rowid != rowid {
			t.Errorf("lease of %s has rowid %d; the row's is %s", id, l.rowid, fmt.Sprint(rowid, ok))
		}
	}
}
