package httpapi

import (
	"net/http"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/api"
)

// statsRoutes registers the statistics routes.
func (s *Server) statsRoutes(auth func(handler) http.HandlerFunc) {
	s.handle("GET /v1/apps/{app}/webhooks/{id}/stats", auth(s.webhookStats))
	s.handle("GET /v1/apps/{app}/stats", auth(s.appStats))
	s.handle("GET /v1/apps/{app}/sources/{id}/stats", auth(s.sourceStats))
	s.handle("GET /v1/stats", auth(s.serverStats))
}

// statsQuery reads ?since=&until=&interval=.
func statsQuery(r *http.Request) (hookd.StatsQuery, error) {
	q := r.URL.Query()
	var out hookd.StatsQuery
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"since", &out.Since}, {"until", &out.Until}} {
		v := q.Get(f.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return out, hookd.Errorf(hookd.EINVALID, "%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z", f.name)
		}
		*f.dst = t
	}
	if v := q.Get("interval"); v != "" {
		out.Interval = hookd.StatsInterval(v)
		if out.Interval.Duration() == 0 {
			return out, hookd.Errorf(hookd.EINVALID, "interval must be minute, hour or day")
		}
	}
	return out, nil
}

func (s *Server) webhookStats(w http.ResponseWriter, r *http.Request) error {
	q, err := statsQuery(r)
	if err != nil {
		return err
	}
	st, err := s.svc.WebhookStats(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"), q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deliveryStatsView(st))
	return nil
}

func (s *Server) appStats(w http.ResponseWriter, r *http.Request) error {
	q, err := statsQuery(r)
	if err != nil {
		return err
	}
	st, err := s.svc.AppStats(r.Context(), principal(r), r.PathValue("app"), q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deliveryStatsView(st))
	return nil
}

func (s *Server) sourceStats(w http.ResponseWriter, r *http.Request) error {
	q, err := statsQuery(r)
	if err != nil {
		return err
	}
	st, err := s.svc.SourceStats(r.Context(), principal(r), r.PathValue("app"), r.PathValue("id"), q)
	if err != nil {
		return err
	}
	out := sourceStatsJSON{Interval: st.Interval, Since: api.Time{Time: st.Since}, Until: api.Time{Time: st.Until},
		Buckets: make([]sourceBucketJSON, len(st.Buckets)), Totals: sourceCountsView(&st.Totals)}
	for i := range st.Buckets {
		out.Buckets[i] = sourceBucketJSON{Start: api.Time{Time: st.Buckets[i].Start}, sourceCountsJSON: sourceCountsView(&st.Buckets[i])}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) serverStats(w http.ResponseWriter, r *http.Request) error {
	q, err := statsQuery(r)
	if err != nil {
		return err
	}
	st, err := s.svc.ServerStats(r.Context(), principal(r), q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, serverStatsJSON{deliveryStatsJSON: deliveryStatsView(&st.DeliveryStats),
		Pending: st.Pending, OldestPendingSeconds: st.OldestPendingSeconds})
	return nil
}

type deliveryCountsJSON struct {
	Attempts      int64    `json:"attempts"`
	Succeeded     int64    `json:"succeeded"`
	Failed        int64    `json:"failed"`
	Exhausted     int64    `json:"exhausted"`
	DurationMsP50 *float64 `json:"duration_ms_p50"`
	DurationMsP99 *float64 `json:"duration_ms_p99"`
}

type deliveryBucketJSON struct {
	Start api.Time `json:"start"`
	deliveryCountsJSON
}

type deliveryStatsJSON struct {
	Interval hookd.StatsInterval  `json:"interval"`
	Since    api.Time             `json:"since"`
	Until    api.Time             `json:"until"`
	Buckets  []deliveryBucketJSON `json:"buckets"`
	Totals   deliveryCountsJSON   `json:"totals"`
}

type serverStatsJSON struct {
	deliveryStatsJSON
	Pending              int64   `json:"pending"`
	OldestPendingSeconds float64 `json:"oldest_pending_seconds"`
}

func deliveryCountsView(b *hookd.DeliveryBucket) deliveryCountsJSON {
	return deliveryCountsJSON{Attempts: b.Attempts, Succeeded: b.Succeeded, Failed: b.Failed, Exhausted: b.Exhausted,
		DurationMsP50: b.DurationP50, DurationMsP99: b.DurationP99}
}

func deliveryStatsView(st *hookd.DeliveryStats) deliveryStatsJSON {
	out := deliveryStatsJSON{Interval: st.Interval, Since: api.Time{Time: st.Since}, Until: api.Time{Time: st.Until},
		Buckets: make([]deliveryBucketJSON, len(st.Buckets)), Totals: deliveryCountsView(&st.Totals)}
	for i := range st.Buckets {
		out.Buckets[i] = deliveryBucketJSON{Start: api.Time{Time: st.Buckets[i].Start}, deliveryCountsJSON: deliveryCountsView(&st.Buckets[i])}
	}
	return out
}

type sourceCountsJSON struct {
	Received      int64 `json:"received"`
	Rejected      int64 `json:"rejected"`
	Duplicates    int64 `json:"duplicates"`
	Forwarded     int64 `json:"forwarded"`
	ForwardFailed int64 `json:"forward_failed"`
}

type sourceBucketJSON struct {
	Start api.Time `json:"start"`
	sourceCountsJSON
}

type sourceStatsJSON struct {
	Interval hookd.StatsInterval `json:"interval"`
	Since    api.Time            `json:"since"`
	Until    api.Time            `json:"until"`
	Buckets  []sourceBucketJSON  `json:"buckets"`
	Totals   sourceCountsJSON    `json:"totals"`
}

func sourceCountsView(b *hookd.SourceBucket) sourceCountsJSON {
	return sourceCountsJSON{Received: b.Received, Rejected: b.Rejected, Duplicates: b.Duplicates, Forwarded: b.Forwarded, ForwardFailed: b.ForwardFailed}
}
