package hookd_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func TestMatchesFilter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		filter []string
		typ    string
		want   bool
	}{
		{[]string{"job.done"}, "job.done", true},
		{[]string{"job.done"}, "job.failed", false},
		{[]string{"*"}, "anything.at.all", true},
		{[]string{"job.*"}, "job.done", true},
		{[]string{"job.*"}, "job.step.done", true},
		{[]string{"job.*"}, "job", false},
		{[]string{"job.*"}, "jobs.done", false},
		{[]string{"a.b", "job.*"}, "job.x", true},
		{nil, "job.done", false},
	} {
		if got := hookd.MatchesFilter(tc.filter, tc.typ); got != tc.want {
			t.Errorf("MatchesFilter(%q, %q) = %t, want %t", tc.filter, tc.typ, got, tc.want)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	p := hookd.RetryPolicy{ScheduleSeconds: []float64{5, 300}, MaxAttempts: 4, Jitter: 0.2}
	for _, tc := range []struct {
		attempt int
		rnd     float64
		want    time.Duration
		ok      bool
	}{
		{1, 0.5, 5 * time.Second, true},   // no jitter at the middle
		{1, 0, 4 * time.Second, true},     // -20%
		{1, 1, 6 * time.Second, true},     // +20%
		{2, 0.5, 300 * time.Second, true}, // second entry
		{3, 0.5, 300 * time.Second, true}, // the last entry repeats
		{4, 0.5, 0, false},                // no attempt left
	} {
		got, ok := p.RetryDelay(tc.attempt, tc.rnd)
		if ok != tc.ok || (ok && (got-tc.want).Abs() > time.Millisecond) {
			t.Errorf("RetryDelay(%d, %v) = %v, %t; want %v, %t", tc.attempt, tc.rnd, got, ok, tc.want, tc.ok)
		}
	}
}

func TestMergeProfile(t *testing.T) {
	t.Parallel()
	base := hookd.DefaultProfile()
	p, err := hookd.MergeProfile(base, []byte(`{"signature":{"scheme":"stripe","header_prefix":"Alakazam"},"retry":{"max_attempts":3}}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Signature.Scheme != "stripe" || p.Signature.HeaderPrefix != "Alakazam" || p.Retry.MaxAttempts != 3 {
		t.Errorf("patched fields not applied: %+v", p)
	}
	if p.Envelope != base.Envelope || !slices.Equal(p.Retry.ScheduleSeconds, base.Retry.ScheduleSeconds) || p.AutoDisableAfter != 10 {
		t.Errorf("unpatched fields changed: %+v", p)
	}
	// data_key "" spreads the data, and must survive the merge as "".
	p, err = hookd.MergeProfile(base, []byte(`{"envelope":{"data_key":""}}`))
	if err != nil || p.Envelope.DataKey != "" || p.Envelope.TypeKey != "type" {
		t.Errorf("data_key \"\" merge = %+v, %v", p.Envelope, err)
	}
}

func TestProfileValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ patch, field string }{
		{`{"signature":{"scheme":"md5"}}`, "scheme"},
		{`{"signature":{"scheme":"hmac-hex"}}`, "header_prefix"},
		{`{"signature":{"scheme":"stripe","header_prefix":"Bad Prefix"}}`, "header_prefix"},
		{`{"envelope":{"type_key":""}}`, "type_key"},
		{`{"envelope":{"time_format":"iso"}}`, "time_format"},
		{`{"envelope":{"time_key":"type"}}`, "time_key"},
		{`{"envelope":{"app_key":"0"}}`, "app_key"},
		{`{"retry":{"max_attempts":0}}`, "max_attempts"},
		{`{"retry":{"max_attempts":51}}`, "max_attempts"},
		{`{"retry":{"schedule_seconds":[-1]}}`, "schedule_seconds[0]"},
		{`{"retry":{"jitter":1.5}}`, "jitter"},
		{`{"auto_disable_after":-1}`, "auto_disable_after"},
		{`{"max_webhooks":-1}`, "max_webhooks"},
		{`{"surprise":1}`, "surprise"},
		{`{"retry":{"max_attempts":"three"}}`, "max_attempts"},
	} {
		_, err := hookd.MergeProfile(hookd.DefaultProfile(), []byte(tc.patch))
		if hookd.ErrorCode(err) != hookd.EINVALID || !strings.Contains(hookd.ErrorMessage(err), tc.field) {
			t.Errorf("MergeProfile(%s) = %v, want BAD_REQUEST naming %s", tc.patch, err, tc.field)
		}
	}
}

func TestDefaultProfileJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(hookd.DefaultProfile())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"signature":{"scheme":"standard","header_prefix":"","event_header":false},` +
		`"envelope":{"type_key":"type","time_key":"timestamp","time_format":"rfc3339ms","id_key":"","app_key":"","data_key":"data"},` +
		`"retry":{"schedule_seconds":[5,300,1800,7200,18000,36000,36000],"max_attempts":8,"jitter":0.2},` +
		`"auto_disable_after":10,"max_webhooks":0}`
	if string(b) != want {
		t.Errorf("default profile\n got %s\nwant %s", b, want)
	}
}

func TestRouteEvent(t *testing.T) {
	t.Parallel()
	hooks := []*hookd.Webhook{
		{ID: "a", URL: "https://a.example", Events: []string{"job.*"}, Status: hookd.WebhookActive},
		{ID: "b", URL: "https://b.example", Events: []string{"other"}, Status: hookd.WebhookActive},
		{ID: "c", URL: "https://c.example", Events: []string{"*"}, Status: hookd.WebhookPaused},
		{ID: "d", URL: "https://d.example", Events: []string{"*"}, Status: hookd.WebhookDisabled},
	}
	for _, tc := range []struct {
		name string
		p    hookd.RouteParams
		want []hookd.Route
	}{
		{"filters and statuses", hookd.RouteParams{Type: "job.done"},
			[]hookd.Route{{WebhookID: "a", Status: "pending"}, {WebhookID: "c", Status: "held"}}},
		{"only one webhook", hookd.RouteParams{Type: "job.done", OnlyWebhookID: "d"},
			[]hookd.Route{{WebhookID: "d", Status: "pending"}}},
		{"one-off URL of nobody", hookd.RouteParams{Type: "other", OneOffURL: "https://x.example"},
			[]hookd.Route{{WebhookID: "b", Status: "pending"}, {WebhookID: "c", Status: "held"}, {URL: "https://x.example", Status: "pending"}}},
		{"one-off URL of a webhook goes once", hookd.RouteParams{Type: "job.done", OneOffURL: "https://a.example"},
			[]hookd.Route{{WebhookID: "a", Status: "pending"}, {WebhookID: "c", Status: "held"}}},
		{"one-off URL of an unsubscribed webhook", hookd.RouteParams{Type: "other", OneOffURL: "https://a.example"},
			[]hookd.Route{{WebhookID: "a", Status: "pending"}, {WebhookID: "b", Status: "pending"}, {WebhookID: "c", Status: "held"}}},
		{"one-off filtered out", hookd.RouteParams{Type: "job.done", OneOffURL: "https://x.example", OneOffEvents: []string{"other"}},
			[]hookd.Route{{WebhookID: "a", Status: "pending"}, {WebhookID: "c", Status: "held"}}},
	} {
		if got := hookd.RouteEvent(hooks, tc.p); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestRetryStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		inFlight bool
		webhook  string
		test     bool
		want     string
		code     string
	}{
		{false, hookd.WebhookActive, false, hookd.DeliveryPending, ""},
		{false, "", false, hookd.DeliveryPending, ""},
		{false, hookd.WebhookPaused, false, hookd.DeliveryHeld, ""},
		{false, hookd.WebhookDisabled, false, "", hookd.ECONFLICT},
		{false, hookd.WebhookDisabled, true, hookd.DeliveryPending, ""},
		{true, hookd.WebhookActive, false, "", hookd.ECONFLICT},
	} {
		got, err := hookd.RetryStatus(tc.inFlight, tc.webhook, tc.test, "dlv_1")
		if got != tc.want || hookd.ErrorCode(err) != tc.code {
			t.Errorf("RetryStatus(%t, %q, %t) = %q, %v; want %q, %q", tc.inFlight, tc.webhook, tc.test, got, err, tc.want, tc.code)
		}
	}
}

func TestRotateSecret(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	secret, prev, until := hookd.RotateSecret("old", "new", 0, now)
	if secret != "new" || prev != "" || !until.IsZero() {
		t.Errorf("no grace: %q %q %v, want new, no previous", secret, prev, until)
	}
	secret, prev, until = hookd.RotateSecret("old", "new", time.Hour, now)
	if secret != "new" || prev != "old" || !until.Equal(now.Add(time.Hour)) {
		t.Errorf("an hour's grace: %q %q %v, want new, old until %v", secret, prev, until, now.Add(time.Hour))
	}
}
