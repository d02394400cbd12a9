package api

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// TestStatsReadBack holds the client's reading of statistics to what the
// server wrote: domain → answer → JSON → answer → domain is the identity.
func TestStatsReadBack(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 14, 3, 0, 0, time.UTC)
	p50, p99 := 12.5, 480.0
	delivery := hookd.DeliveryStats{Interval: hookd.StatsMinute, Since: at, Until: at.Add(2 * time.Minute),
		Buckets: []hookd.DeliveryBucket{
			{Start: at, Attempts: 3, Succeeded: 2, Failed: 1, Exhausted: 1, DurationP50: &p50, DurationP99: &p99},
			{Start: at.Add(time.Minute)},
		},
		Totals: hookd.DeliveryBucket{Attempts: 3, Succeeded: 2, Failed: 1, Exhausted: 1, DurationP50: &p50, DurationP99: &p99}}
	server := hookd.ServerStats{DeliveryStats: delivery, Pending: 7, OldestPendingSeconds: 1.5}
	source := hookd.SourceStats{Interval: hookd.StatsHour, Since: at, Until: at.Add(time.Hour),
		Buckets: []hookd.SourceBucket{{Start: at, Received: 5, Rejected: 1, Duplicates: 2, Forwarded: 3, ForwardFailed: 1}},
		Totals:  hookd.SourceBucket{Received: 5, Rejected: 1, Duplicates: 2, Forwarded: 3, ForwardFailed: 1}}

	var gotDelivery DeliveryStats
	roundTrip(t, NewDeliveryStats(&delivery), &gotDelivery)
	if got := gotDelivery.Stats(); !reflect.DeepEqual(*got, delivery) {
		t.Errorf("delivery statistics read back as %+v, want %+v", *got, delivery)
	}
	var gotServer ServerStats
	roundTrip(t, NewServerStats(&server), &gotServer)
	if got := gotServer.Stats(); !reflect.DeepEqual(*got, server) {
		t.Errorf("server statistics read back as %+v, want %+v", *got, server)
	}
	var gotSource SourceStats
	roundTrip(t, NewSourceStats(&source), &gotSource)
	if got := gotSource.Stats(); !reflect.DeepEqual(*got, source) {
		t.Errorf("source statistics read back as %+v, want %+v", *got, source)
	}
}

func roundTrip(t *testing.T, in, out any) {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("read %s: %v", b, err)
	}
}
