package deliver

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/internal/logtest"
	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/seal"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/storepg"
)

// recording is a PostgreSQL store holding n claimed deliveries, the
// successful attempts of them ready to record, and an engine to record
// them with; conn reaches the store's tables themselves.
type recording struct {
	st      *storepg.Store
	conn    *pgx.Conn
	engine  *Engine
	logs    *logtest.Buffer
	app     *hookd.App
	results []*store.AttemptResult
}

func newRecording(t *testing.T, n int, cfg Config) *recording {
	t.Helper()
	url := pgtest.URL(t)
	ctx := t.Context()
	sealer, err := seal.New(make([]byte, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	ids := ident.New(nil)
	st, err := storepg.Open(ctx, storepg.Config{URL: url, Sealer: sealer, NewID: ids.New, MaxConns: 4})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })

	now := time.Now().UTC().Truncate(time.Millisecond)
	app := &hookd.App{ID: ids.New("app"), Name: "a", Profile: hookd.DefaultProfile(), DefaultSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	w := &hookd.Webhook{ID: ids.New("wh"), AppID: app.ID, URL: "https://example.com/hook", Events: []string{"*"},
		Status: hookd.WebhookActive, Secret: app.DefaultSecret, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateWebhook(ctx, w, 0); err != nil {
		t.Fatal(err)
	}
	events := make([]*store.PublishEvent, n)
	for i := range events {
		id := ids.New(hookd.EventIDPrefix)
		events[i] = &store.PublishEvent{Event: &hookd.Event{ID: id, AppID: app.ID, Type: "order.paid", CreatedAt: now,
			Data: json.RawMessage(`{"n":1}`), Payload: []byte(`{"type":"order.paid","data":{"n":1}}`)}}
	}
	if _, err := st.Publish(ctx, &store.PublishParams{AppID: app.ID, Now: now, Events: events}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	jobs, err := st.ClaimDue(ctx, &store.ClaimParams{Owner: "engine", Now: now, Limit: n, LeaseFor: time.Minute})
	if err != nil || len(jobs) != n {
		t.Fatalf("claimed %d of %d deliveries: %v", len(jobs), n, err)
	}
	r := &recording{st: st, conn: conn, logs: &logtest.Buffer{}, app: app}
	for _, j := range jobs {
		a := &hookd.Attempt{DeliveryID: j.Delivery.ID, WebhookID: w.ID, Attempt: 1, At: now, Duration: time.Millisecond,
			StatusCode: http.StatusOK, ResponseBody: "ok", RequestHeaders: map[string]string{"Content-Type": "application/json"}}
		r.results = append(r.results, &store.AttemptResult{Owner: "engine", AttemptReport: hookd.AttemptReport{Attempt: a}})
	}
	cfg.Owner = "engine"
	if r.engine, err = New(st, http.DefaultClient, nil, slog.New(slog.NewTextHandler(r.logs, nil)), cfg); err != nil {
		t.Fatal(err)
	}
	return r
}

// delivery reads one delivery with its attempts.
func (r *recording) delivery(t *testing.T, i int) *hookd.Delivery {
	t.Helper()
	d, err := r.st.GetDelivery(t.Context(), r.app.ID, r.results[i].Attempt.DeliveryID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// exec runs a statement on the store's schema.
func (r *recording) exec(t *testing.T, sql string) {
	t.Helper()
	if _, err := r.conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// flushed runs flush in the background and returns a channel closed when
// it returns.
func (r *recording) flushed() <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.engine.flush(context.Background(), r.results)
	}()
	return done
}

// waitDone waits up to a minute for done.
func waitDone(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s: not done after a minute", what)
	}
}

// An attempt PostgreSQL refuses (an id holding NUL, which no text column
// takes) fails its batch; the recorder isolates it, records the others
// as they were, and records a failed attempt saying so in its place, with
// a retry scheduled.
func TestRecorderIsolatesAnAttemptTheStoreRefuses(t *testing.T) {
	t.Parallel()
	r := newRecording(t, 9, Config{})
	const poison = 6
	r.results[poison].Attempt.ID = "att_\x00poison"

	waitDone(t, r.flushed(), "flush")

	for i := range r.results {
		d := r.delivery(t, i)
		if len(d.Attempts) != 1 {
			t.Errorf("delivery %d: %d attempts logged, want 1", i, len(d.Attempts))
			continue
		}
		a := d.Attempts[0]
		if i != poison {
			if d.Status != hookd.DeliverySucceeded || a.StatusCode != http.StatusOK || a.Error != "" {
				t.Errorf("delivery %d: %s, attempt %d %q, want succeeded as recorded", i, d.Status, a.StatusCode, a.Error)
			}
			continue
		}
		if want := "the attempt could not be recorded"; !strings.Contains(a.Error, want) || a.StatusCode != 0 {
			t.Errorf("refused attempt logged as status %d, error %q, want no status and %q", a.StatusCode, a.Error, want)
		}
		if d.Status != hookd.DeliveryPending || d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(a.At.Add(unrecordableRetry)) {
			t.Errorf("delivery of the refused attempt: %s, next attempt %v, want pending, due %v after it", d.Status, d.NextAttemptAt, unrecordableRetry)
		}
	}
	if !strings.Contains(r.logs.String(), "the store refused one attempt") {
		t.Errorf("the refused attempt is not logged:\n%s", r.logs)
	}
}

// A store that takes no write at all is down, not poisoned: the batch is
// kept and written again until it is back, each attempt as it was.
func TestRecorderWaitsForAStoreThatTakesNothing(t *testing.T) {
	t.Parallel()
	r := newRecording(t, 5, Config{})
	r.exec(t, `ALTER TABLE attempts RENAME TO attempts_away`)
	done := r.flushed()
	for deadline := time.Now().Add(30 * time.Second); strings.Count(r.logs.String(), "takes none of them") < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the recorder did not retry:\n%s", r.logs)
		}
	}
	r.exec(t, `ALTER TABLE attempts_away RENAME TO attempts`)
	waitDone(t, done, "flush once the store is back")

	for i := range r.results {
		d := r.delivery(t, i)
		if d.Status != hookd.DeliverySucceeded || len(d.Attempts) != 1 || d.Attempts[0].Error != "" {
			t.Errorf("delivery %d: %s with %d attempts, want succeeded with its one attempt as it was", i, d.Status, len(d.Attempts))
		}
	}
}

// A store down for longer than the record budget: the recorder gives the
// batch up and says so, and the deliveries stay leased, to be attempted
// again when their leases run out.
func TestRecorderGivesUpAfterItsBudget(t *testing.T) {
	t.Parallel()
	r := newRecording(t, 3, Config{RecordBudget: 300 * time.Millisecond})
	r.exec(t, `ALTER TABLE attempts RENAME TO attempts_away`)
	waitDone(t, r.flushed(), "flush with a store that takes nothing")
	if !strings.Contains(r.logs.String(), "given up") {
		t.Errorf("giving up is not logged:\n%s", r.logs)
	}
	r.exec(t, `ALTER TABLE attempts_away RENAME TO attempts`)
	for i := range r.results {
		if d := r.delivery(t, i); d.Status != hookd.DeliveryPending || d.AttemptCount != 0 || len(d.Attempts) != 0 {
			t.Errorf("delivery %d: %s after %d attempts, want pending and untouched", i, d.Status, d.AttemptCount)
		}
	}
}
