package deliver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"

	"github.com/hookd/hookd/store"
)

// appJob returns a job of app's webhook.
func appJob(id, appID, webhookID string, leaseUntil time.Time) *store.Job {
	j := webhookJob(id, webhookID, "https://example.com/"+webhookID, leaseUntil)
	j.Delivery.AppID = appID
	j.Webhook.AppID = appID
	return j
}

// shareEngine returns an engine of 8 workers (room for 32 deliveries, 24
// of them for one app) that does not run: its claims are made by the
// test, and the jobs it starts stay in e.jobs.
func shareEngine(t *testing.T, st Store, cfg Config) *Engine {
	t.Helper()
	cfg.Owner, cfg.Workers, cfg.PollInterval = "engine", 8, time.Hour
	e, err := New(st, http.DefaultClient, nil, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// heldBy returns what the engine holds of a lane and of an app.
func heldBy(e *Engine, key, appID string) (lane, app int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if l := e.lanes[key]; l != nil {
		lane = l.held()
	}
	if a := e.apps[appID]; a != nil {
		app = a.held()
	}
	return lane, app
}

// TestClaimsTakeOnlyWhatTheCapsAdmit checks that a claim leases no more
// of a webhook's or an app's deliveries than the engine can start or keep
// waiting, so that it hands none back: a new webhook gets a round of its
// slots and as many waiting, an app no more than its hold, and what the
// claim leaves stays due in the store.
func TestClaimsTakeOnlyWhatTheCapsAdmit(t *testing.T) {
	t.Parallel()
	until := time.Now().Add(time.Hour)
	st := &admittingStore{}
	for i := range 20 {
		st.due = append(st.due, appJob(fmt.Sprintf("dlv_a%d", i), "app_busy", "wh_a", until))
	}
	for w := range 6 {
		for i := range 5 {
			st.due = append(st.due, appJob(fmt.Sprintf("dlv_w%d_%d", w, i), "app_many", fmt.Sprintf("wh_m%d", w), until))
		}
	}
	e := shareEngine(t, st, Config{PerWebhook: 2, PerApp: 3})
	n, err := e.claim(t.Context(), e.reserve(32))
	if err != nil {
		t.Fatal(err)
	}
	// wh_a: 2 slots and 2 waiting. app_many: six webhooks of 4 each would
	// be 24, and its hold is 24; but the engine's room is 32, of which
	// wh_a took 4.
	if lane, app := heldBy(e, "wh_a", "app_busy"); lane != 4 || app != 4 {
		t.Errorf("wh_a holds %d (its app %d), want 2 in flight and 2 waiting", lane, app)
	}
	_, many := heldBy(e, "wh_m0", "app_many")
	if many != 24 || n != 28 {
		t.Errorf("claimed %d, app_many holds %d; want 28 claimed, 24 of them app_many's", n, many)
	}
	if started := len(e.jobs); started != 2+3 {
		t.Errorf("%d started, want 5: wh_a's 2 slots and app_many's 3", started)
	}
	st.mu.Lock()
	deferred, left := len(st.deferred), len(st.due)
	st.mu.Unlock()
	if deferred != 0 {
		t.Errorf("the claim handed %d back, want none: it takes only what the caps admit", deferred)
	}
	if left != 50-28 {
		t.Errorf("%d left due in the store, want %d", left, 50-28)
	}
}

// TestAppHoldLeavesRoomForOthers checks that one app, however many
// webhooks it has, holds at most its hold (the engine's room less a
// worker's worth), so that another app's deliveries still find room.
func TestAppHoldLeavesRoomForOthers(t *testing.T) {
	t.Parallel()
	until := time.Now().Add(time.Hour)
	st := &admittingStore{}
	for w := range 20 {
		for i := range 4 {
			st.due = append(st.due, appJob(fmt.Sprintf("dlv_%d_%d", w, i), "app_noisy", fmt.Sprintf("wh_%d", w), until))
		}
	}
	e := shareEngine(t, st, Config{PerWebhook: 2})
	if _, err := e.claim(t.Context(), e.reserve(32)); err != nil {
		t.Fatal(err)
	}
	if _, app := heldBy(e, "wh_0", "app_noisy"); app != e.appHold() || app != 24 {
		t.Errorf("the noisy app holds %d, want its hold %d of the engine's room of 32", app, e.appHold())
	}
	st.mu.Lock()
	st.due = append(st.due, appJob("dlv_quiet", "app_quiet", "wh_quiet", until))
	st.mu.Unlock()
	if n, err := e.claim(t.Context(), e.reserve(32)); err != nil || n != 1 {
		t.Fatalf("claim = %d, %v; want the quiet app's one delivery beside the noisy app", n, err)
	}
	if lane, _ := heldBy(e, "wh_quiet", "app_quiet"); lane != 1 {
		t.Errorf("the quiet app's webhook holds %d, want its delivery", lane)
	}
}

// TestHangingLaneWaitsOneRound checks that a lane none of whose attempts
// has ended holds one round of its slots waiting, not the three times the
// workers a fast lane may: the deliveries beyond go back to the store,
// and claims pass its webhook over while it is full.
func TestHangingLaneWaitsOneRound(t *testing.T) {
	t.Parallel()
	until := time.Now().Add(time.Hour)
	st := &admittingStore{}
	for i := range 10 {
		st.due = append(st.due, appJob(fmt.Sprintf("dlv_%d", i), "app_1", "wh_hang", until))
	}
	e := shareEngine(t, st, Config{PerWebhook: 2})
	if _, err := e.claim(t.Context(), e.reserve(32)); err != nil {
		t.Fatal(err)
	}
	if lane, _ := heldBy(e, "wh_hang", "app_1"); lane != 4 {
		t.Errorf("the hanging webhook holds %d, want 2 in flight and 2 waiting", lane)
	}
	full, _ := e.admission(time.Now())
	if _, ok := full["wh_hang"]; !ok {
		t.Errorf("claims are not told that the hanging webhook is full: %v", full)
	}
	// A fast lane may hold far more: its attempts end within a second.
	e.mu.Lock()
	l := e.lanes["wh_hang"]
	l.pace, l.lastEnd = 5*time.Millisecond, time.Now()
	e.mu.Unlock()
	full, _ = e.admission(time.Now())
	if _, ok := full["wh_hang"]; ok {
		t.Error("a fast webhook holding 4 is still full")
	}
	if n, err := e.claim(t.Context(), e.reserve(32)); err != nil || n != 6 {
		t.Errorf("claim = %d, %v; want the fast webhook's other 6", n, err)
	}
}

// TestOneOffsBeyondTheirHostsRoomGoBack checks that deliveries without a
// webhook are taken by claims and, beyond what their host's lane may hold,
// handed back for at least 100 ms, so that claims do not take them again
// at once.
func TestOneOffsBeyondTheirHostsRoomGoBack(t *testing.T) {
	t.Parallel()
	now := time.Now()
	st := &admittingStore{}
	for i := range 6 {
		st.due = append(st.due, job(fmt.Sprintf("dlv_%d", i), "https://Slow.example.com:8443/hook", now.Add(time.Hour)))
	}
	e := shareEngine(t, st, Config{PerHost: 2, Now: func() time.Time { return now }})
	if n, err := e.claim(t.Context(), e.reserve(32)); err != nil || n != 6 {
		t.Fatalf("claim = %d, %v; want all 6 one-offs", n, err)
	}
	if lane, _ := heldBy(e, "host slow.example.com", "app_1"); lane != 4 {
		t.Errorf("the host's lane holds %d, want 2 in flight and 2 waiting", lane)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.deferred) != 2 {
		t.Fatalf("handed back %d, want 2", len(st.deferred))
	}
	for _, d := range st.deferred {
		if wait := d.At.Sub(now); wait < 100*time.Millisecond {
			t.Errorf("%s handed back for %v, want at least 100ms", d.DeliveryID, wait)
		}
	}
}

// TestPublishesHandAFastLaneHalfItsHold checks what a publish hands the
// engine: what a lane and its app can start at once, and, for a fast
// lane, up to half of what the lane and its app may hold.
func TestPublishesHandAFastLaneHalfItsHold(t *testing.T) {
	t.Parallel()
	e := shareEngine(t, &fakeStore{}, Config{PerWebhook: 2})
	e.mu.Lock()
	e.running = true
	e.mu.Unlock()
	takes := func() int {
		o := e.Offer(time.Now())
		n := 0
		for o.Take(store.Candidate{AppID: "app_1", WebhookID: "wh_a"}) {
			n++
		}
		o.Hand(t.Context(), nil)
		return n
	}
	if n := takes(); n != 2 {
		t.Errorf("a publish handed %d to a new webhook, want its 2 slots", n)
	}
	e.mu.Lock()
	e.lanes["wh_a"] = &lane{key: "wh_a", webhook: true, appID: "app_1", cap: 2, pace: 5 * time.Millisecond, lastEnd: time.Now()}
	e.mu.Unlock()
	// The lane may hold 2 + 24 = 26; the app 24: a publish hands it 12.
	if n := takes(); n != 12 {
		t.Errorf("a publish handed %d to a fast webhook, want 12, half its app's hold", n)
	}
}

// TestClaimAndPublishSeeEachOthersRoom checks that the room a claim on its
// way keeps for what it takes counts against a publish's, and the other
// way round: each taking the last of a lane's room without seeing the
// other's made the later of the two hand its deliveries back.
func TestClaimAndPublishSeeEachOthersRoom(t *testing.T) {
	t.Parallel()
	e := shareEngine(t, &fakeStore{}, Config{PerWebhook: 2})
	e.mu.Lock()
	e.running = true
	e.mu.Unlock()
	now := time.Now()
	c := store.Candidate{AppID: "app_1", WebhookID: "wh_a"}

	_, claim := e.admission(now)
	for i, want := range []bool{true, true, true, true, false} {
		if got := claim.admit(c); got != want {
			t.Fatalf("claim admit %d = %v, want %v (a new webhook: 2 slots and 2 waiting)", i+1, got, want)
		}
	}
	o := e.Offer(now)
	if o.Take(c) {
		t.Error("a publish took a delivery to a webhook whose room a claim on its way keeps")
	}
	e.mu.Lock()
	claim.release()
	e.mu.Unlock()
	if !o.Take(c) || !o.Take(c) || o.Take(c) {
		t.Error("after the claim's room was released, a publish did not take the webhook's 2 slots, or took more")
	}
	_, claim = e.admission(now)
	if n := admitted(claim, c, 10); n != 2 {
		t.Errorf("a claim beside a publish that keeps 2 of the webhook's room of 4 admitted %d, want 2", n)
	}
}

// admitted returns how many of n deliveries like c a claim admits.
func admitted(p *promises, c store.Candidate, n int) int {
	taken := 0
	for range n {
		if p.admit(c) {
			taken++
		}
	}
	return taken
}

// TestLaneEmptiedDuringAClaimKeepsItsPace checks that a fast webhook whose
// attempts all end while a claim is on its way is still known as fast when
// the claim's deliveries are admitted: the room the claim keeps holds the
// lane. Forgotten as soon as it held nothing, it came back as a new
// webhook, with room for a round of slots, and the claim handed the rest
// back — three in four deliveries of one busy webhook on PostgreSQL.
func TestLaneEmptiedDuringAClaimKeepsItsPace(t *testing.T) {
	t.Parallel()
	now := time.Now()
	until := now.Add(time.Hour)
	st := &admittingStore{}
	for i := range 50 {
		st.due = append(st.due, appJob(fmt.Sprintf("dlv_%d", i), "app_1", "wh_a", until))
	}
	e := shareEngine(t, st, Config{PerWebhook: 2, Now: func() time.Time { return now }})
	inFlight := appJob("dlv_in_flight", "app_1", "wh_a", until)
	e.mu.Lock()
	e.lanes["wh_a"] = &lane{key: "wh_a", webhook: true, appID: "app_1", cap: 2, inFlight: 1, pace: 5 * time.Millisecond, lastEnd: now}
	e.apps["app_1"] = &appShare{inFlight: 1}
	e.held = 1
	e.mu.Unlock()
	st.during = func() {
		e.finish(t.Context(), inFlight, 5*time.Millisecond)
		e.forget(1)
	}
	n, err := e.claim(t.Context(), e.reserve(31))
	// The app may hold 24, and held the one in flight when the claim
	// began.
	if err != nil || n != 23 {
		t.Fatalf("claim = %d, %v; want 23, the rest of the app's hold", n, err)
	}
	st.mu.Lock()
	deferred := len(st.deferred)
	st.mu.Unlock()
	if deferred != 0 {
		t.Errorf("the claim handed %d back, want none", deferred)
	}
	if lane, _ := heldBy(e, "wh_a", "app_1"); lane != 23 {
		t.Errorf("the webhook holds %d, want the 23 claimed", lane)
	}
}

// TestIdleLanesAreForgottenAfterAWhile checks that a lane that holds
// nothing is kept for its pace, and dropped once it has been idle for
// laneMemory, so that the engine's map of lanes stays small.
func TestIdleLanesAreForgottenAfterAWhile(t *testing.T) {
	t.Parallel()
	now := time.Now()
	e := shareEngine(t, &fakeStore{}, Config{})
	e.mu.Lock()
	e.lanes["wh_a"] = &lane{key: "wh_a", webhook: true, appID: "app_1", cap: 2, pace: 5 * time.Millisecond, lastEnd: now}
	e.lanes["wh_busy"] = &lane{key: "wh_busy", webhook: true, appID: "app_1", cap: 2, inFlight: 1, lastEnd: now}
	e.apps["app_1"] = &appShare{inFlight: 1}
	e.mu.Unlock()
	lanes := func() int {
		e.mu.Lock()
		defer e.mu.Unlock()
		return len(e.lanes)
	}
	e.admission(now.Add(laneMemory / 2))
	if n := lanes(); n != 2 {
		t.Errorf("%d lanes after half of laneMemory idle, want both kept", n)
	}
	e.admission(now.Add(laneMemory + time.Second))
	e.mu.Lock()
	_, idle := e.lanes["wh_a"]
	_, busy := e.lanes["wh_busy"]
	e.mu.Unlock()
	if idle || !busy {
		t.Errorf("after laneMemory: idle lane kept %v, busy lane kept %v; want the idle one forgotten, the busy one kept", idle, busy)
	}
}

// TestClaimMixingOneOffsAndWebhooksHandsNoWebhookBack checks that a
// claim's deliveries without a webhook count against their app's room as
// the claim takes them, so that the app's webhook deliveries taken after
// them find the room they were promised and are not handed back.
func TestClaimMixingOneOffsAndWebhooksHandsNoWebhookBack(t *testing.T) {
	t.Parallel()
	now := time.Now()
	until := now.Add(time.Hour)
	st := &admittingStore{}
	st.due = append(st.due, job("dlv_h1", "https://one.example.com/", until), job("dlv_h2", "https://two.example.com/", until))
	for i := range 4 {
		st.due = append(st.due, appJob(fmt.Sprintf("dlv_w%d", i), "app_1", "wh_a", until))
	}
	e := shareEngine(t, st, Config{PerWebhook: 2, PerHost: 2, Now: func() time.Time { return now }})
	// The app holds 21 of its 24 elsewhere: room for three more.
	e.mu.Lock()
	e.apps["app_1"] = &appShare{inFlight: 21}
	e.held = 21
	e.mu.Unlock()
	n, err := e.claim(t.Context(), e.reserve(11))
	if err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, d := range st.deferred {
		if d.DeliveryID != "dlv_h1" && d.DeliveryID != "dlv_h2" {
			t.Errorf("the claim handed back %s, a webhook's delivery it took", d.DeliveryID)
		}
	}
	if n != 3 {
		t.Errorf("claimed %d, want the two one-offs and the one webhook delivery the app had room for", n)
	}
}

// TestAppSlotGoesToWhatWaitedLongest checks that a slot of an app freed by
// one of its webhooks' attempts goes to the delivery of its app that came
// due first, not back to that webhook's own queue: a webhook waiting for
// its app's slot does not wait behind a busy sibling.
func TestAppSlotGoesToWhatWaitedLongest(t *testing.T) {
	t.Parallel()
	now := time.Now()
	until := now.Add(time.Hour)
	e := shareEngine(t, &fakeStore{}, Config{PerWebhook: 1, PerApp: 2, Now: func() time.Time { return now }})
	due := func(j *store.Job, ago time.Duration) *store.Job {
		at := now.Add(-ago)
		j.Delivery.NextAttemptAt = &at
		return j
	}
	e.mu.Lock()
	for _, j := range []*store.Job{
		due(appJob("dlv_busy_1", "app_1", "wh_busy", until), 5*time.Second),
		due(appJob("dlv_other", "app_1", "wh_other", until), 4*time.Second),
		due(appJob("dlv_blocked", "app_1", "wh_blocked", until), 3*time.Second), // waits for the app
		due(appJob("dlv_busy_2", "app_1", "wh_busy", until), 2*time.Second),     // waits for wh_busy
	} {
		if _, ok := e.admit(j, now); !ok {
			t.Fatalf("%s handed back", j.Delivery.ID)
		}
	}
	e.mu.Unlock()
	first := <-e.jobs
	<-e.jobs
	e.finish(t.Context(), first, 5*time.Millisecond) // dlv_busy_1 ends
	select {
	case j := <-e.jobs:
		if j.Delivery.ID != "dlv_blocked" {
			t.Errorf("the app's freed slot went to %s, want dlv_blocked, due first of those waiting", j.Delivery.ID)
		}
	default:
		t.Fatal("nothing started when an attempt ended")
	}
}

// TestHostLaneServesAppsWithRoom checks that in the lane of a host that
// several apps' one-off deliveries go to, one app at its cap does not hold
// up the others: another app's delivery starts while the capped app's
// waits.
func TestHostLaneServesAppsWithRoom(t *testing.T) {
	t.Parallel()
	now := time.Now()
	until := now.Add(time.Hour)
	e := shareEngine(t, &fakeStore{}, Config{PerHost: 4, PerWebhook: 1, PerApp: 1, Now: func() time.Time { return now }})
	oneOff := func(id, appID string) *store.Job {
		j := job(id, "https://shared.example.com/hook", until)
		j.Delivery.AppID = appID
		return j
	}
	e.mu.Lock()
	for _, j := range []*store.Job{oneOff("dlv_b1", "app_b"), oneOff("dlv_b2", "app_b"), oneOff("dlv_c1", "app_c")} {
		if _, ok := e.admit(j, now); !ok {
			t.Fatalf("%s handed back", j.Delivery.ID)
		}
	}
	e.mu.Unlock()
	started := map[string]bool{}
	for range 2 {
		select {
		case j := <-e.jobs:
			started[j.Delivery.ID] = true
		default:
		}
	}
	if !started["dlv_b1"] || !started["dlv_c1"] || started["dlv_b2"] {
		t.Errorf("started %v; want app_b's first and app_c's, app_b's second waiting for its app", started)
	}
}

// TestQueuedListenDeliveryChecksItsStream checks that a listen webhook's
// delivery that waited in its lane is handed back when it would start but
// this process no longer holds the webhook's stream, as one admitted then
// would be, rather than attempted and failed.
func TestQueuedListenDeliveryChecksItsStream(t *testing.T) {
	t.Parallel()
	now := time.Now()
	until := now.Add(time.Hour)
	st := &fakeStore{}
	relay := &switchRelay{holds: true}
	e := shareEngine(t, st, Config{PerWebhook: 1, Relay: relay, Now: func() time.Time { return now }})
	listen := func(id string) *store.Job {
		j := appJob(id, "app_1", "wh_listen", until)
		j.Webhook.URL = hookd.ListenURLPrefix + "wh_listen"
		return j
	}
	e.mu.Lock()
	for _, id := range []string{"dlv_1", "dlv_2"} {
		if _, ok := e.admit(listen(id), now); !ok {
			t.Fatalf("%s handed back while the stream is here", id)
		}
	}
	e.mu.Unlock()
	first := <-e.jobs
	relay.set(false) // the CLI reconnected to another process
	e.finish(t.Context(), first, 5*time.Millisecond)
	select {
	case j := <-e.jobs:
		t.Errorf("%s started though its stream is elsewhere", j.Delivery.ID)
	default:
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.deferred) != 1 || st.deferred[0].DeliveryID != "dlv_2" || !st.deferred[0].At.Equal(now.Add(relayRetry)) {
		t.Errorf("deferred %+v, want dlv_2 for %v", st.deferred, relayRetry)
	}
}

// switchRelay holds every listen stream or none.
type switchRelay struct {
	mu    sync.Mutex
	holds bool
}

func (r *switchRelay) set(holds bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.holds = holds
}

func (r *switchRelay) Holds(string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.holds
}

func (r *switchRelay) Exchange(context.Context, *Relayed) (*http.Response, error) {
	return nil, errors.New("not used")
}

// TestIdleFastLaneIsRememberedAsFast checks that a webhook whose attempts
// were fast, idle for a few seconds, is claimed for as a fast one when its
// deliveries come again, not as a new one with a round of slots: without
// the lane's memory the claim took 4 of 30 here.
func TestIdleFastLaneIsRememberedAsFast(t *testing.T) {
	t.Parallel()
	now := time.Now()
	until := now.Add(time.Hour)
	st := &admittingStore{}
	for i := range 30 {
		st.due = append(st.due, appJob(fmt.Sprintf("dlv_%d", i), "app_1", "wh_a", until))
	}
	e := shareEngine(t, st, Config{PerWebhook: 2, Now: func() time.Time { return now }})
	e.mu.Lock()
	e.lanes["wh_a"] = &lane{key: "wh_a", webhook: true, appID: "app_1", cap: 2, pace: 5 * time.Millisecond, lastEnd: now.Add(-5 * time.Second)}
	e.mu.Unlock()
	if n, err := e.claim(t.Context(), e.reserve(32)); err != nil || n != 24 {
		t.Errorf("claim = %d, %v; want 24, the app's hold", n, err)
	}
}
