package dashboard

import (
	"context"
	"net/http"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/service"
)

// statsSource gives the statistics the charts draw; the service's
// statistics methods satisfy it.
type statsSource interface {
	WebhookStats(ctx context.Context, p *service.Principal, app, webhookID string, q hookd.StatsQuery) (*hookd.DeliveryStats, error)
	AppStats(ctx context.Context, p *service.Principal, app string, q hookd.StatsQuery) (*hookd.DeliveryStats, error)
	ServerStats(ctx context.Context, p *service.Principal, q hookd.StatsQuery) (*hookd.ServerStats, error)
	SourceStats(ctx context.Context, p *service.Principal, app, sourceID string, q hookd.StatsQuery) (*hookd.SourceStats, error)
}

// serverStats is the operator overview's figures.
type serverStats struct {
	Hour, Day            *chart
	Pending              int64
	OldestPendingSeconds float64
}

func points(st *hookd.DeliveryStats) []point {
	pts := make([]point, len(st.Buckets))
	for i, b := range st.Buckets {
		pts[i] = point{Start: b.Start, Succeeded: b.Succeeded, Failed: b.Failed, P50: b.DurationP50}
	}
	return pts
}

func lastDay() hookd.StatsQuery { return hookd.StatsQuery{Interval: hookd.StatsHour} }

func (d *Dashboard) serverStats(r *http.Request, v *viewer) *serverStats {
	if d.cfg.Stats == nil {
		return nil
	}
	day, err := d.cfg.Stats.ServerStats(r.Context(), v.p(), lastDay())
	if err != nil {
		return nil
	}
	now := d.cfg.Now()
	hour, err := d.cfg.Stats.ServerStats(r.Context(), v.p(), hookd.StatsQuery{Since: now.Add(-time.Hour), Until: now, Interval: hookd.StatsMinute})
	if err != nil {
		return nil
	}
	return &serverStats{Day: bars(points(&day.DeliveryStats), 600, 110, true), Hour: bars(points(&hour.DeliveryStats), 600, 110, true),
		Pending: day.Pending, OldestPendingSeconds: day.OldestPendingSeconds}
}

func (d *Dashboard) webhookSpark(r *http.Request, v *viewer, app, id string) *chart {
	if d.cfg.Stats == nil {
		return nil
	}
	st, err := d.cfg.Stats.WebhookStats(r.Context(), v.p(), app, id, lastDay())
	if err != nil {
		return nil
	}
	return sparkline(points(st))
}

func (d *Dashboard) appChart(r *http.Request, v *viewer, app string) *chart {
	if d.cfg.Stats == nil {
		return nil
	}
	st, err := d.cfg.Stats.AppStats(r.Context(), v.p(), app, lastDay())
	if err != nil {
		return nil
	}
	return bars(points(st), 600, 110, true)
}

func (d *Dashboard) webhookCharts(r *http.Request, v *viewer, app, id string) (*chart, *chart) {
	if d.cfg.Stats == nil {
		return nil, nil
	}
	st, err := d.cfg.Stats.WebhookStats(r.Context(), v.p(), app, id, lastDay())
	if err != nil {
		return nil, nil
	}
	pts := points(st)
	return bars(pts, 600, 110, true), latency(pts, 600, 110)
}

// sourceChart draws what a source received over the last day: requests
// taken (duplicates included) stacked on requests refused.
func (d *Dashboard) sourceChart(r *http.Request, v *viewer, app, id string) *chart {
	if d.cfg.Stats == nil {
		return nil
	}
	st, err := d.cfg.Stats.SourceStats(r.Context(), v.p(), app, id, lastDay())
	if err != nil {
		return nil
	}
	pts := make([]point, len(st.Buckets))
	for i, b := range st.Buckets {
		pts[i] = point{Start: b.Start, Succeeded: b.Received, Failed: b.Rejected}
	}
	return barsOf(pts, 600, 110, true, "received", "rejected")
}
