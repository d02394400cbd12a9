package deliver

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/logtest"
	"github.com/hookd/hookd/store"
)

// add hands the store more jobs to give out and wakes the engine.
func (f *fakeStore) add(e *Engine, jobs ...*store.Job) {
	f.mu.Lock()
	f.jobs = append(f.jobs, jobs...)
	f.mu.Unlock()
	e.Wake()
}

// recordedOf returns what was recorded of a delivery, waiting up to 10 s
// for it.
func (f *fakeStore) recordedOf(t *testing.T, deliveryID string) *store.AttemptResult {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		f.mu.Lock()
		for _, r := range f.recorded {
			if r.Attempt.DeliveryID == deliveryID {
				f.mu.Unlock()
				return r
			}
		}
		f.mu.Unlock()
	}
	t.Fatalf("no attempt of %s recorded after 10 s", deliveryID)
	return nil
}

// panickingNotifier panics on its first notices, and counts the others.
type panickingNotifier struct{ calls atomic.Int32 }

func (n *panickingNotifier) Notify(context.Context, []hookd.Notice) {
	if n.calls.Add(1) == 1 {
		panic("the notifier broke")
	}
}

func newSafetyEngine(t *testing.T, st *fakeStore, notifier Notifier) (*Engine, *logtest.Buffer, *httptest.Server) {
	t.Helper()
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(rc.Close)
	logs := &logtest.Buffer{}
	e, err := New(st, rc.Client(), notifier, slog.New(slog.NewTextHandler(logs, nil)),
		Config{Owner: "engine", Workers: 2, Timeout: 5 * time.Second, PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runEngine(t, e)
	return e, logs, rc
}

// A job whose attempt panics (here, one without its event) is recorded
// as a failed attempt naming the panic, with a retry scheduled; the
// worker lives on and the engine delivers other webhooks' jobs after it.
func TestEngineRecordsAnAttemptThatPanicked(t *testing.T) {
	t.Parallel()
	st := &fakeStore{}
	e, logs, rc := newSafetyEngine(t, st, nil)
	lease := time.Now().Add(time.Minute)
	broken := webhookJob("dlv_broken", "wh_a", rc.URL, lease)
	broken.Event = nil
	st.add(e, broken)

	r := st.recordedOf(t, "dlv_broken")
	if a := r.Attempt; a.StatusCode != 0 || !strings.Contains(a.Error, "internal error") || !strings.Contains(a.Error, "nil pointer") {
		t.Errorf("panicked attempt recorded as status %d, error %q; want no status and the panic named", a.StatusCode, a.Error)
	}
	if r.NextAttemptAt.IsZero() || r.Attempt.WebhookID != "wh_a" {
		t.Errorf("panicked attempt: next attempt %v, webhook %q; want a retry of wh_a's delivery", r.NextAttemptAt, r.Attempt.WebhookID)
	}
	if out := logs.String(); !strings.Contains(out, "attempt panicked") || !strings.Contains(out, "goroutine") {
		t.Errorf("the panic is not logged with its stack:\n%s", out)
	}

	// Every worker is still there: both deliveries go at once.
	st.add(e, webhookJob("dlv_b", "wh_b", rc.URL, lease), webhookJob("dlv_c", "wh_c", rc.URL, lease))
	for _, id := range []string{"dlv_b", "dlv_c"} {
		if r := st.recordedOf(t, id); r.Attempt.StatusCode != http.StatusOK {
			t.Errorf("%s after the panic: status %d, error %q; want delivered", id, r.Attempt.StatusCode, r.Attempt.Error)
		}
	}
}

// A notifier that panics does not stop the recorder: the attempts after
// it are recorded and their notices handed on.
func TestEngineRecordsPastANotifierThatPanics(t *testing.T) {
	t.Parallel()
	notifier := &panickingNotifier{}
	st := &fakeStore{notices: []hookd.Notice{{Kind: hookd.NoticeWebhookRecovered, WebhookID: "wh_a"}}}
	e, logs, rc := newSafetyEngine(t, st, notifier)
	lease := time.Now().Add(time.Minute)
	st.add(e, webhookJob("dlv_1", "wh_a", rc.URL, lease))
	st.recordedOf(t, "dlv_1")
	st.add(e, webhookJob("dlv_2", "wh_a", rc.URL, lease))
	if r := st.recordedOf(t, "dlv_2"); r.Attempt.StatusCode != http.StatusOK {
		t.Errorf("delivery after the notifier's panic: status %d, want 200", r.Attempt.StatusCode)
	}
	for deadline := time.Now().Add(10 * time.Second); notifier.calls.Load() < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("notifier called %d times, want the notices after its panic too", notifier.calls.Load())
		}
	}
	if !strings.Contains(logs.String(), "notifier panicked") {
		t.Errorf("the notifier's panic is not logged:\n%s", logs)
	}
}

// Shutdown is bounded: a store whose writes never return holds Run up to
// the record budget (and a margin), not for ever.
func TestEngineShutdownHasADeadline(t *testing.T) {
	t.Parallel()
	st := &fakeStore{hang: make(chan struct{})}
	t.Cleanup(func() { close(st.hang) })
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(rc.Close)
	e, err := New(st, rc.Client(), nil, nil, Config{Owner: "engine", Workers: 2, Timeout: time.Second, RecordBudget: 100 * time.Millisecond, PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var attempted atomic.Bool
	rc.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { attempted.Store(true) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	st.add(e, job("dlv_1", rc.URL, time.Now().Add(time.Minute)))
	for deadline := time.Now().Add(10 * time.Second); !attempted.Load(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the delivery was not attempted")
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Run did not return a minute after its context ended, with the store's writes hanging")
	}
}
