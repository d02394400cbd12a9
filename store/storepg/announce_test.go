package storepg_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/seal"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/storepg"
)

// TestPublishWakesOtherProcesses checks that a publish wakes the listeners
// of another store on the same schema, after every publish, however close
// together, and that stores on another schema of the same database do not
// hear it.
func TestPublishWakesOtherProcesses(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	publisher, listener := openOn(t, url), openOn(t, url)
	stranger := openOn(t, pgtest.URL(t))

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	woken, strangerWoken := make(chan struct{}, 100), make(chan struct{}, 100)
	go listener.Listen(ctx, func() { woken <- struct{}{} })
	go stranger.Listen(ctx, func() { strangerWoken <- struct{}{} })

	ids := ident.New(nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	app := &hookd.App{ID: ids.New("app"), Name: "a", Profile: hookd.DefaultProfile(), DefaultSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: now, UpdatedAt: now}
	if err := publisher.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	hook := &hookd.Webhook{ID: ids.New("wh"), AppID: app.ID, URL: "https://example.com/hook", Events: []string{"*"},
		Status: hookd.WebhookActive, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: now, UpdatedAt: now}
	if err := publisher.CreateWebhook(ctx, hook, 0); err != nil {
		t.Fatal(err)
	}
	publish := func() {
		t.Helper()
		ev := &hookd.Event{ID: ids.New("evt"), AppID: app.ID, Type: "a", Data: []byte(`{}`), Payload: []byte(`{}`), CreatedAt: now}
		if _, err := publisher.Publish(ctx, &store.PublishParams{AppID: app.ID, Now: now, Events: []*store.PublishEvent{{Event: ev}}}); err != nil {
			t.Fatal(err)
		}
	}
	// settle waits until the listener has been quiet for a while, so that
	// what it hears next was caused by what the test does next.
	settle := func() {
		for {
			select {
			case <-woken:
			case <-time.After(300 * time.Millisecond):
				return
			}
		}
	}
	for round := range 3 {
		settle()
		// Several publishes in quick succession: the last one's
		// deliveries must be announced too, after it commits.
		for range round + 1 {
			publish()
		}
		select {
		case <-woken:
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: the other store's listener was not woken by a publish", round)
		}
	}
	select {
	case <-strangerWoken:
		t.Fatal("a store on another schema was woken by this schema's publishes")
	case <-time.After(300 * time.Millisecond):
	}
}

func openOn(t *testing.T, url string) *storepg.Store {
	t.Helper()
	key := make([]byte, seal.KeySize)
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := storepg.Open(t.Context(), storepg.Config{URL: url, Sealer: sealer, NewID: ident.New(nil).New, MaxConns: 4})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
