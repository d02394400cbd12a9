package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/seal"
	"github.com/hookd/hookd/store"
)

// BenchmarkDeliveryPath measures a store's share of delivering: publishing
// events in batches, claiming their deliveries and recording one successful
// attempt each, batchSize at a time, as the engine does. It reports
// deliveries per second of store time; open must return a fresh store.
func BenchmarkDeliveryPath(b *testing.B, open func(b *testing.B, sealer store.Sealer) store.Store, batchSize int) {
	st, app, hook := benchStore(b, open)
	ctx := context.Background()
	ids := ident.New(nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	payload := benchPayload()
	b.ReportAllocs()
	b.ResetTimer()
	delivered := 0
	for b.Loop() {
		p := &store.PublishParams{AppID: app.ID, Now: now}
		for range batchSize {
			p.Events = append(p.Events, &store.PublishEvent{Event: &hookd.Event{ID: ids.New("evt"), AppID: app.ID, Type: "bench",
				Data: []byte(`{}`), Payload: payload, CreatedAt: now}})
		}
		if _, err := st.Publish(ctx, p); err != nil {
			b.Fatal(err)
		}
		jobs, err := st.ClaimDue(ctx, &store.ClaimParams{Owner: "bench", Now: now, Limit: batchSize, LeaseFor: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		results := make([]*store.AttemptResult, len(jobs))
		for i, j := range jobs {
			results[i] = benchSuccess(j, hook.ID, now)
		}
		if _, err := st.RecordAttempts(ctx, results); err != nil {
			b.Fatal(err)
		}
		delivered += len(jobs)
	}
	b.ReportMetric(float64(delivered)/b.Elapsed().Seconds(), "deliveries/s")
}

// BenchmarkBacklogDrain measures a store's share of draining a backlog as
// the engine does: with inFlight deliveries leased at the head of the
// queue, each step claims batchSize more and records the batchSize oldest
// in flight. One op is one delivery.
func BenchmarkBacklogDrain(b *testing.B, open func(b *testing.B, sealer store.Sealer) store.Store, inFlight, batchSize int) {
	st, app, hook := benchStore(b, open)
	ctx := context.Background()
	ids := ident.New(nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	payload := benchPayload()
	publish := func(n int) {
		for n > 0 {
			p := &store.PublishParams{AppID: app.ID, Now: now}
			for ; n > 0 && len(p.Events) < 1000; n-- {
				p.Events = append(p.Events, &store.PublishEvent{Event: &hookd.Event{ID: ids.New("evt"), AppID: app.ID, Type: "bench",
					Data: []byte(`{}`), Payload: payload, CreatedAt: now}})
			}
			if _, err := st.Publish(ctx, p); err != nil {
				b.Fatal(err)
			}
		}
	}
	claim := func(n int) []*store.Job {
		jobs, err := st.ClaimDue(ctx, &store.ClaimParams{Owner: "bench", Now: now, Limit: n, Scan: 2 * n, LeaseFor: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		if len(jobs) != n {
			b.Fatalf("claimed %d deliveries, want %d", len(jobs), n)
		}
		return jobs
	}
	publish(inFlight + batchSize*(b.N/batchSize+1))
	held := claim(inFlight)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += batchSize {
		held = append(held, claim(batchSize)...)
		results := make([]*store.AttemptResult, batchSize)
		for i, j := range held[:batchSize] {
			results[i] = benchSuccess(j, hook.ID, now)
		}
		if _, err := st.RecordAttempts(ctx, results); err != nil {
			b.Fatal(err)
		}
		held = held[batchSize:]
	}
}

// benchStore opens a store with one app and one webhook taking every event.
func benchStore(b *testing.B, open func(b *testing.B, sealer store.Sealer) store.Store) (store.Store, *hookd.App, *hookd.Webhook) {
	key := make([]byte, seal.KeySize)
	rand.Read(key)
	sealer, err := seal.New(key)
	if err != nil {
		b.Fatal(err)
	}
	st := open(b, sealer)
	ctx := context.Background()
	ids := ident.New(nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	app := &hookd.App{ID: ids.New("app"), Name: "bench", Profile: hookd.DefaultProfile(), DefaultSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		CreatedAt: now, UpdatedAt: now}
	if err := st.CreateApp(ctx, app); err != nil {
		b.Fatal(err)
	}
	hook := &hookd.Webhook{ID: ids.New("wh"), AppID: app.ID, URL: "https://example.com/hook", Events: []string{"*"},
		Status: hookd.WebhookActive, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateWebhook(ctx, hook, 0); err != nil {
		b.Fatal(err)
	}
	return st, app, hook
}

// benchPayload is an envelope of about 1 KiB.
func benchPayload() []byte {
	return []byte(fmt.Sprintf(`{"type":"bench","data":{"pad":%q}}`, make([]byte, 1000)))
}

// benchSuccess is the first attempt of j, answered 200.
func benchSuccess(j *store.Job, hookID string, now time.Time) *store.AttemptResult {
	return &store.AttemptResult{Owner: "bench", AttemptReport: hookd.AttemptReport{Attempt: &hookd.Attempt{
		DeliveryID: j.Delivery.ID, WebhookID: hookID, Attempt: 1, At: now, Duration: time.Millisecond, StatusCode: 200,
		RequestHeaders: map[string]string{"webhook-id": j.Event.ID}, ResponseBody: "ok"}}}
}
