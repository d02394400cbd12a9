package store

import (
	"encoding/binary"
	"strconv"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/hookd/hookd"
)

// Seed describes a history of delivered events that a benchmark of reads
// writes straight into a store, in bulk, rather than publishing and
// delivering it (ten million deliveries would take hours): event i went
// to one webhook, in one delivery, with one attempt. Every second event
// went to Webhooks[0]; the others went to the rest in turn. Of
// Webhooks[0]'s deliveries, one in FailedEvery failed, its attempt
// answered 500; all other deliveries succeeded.
//
// The rows are what the engine would have written, ids included: each
// id carries its row's time, so that lists page through them in order.
type Seed struct {
	AppID     string
	EventType string
	Webhooks  []string
	// Deliveries is how many events, deliveries and attempts to write.
	Deliveries  int
	FailedEvery int
	// Start is when event 0 was published; event i was Step later than
	// event i-1.
	Start time.Time
	Step  time.Duration
}

// SeedRow is row i of a Seed: an event, its delivery and its attempt.
type SeedRow struct {
	EventID, DeliveryID, AttemptID, WebhookID string
	Status                                    string
	StatusCode                                int
	At                                        int64 // Unix ms of publish; the attempt is 5 ms later
	Data, Payload                             []byte
}

// Row returns row i.
func (s *Seed) Row(i int) SeedRow {
	at := s.Start.Add(time.Duration(i) * s.Step)
	r := SeedRow{
		EventID:    seedID("evt", at, i),
		DeliveryID: seedID("dlv", at, i),
		AttemptID:  seedID("att", at.Add(5*time.Millisecond), i),
		Status:     hookd.DeliverySucceeded,
		StatusCode: 200,
		At:         at.UnixMilli(),
	}
	if i%2 == 0 || len(s.Webhooks) == 1 {
		r.WebhookID = s.Webhooks[0]
		if s.FailedEvery > 0 && (i/2)%s.FailedEvery == s.FailedEvery-1 {
			r.Status, r.StatusCode = hookd.DeliveryFailed, 500
		}
	} else {
		r.WebhookID = s.Webhooks[1+(i/2)%(len(s.Webhooks)-1)]
	}
	seq := strconv.Itoa(i)
	r.Data = []byte(`{"seq":` + seq + `}`)
	r.Payload = []byte(`{"type":"` + s.EventType + `","timestamp":"` + at.UTC().Format("2006-01-02T15:04:05.000Z") + `","data":{"seq":` + seq + `}}`)
	return r
}

// Index returns the row of the nth newest delivery (0 = newest) of
// Webhooks[0], and false when it has fewer.
func (s *Seed) Index(nth int) (int, bool) {
	first := s.Deliveries - 1
	if first%2 != 0 && len(s.Webhooks) > 1 {
		first--
	}
	step := 2
	if len(s.Webhooks) == 1 {
		step = 1
	}
	i := first - nth*step
	return i, i >= 0
}

// seedID is an id as ident makes them at t, with i as its randomness so
// that ids of one millisecond sort by i.
func seedID(prefix string, t time.Time, i int) string {
	var id ulid.ULID
	if err := id.SetTime(ulid.Timestamp(t)); err != nil {
		panic("store: " + err.Error())
	}
	binary.BigEndian.PutUint64(id[8:], uint64(i))
	return prefix + "_" + strings.ToLower(id.String())
}
