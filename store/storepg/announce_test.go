package storepg_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/store"
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
	app := newApp(t, publisher, ids, now)
	newWebhook(t, publisher, ids, app, hookd.WebhookActive, now)
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

// refuser is a Taker that turns every delivery down, as a delivery
// engine with no room does.
type refuser struct{}

func (refuser) Offer(time.Time) store.Offer        { return refuser{} }
func (refuser) Lease() (string, time.Time)         { return "busy", time.Time{} }
func (refuser) Take(store.Candidate) bool          { return false }
func (refuser) Hand(context.Context, []*store.Job) {}

// TestTurnedDownDeliveriesWakeOtherProcesses checks that deliveries the
// publishing process's own engine turned down are announced: another
// process may have room for them.
func TestTurnedDownDeliveriesWakeOtherProcesses(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	publisher, listener := openOn(t, url), openOn(t, url)
	publisher.HandTo(refuser{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	woken := make(chan struct{}, 100)
	go listener.Listen(ctx, func() { woken <- struct{}{} })

	ids := ident.New(nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	app := newApp(t, publisher, ids, now)
	newWebhook(t, publisher, ids, app, hookd.WebhookActive, now)
	// The listener is woken when it starts listening; wait for quiet.
	for quiet := false; !quiet; {
		select {
		case <-woken:
		case <-time.After(300 * time.Millisecond):
			quiet = true
		}
	}
	ev := &hookd.Event{ID: ids.New("evt"), AppID: app.ID, Type: "a", Data: []byte(`{}`), Payload: []byte(`{}`), CreatedAt: now}
	res, err := publisher.Publish(ctx, &store.PublishParams{AppID: app.ID, Now: now, Events: []*store.PublishEvent{{Event: ev}}})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].TurnedDown != 1 || res[0].Due() {
		t.Fatalf("the publish's result: %+v, want its one delivery turned down and not due here", res[0])
	}
	select {
	case <-woken:
	case <-time.After(5 * time.Second):
		t.Fatal("the other store's listener was not woken for a delivery the publisher's engine turned down")
	}
}
