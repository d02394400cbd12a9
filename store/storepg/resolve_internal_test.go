package storepg

import (
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// TestResolveReadsWhatTheCachesLackAndDropsTheGone checks that resolving
// jobs gives each its app and webhook, decrypted, read in one go for rows
// the caches lack and from the caches after, and leaves out a job whose
// webhook is gone instead of failing the others.
func TestResolveReadsWhatTheCachesLackAndDropsTheGone(t *testing.T) {
	t.Parallel()
	s, ids := openInternal(t)
	ctx, now := t.Context(), time.Now()
	app := &hookd.App{ID: ids.New("app"), Name: "a", Profile: hookd.DefaultProfile(), DefaultSecret: "whsec_app", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	hooks := make([]*hookd.Webhook, 3)
	v := versions{apps: map[string]int64{app.ID: 0}, hooks: map[string]int64{}}
	var jobs []*store.Job
	for i := range hooks {
		w := &hookd.Webhook{ID: ids.New("wh"), AppID: app.ID, URL: "https://example.com/" + ids.New("p"), Events: []string{"*"},
			Status: hookd.WebhookActive, Secret: "whsec_" + ids.New("s"), CreatedAt: now, UpdatedAt: now}
		if err := s.CreateWebhook(ctx, w, 0); err != nil {
			t.Fatal(err)
		}
		hooks[i] = w
		v.hooks[w.ID] = 0
		jobs = append(jobs, &store.Job{Delivery: &hookd.Delivery{ID: ids.New("dlv"), AppID: app.ID, WebhookID: w.ID}})
	}
	v.hooks["wh_gone"] = 0
	jobs = append(jobs, &store.Job{Delivery: &hookd.Delivery{ID: ids.New("dlv"), AppID: app.ID, WebhookID: "wh_gone"}})

	for round := range 2 { // read, then cached
		got, err := s.resolve(ctx, s.pool, jobs, v)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if len(got) != len(hooks) {
			t.Fatalf("round %d: resolved %d jobs, want the %d whose webhook exists", round, len(got), len(hooks))
		}
		for i, j := range got {
			if j.Webhook == nil || j.Webhook.ID != hooks[i].ID || j.Webhook.Secret != hooks[i].Secret {
				t.Errorf("round %d: job %d has webhook %+v, want %s with its secret", round, i, j.Webhook, hooks[i].ID)
			}
			if j.DefaultSecret != app.DefaultSecret {
				t.Errorf("round %d: job %d has default secret %q, want the app's", round, i, j.DefaultSecret)
			}
		}
		// Again at the versions the rows have, which the first round
		// cached them at.
		for _, w := range hooks {
			v.hooks[w.ID] = storedVersion(t, s, w.ID)
		}
	}
}

// storedVersion returns the stored version of webhook id.
func storedVersion(t *testing.T, s *Store, id string) int64 {
	t.Helper()
	var v int64
	if err := s.pool.QueryRow(t.Context(), `SELECT version FROM webhooks WHERE id = $1`, id).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.hooks.Get(id, v); !ok {
		t.Errorf("webhook %s is not cached at its version %d after it was read", id, v)
	}
	return v
}
