package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// bulkRows is more rows than a store sends row by row: large publishes and
// record batches go by whatever bulk path the store has (PostgreSQL's
// COPY), which must store exactly what the small ones do.
const bulkRows = 150

func testBulk(t *testing.T, open opener) {
	for _, keys := range []bool{false, true} {
		run(t, open, fmt.Sprintf("PublishAndRecord/keys=%v", keys), func(f *fixture) {
			app := f.newApp()
			hooks := []*hookd.Webhook{f.newWebhook(app), f.newWebhook(app)}
			// Some deliveries are written leased, to a taker.
			tk := &taker{owner: "publisher", room: 60, refuse: map[string]bool{hooks[1].ID: true}}
			f.handTo(tk)
			oneOffURL := "https://elsewhere.example.com/hook"
			var pes []*store.PublishEvent
			for i := range bulkRows {
				pe := f.newEvent(app, "user.created")
				switch i % 3 {
				case 0: // data the payload holds
					data := fmt.Sprintf(`{"id":%q,"i":%d,"pad":"%0100d"}`, pe.Event.ID, i, i)
					pe.Event.Data = json.RawMessage(data)
					pe.Event.Payload = []byte(`{"type":"user.created","data":` + data + `}`)
				case 1: // data apart from the payload
					pe.Event.Payload = []byte(`{"type":"user.created"}`)
				}
				if keys {
					pe.Event.IdempotencyKey = fmt.Sprintf("key-%d", i)
				}
				pe.Event.Test = i%5 == 0
				if i%4 == 0 {
					pe.OneOffURL = oneOffURL
				}
				pe.Event.CreatedAt = at(time.Duration(i) * time.Millisecond)
				pes = append(pes, pe)
			}
			res := f.publish(app, t0, pes...)
			total, handedCount := 0, 0
			for i, r := range res {
				want := len(hooks)
				if pes[i].OneOffURL != "" {
					want++
				}
				if r.Duplicate || r.Deliveries != want {
					f.Fatalf("event %d: duplicate %v, %d deliveries, want a new event with %d", i, r.Duplicate, r.Deliveries, want)
				}
				total += want
				handedCount += r.Handed
			}
			handed := tk.jobs(f)
			equal(f, "handed", len(handed), handedCount)
			equal(f, "handed all the taker had room for", len(handed), 60)
			for _, pe := range pes {
				got, err := f.st.GetEvent(f.ctx, app.ID, pe.Event.ID)
				f.must(err, "get event %s", pe.Event.ID)
				sameEvent(f, got, pe.Event)
			}
			for _, w := range hooks {
				ds := f.deliveries(store.DeliveryFilter{AppID: app.ID, WebhookID: w.ID})
				equal(f, "deliveries to "+w.ID, len(ds), bulkRows)
				for _, d := range ds {
					equal(f, "delivery status", d.Status, hookd.DeliveryPending)
					equal(f, "delivery app", d.AppID, app.ID)
					equal(f, "delivery url", d.URL, "")
					sameTimePtr(f, "delivery next attempt", d.NextAttemptAt, t0)
					sameTime(f, "delivery created_at", d.CreatedAt, t0)
				}
			}

			oneOffs := 0
			for _, d := range f.deliveries(store.DeliveryFilter{AppID: app.ID}) {
				if d.WebhookID == "" {
					oneOffs++
					equal(f, "one-off delivery url", d.URL, oneOffURL)
				}
			}
			equal(f, "one-off deliveries", oneOffs, total-len(hooks)*bulkRows)

			// Claims take what was not handed (those are leased), and one
			// batch records every delivery: successes, failures to retry,
			// and network errors without a status code.
			jobs := f.claim("worker", t0, 2*total)
			equal(f, "claimed", len(jobs), total-len(handed))
			owners := map[*store.Job]string{}
			for _, j := range jobs {
				if handed[j.Delivery.ID] != nil {
					f.Errorf("delivery %s was handed over, and claimed", j.Delivery.ID)
				}
				owners[j] = "worker"
			}
			for _, j := range handed {
				jobs = append(jobs, j)
				owners[j] = tk.owner
			}
			results := make([]*store.AttemptResult, len(jobs))
			want := map[string]*hookd.Attempt{}
			for i, j := range jobs {
				code := []int{200, 503, 0}[i%3]
				r := result(j, owners[j], at(time.Second), code)
				if code != 200 {
					retryAt(r, at(time.Hour))
				}
				results[i] = r
				want[j.Delivery.ID] = r.Attempt
			}
			f.record(results...)
			for id, a := range want {
				d := f.delivery(app.ID, id)
				wantStatus := hookd.DeliverySucceeded
				if a.StatusCode != 200 {
					wantStatus = hookd.DeliveryPending
				}
				equal(f, "status of "+id, d.Status, wantStatus)
				equal(f, "attempt count of "+id, d.AttemptCount, 1)
				equal(f, "last status code of "+id, d.LastStatusCode, a.StatusCode)
				if len(d.Attempts) != 1 {
					f.Fatalf("delivery %s has %d attempts, want 1", id, len(d.Attempts))
				}
				got := d.Attempts[0]
				equal(f, "attempt webhook", got.WebhookID, a.WebhookID)
				equal(f, "attempt number", got.Attempt, 1)
				sameTime(f, "attempt at", got.At, a.At)
				equal(f, "attempt duration", got.Duration, a.Duration)
				equal(f, "attempt status code", got.StatusCode, a.StatusCode)
				equal(f, "attempt response body", got.ResponseBody, a.ResponseBody)
				equal(f, "attempt error", got.Error, a.Error)
				equal(f, "attempt request headers", fmt.Sprint(got.RequestHeaders), fmt.Sprint(a.RequestHeaders))
				equal(f, "attempt response headers", fmt.Sprint(got.ResponseHeaders), fmt.Sprint(a.ResponseHeaders))
			}
		})
	}
}
