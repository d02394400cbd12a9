package dashboard

import (
	"net/http"
)

// statsSource gives the statistics the charts draw. It is empty until
// the service keeps statistics; the charts are then left out.
type statsSource interface{}

// serverStats is the operator overview's figures.
type serverStats struct {
	Hour, Day            *chart
	Pending              int64
	OldestPendingSeconds float64
}

func (d *Dashboard) serverStats(r *http.Request, v *viewer) *serverStats { return nil }

func (d *Dashboard) webhookSpark(r *http.Request, v *viewer, app, id string) *chart { return nil }

func (d *Dashboard) appChart(r *http.Request, v *viewer, app string) *chart { return nil }

func (d *Dashboard) webhookCharts(r *http.Request, v *viewer, app, id string) (*chart, *chart) {
	return nil, nil
}
