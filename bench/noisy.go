package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd/client"
)

// noisyProfile is the noisy apps' profile: each delivery is tried once and
// no failure disables a webhook, so that the pressure on hookd stays the
// same throughout and nothing is left to retry once the scenario ends.
const noisyProfile = `{"retry":{"schedule_seconds":[1],"max_attempts":1},"auto_disable_after":0}`

// noiseRate is how many events a second the noisy app publishes to its
// hanging webhooks, each to all of them.
const noiseRate = 20

// noisy measures how a healthy app fares beside hostile neighbours: its
// publish→receipt latency at NoisyRate, alone first, then while one app's
// NoisyWebhooks webhooks never answer (each holding its attempts until
// hookd's delivery timeout) and another app's NoisyOneOffs one-off
// deliveries go to a host that never answers. Fair shares should keep the
// second p99 within twice the first.
func (r *run) noisy(ctx context.Context) error {
	const name = "noisy"
	healthy, err := r.newApp(ctx, "bench "+name+" healthy")
	if err != nil {
		return err
	}
	if _, err := r.newWebhook(ctx, healthy, PathFast+"/"+name, false); err != nil {
		return err
	}
	noisy, err := r.newNoisyApp(ctx, "bench "+name+" webhooks")
	if err != nil {
		return err
	}
	hooks := make([]string, r.cfg.NoisyWebhooks)
	for i := range hooks {
		if hooks[i], err = r.newWebhook(ctx, noisy, fmt.Sprintf("%s/%s/%d", PathHang, name, i), false); err != nil {
			return err
		}
	}
	oneOffs, err := r.newNoisyApp(ctx, "bench "+name+" one-offs")
	if err != nil {
		return err
	}

	r.logf("%s: the healthy app alone, %d events/s for %v", name, r.cfg.NoisyRate, r.cfg.NoisyDuration)
	if err := r.resetReceiver(ctx); err != nil {
		return err
	}
	alone, alonePublished, err := r.healthyPhase(ctx, name+" alone", healthy)
	if err != nil {
		return err
	}

	r.logf("%s: %d webhooks that never answer (%d events/s to each) and %d one-off deliveries to a host that never answers",
		name, len(hooks), noiseRate, r.cfg.NoisyOneOffs)
	if err := r.resetReceiver(ctx); err != nil {
		return err
	}
	// The one-offs' host is the receiver by another name, so that it is
	// another host than the webhooks'.
	if err := r.publishOneOffs(ctx, oneOffs, localhostURL(r.recvURL)+PathHang+"/oneoff", r.cfg.NoisyOneOffs); err != nil {
		return err
	}
	var noise atomic.Int64
	noiseCtx, stopNoise := context.WithCancel(ctx)
	noiseDone := make(chan struct{})
	go func() {
		defer close(noiseDone)
		Pace(noiseCtx, PaceConfig{Rate: noiseRate, Duration: time.Hour}, func(ctx context.Context, i int) error {
			err := r.publishOne(ctx, noisy, int64(i))
			if err == nil {
				noise.Add(1)
			}
			return err
		})
	}()
	// The noise fills its slots before the healthy app publishes again.
	sleep(ctx, time.Second)
	r.logf("%s: the healthy app beside them, %d events/s for %v", name, r.cfg.NoisyRate, r.cfg.NoisyDuration)
	shared, sharedPublished, err := r.healthyPhase(ctx, name, healthy)
	stopNoise()
	<-noiseDone
	if err != nil {
		return err
	}
	hang, err := r.stats(ctx, PathHang, false)
	if err != nil {
		return err
	}
	// Disabled, the webhooks' pending deliveries fail: nothing hangs on
	// after the scenario but the attempts in flight, which time out.
	for _, id := range hooks {
		if _, err := r.api.UpdateWebhook(ctx, noisy, id, &client.WebhookInput{Status: client.Ptr("disabled")}); err != nil {
			return fmt.Errorf("disable a noisy webhook: %w", err)
		}
	}
	for _, f := range noisyFigures(alone, shared, hang, alonePublished+sharedPublished, noise.Load(), int64(r.cfg.NoisyOneOffs)) {
		r.add(name, f.Name, f.Value, f.Unit)
	}
	ratio, _ := r.report.Figure(name, "p99_ratio")
	r.logf("%s: the healthy app's publish→receipt p99 %.1f ms alone, %.1f ms beside the noise (%.2f×); the hanging endpoints held up to %d requests at once",
		name, ms(alone.Latency.P99), ms(shared.Latency.P99), ratio, hang.MaxInFlight)
	return nil
}

// noisyFigures are the noisy scenario's figures: the healthy app's
// latencies alone and beside the noise, the ratio of the two p99s, and
// what the hanging endpoints saw.
func noisyFigures(alone, shared, hang PathStats, published, noise, oneOffs int64) []Figure {
	ratio := 0.0
	if alone.Latency.P99 > 0 {
		ratio = float64(shared.Latency.P99) / float64(alone.Latency.P99)
	}
	return []Figure{
		{Name: "published", Value: float64(published), Unit: "events"},
		{Name: "received", Value: float64(alone.Unique + shared.Unique), Unit: "events"},
		{Name: "alone_p50", Value: round(ms(alone.Latency.P50), 2), Unit: "ms"},
		{Name: "alone_p99", Value: round(ms(alone.Latency.P99), 2), Unit: "ms"},
		{Name: "noisy_p50", Value: round(ms(shared.Latency.P50), 2), Unit: "ms"},
		{Name: "noisy_p99", Value: round(ms(shared.Latency.P99), 2), Unit: "ms"},
		{Name: "p99_ratio", Value: round(ratio, 2), Unit: "ratio"},
		{Name: "noise_published", Value: float64(noise), Unit: "events"},
		{Name: "one_offs", Value: float64(oneOffs), Unit: "deliveries"},
		{Name: "hanging_requests", Value: float64(hang.Receipts), Unit: "requests"},
		{Name: "hanging_max_in_flight", Value: float64(hang.MaxInFlight), Unit: "requests"},
	}
}

// healthyPhase publishes NoisyRate events a second for NoisyDuration, one
// per request, to app, whose webhook is on PathFast, and returns what the
// receiver saw there since its last reset and how many were published.
func (r *run) healthyPhase(ctx context.Context, what, app string) (PathStats, int64, error) {
	res := Pace(ctx, PaceConfig{Rate: r.cfg.NoisyRate, Duration: r.cfg.NoisyDuration, MaxInFlight: 512}, func(ctx context.Context, i int) error {
		return r.publishOne(ctx, app, int64(i))
	})
	if res.Errors > 0 {
		r.logf("%s: %d publishes failed, the first: %v", what, res.Errors, res.FirstErr)
	}
	published := int64(res.Started - res.Errors)
	if published <= 0 {
		return PathStats{}, 0, fmt.Errorf("%s: no event published: %v", what, res.FirstErr)
	}
	st, err := r.waitReceived(ctx, what, PathFast, published)
	return st, published, err
}

// newNoisyApp creates an app with noisyProfile.
func (r *run) newNoisyApp(ctx context.Context, name string) (string, error) {
	app, err := r.api.CreateApp(ctx, &client.AppInput{Name: client.Ptr(name), Profile: json.RawMessage(noisyProfile)})
	if err != nil {
		return "", fmt.Errorf("create app: %w", err)
	}
	return app.ID, nil
}

// publishOneOffs publishes n events of app, each to the one-off
// destination url, in batches of 1,000.
func (r *run) publishOneOffs(ctx context.Context, app, url string, n int) error {
	const batch = 1000
	for lo := 0; lo < n; lo += batch {
		buf := []byte(`{"events":[`)
		for seq := lo; seq < min(lo+batch, n); seq++ {
			if seq > lo {
				buf = append(buf, ',')
			}
			buf = append(buf, `{"type":"`+eventType+`","webhook_url":"`+url+`","data":`...)
			buf = EventData(buf, int64(seq), 0, r.cfg.EventBytes)
			buf = append(buf, '}')
		}
		buf = append(buf, "]}"...)
		if _, err := r.api.Do(ctx, http.MethodPost, "/v1/apps/"+app+"/events/batch", json.RawMessage(buf), nil); err != nil {
			return fmt.Errorf("publish one-off deliveries: %w", err)
		}
	}
	return nil
}

// localhostURL names the host of a loopback URL "localhost" instead of
// 127.0.0.1.
func localhostURL(u string) string {
	const ip = "http://127.0.0.1:"
	if len(u) > len(ip) && u[:len(ip)] == ip {
		return "http://localhost:" + u[len(ip):]
	}
	return u
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
