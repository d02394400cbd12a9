package deliver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// maxRecordBatch bounds how many attempts one write records.
const maxRecordBatch = 512

// recordWriteTimeout bounds one write of attempts.
const recordWriteTimeout = 30 * time.Second

// unrecordableRetry is when a delivery whose attempt succeeded but could
// not be recorded is tried again: its log says it failed, and the
// receiver sees the event again, with the same webhook-id.
const unrecordableRetry = 30 * time.Second

// record writes finished attempts in batches until results is closed.
func (e *Engine) record(ctx context.Context, results <-chan *store.AttemptResult) {
	batch := make([]*store.AttemptResult, 0, maxRecordBatch)
	for r := range results {
		batch = append(batch[:0], r)
	drain:
		for len(batch) < maxRecordBatch {
			select {
			case r, ok := <-results:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		// A panic while recording (a notifier's, say) loses this batch's
		// records, whose leases run out, not the recorder.
		e.recovers("recorder", func() { e.flush(ctx, batch) })
	}
}

// flush records a batch. A write that fails is split in halves, and
// those again, so that the rows the store takes are stored and a row it
// refuses (poison: nothing else fails) is recorded as a failed attempt
// that says so instead (see recordSplitting). When the store takes
// nothing, not even that, it is down (unreachable, its disk full): the
// batch is kept and written again with backoff, for RecordBudget at most;
// then the attempts are given up, loudly, and their deliveries are tried
// again when their leases run out.
func (e *Engine) flush(parent context.Context, batch []*store.AttemptResult) {
	// Shutdown does not interrupt a write: what was attempted is recorded
	// if the store allows, within the budget.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), e.cfg.RecordBudget)
	defer cancel()
	backoff := 50 * time.Millisecond
	pending := batch
	for try := 1; ; try++ {
		var err error
		if pending, err = e.recordSplitting(ctx, pending); len(pending) == 0 {
			return
		}
		e.log.Error("record attempts: the store takes none of them", "err", err, "count", len(pending), "try", try)
		if ctx.Err() != nil {
			e.log.Error("record attempts: given up; their deliveries are tried again when their leases run out",
				"count", len(pending), "budget", e.cfg.RecordBudget, "deliveries", deliveryIDs(pending, 20))
			return
		}
		sleep(ctx, backoff)
		backoff = min(backoff*2, 5*time.Second)
	}
}

// recordSplitting records batch, splitting it on failure to find the rows
// the store refuses. It returns the rows it could not record, from the
// first row the store took nothing of, even that row's stand-in (see
// recordInstead), onwards: then the store is down, and the caller writes
// them again later. It stops there, rather than trying every half of the
// rest one by one.
func (e *Engine) recordSplitting(ctx context.Context, batch []*store.AttemptResult) ([]*store.AttemptResult, error) {
	err := e.recordBatch(ctx, batch)
	switch {
	case err == nil:
		return nil, nil
	case hookd.ErrorCode(err) == hookd.EUNAVAILABLE:
		return batch, err // the store says it takes no writes now
	case len(batch) == 1:
		return e.recordInstead(ctx, batch[0], err)
	}
	half := len(batch) / 2
	if rest, err := e.recordSplitting(ctx, batch[:half]); len(rest) > 0 {
		return slices.Concat(rest, batch[half:]), err
	}
	return e.recordSplitting(ctx, batch[half:])
}

// recordBatch writes one batch of attempts and hands on what it raised.
func (e *Engine) recordBatch(parent context.Context, batch []*store.AttemptResult) error {
	ctx, cancel := context.WithTimeout(parent, recordWriteTimeout)
	defer cancel()
	notices, err := e.store.RecordAttempts(ctx, batch)
	if err != nil {
		return err
	}
	if e.cfg.Observer != nil {
		e.cfg.Observer.Recorded(batch)
	}
	if len(notices) > 0 && e.notifier != nil {
		e.notify(ctx, notices)
	}
	return nil
}

// recordInstead records, for an attempt the store refused, a failed
// attempt that says it could not be recorded, with none of the text that
// may have been the cause, and still schedules the delivery's retry. If
// the store refuses that too, it takes nothing: the attempt is returned
// to be written again later.
func (e *Engine) recordInstead(ctx context.Context, r *store.AttemptResult, refused error) ([]*store.AttemptResult, error) {
	stand := unrecordable(r)
	err := e.recordBatch(ctx, []*store.AttemptResult{stand})
	if err != nil {
		return []*store.AttemptResult{r}, errors.Join(refused, err)
	}
	e.log.Error("record attempts: the store refused one attempt; a failed attempt saying so is recorded instead",
		"err", refused, "delivery", r.Attempt.DeliveryID, "webhook", r.Attempt.WebhookID, "attempt", r.Attempt.Attempt)
	return nil, nil
}

// unrecordable returns the failed attempt that stands for r, which the
// store refused: the delivery, attempt number, time and outcome's
// schedule of r, and an error saying what happened instead of r's text.
func unrecordable(r *store.AttemptResult) *store.AttemptResult {
	a := r.Attempt
	msg := "the attempt could not be recorded: the store refused its log"
	if a.StatusCode != 0 {
		msg += fmt.Sprintf(" (the endpoint answered %d %s)", a.StatusCode, http.StatusText(a.StatusCode))
	}
	next := r.NextAttemptAt
	if next.IsZero() && a.Succeeded() {
		msg += "; the delivery is tried again"
		next = a.At.Add(unrecordableRetry)
	}
	stand := *r
	stand.Attempt = &hookd.Attempt{
		DeliveryID: a.DeliveryID, WebhookID: a.WebhookID, Attempt: a.Attempt, At: a.At, Duration: a.Duration, Error: msg,
	}
	stand.NextAttemptAt = next
	return &stand
}

// deliveryIDs returns the delivery ids of up to n results, for logs.
func deliveryIDs(results []*store.AttemptResult, n int) []string {
	ids := make([]string, 0, min(n, len(results)))
	for _, r := range results[:min(n, len(results))] {
		ids = append(ids, r.Attempt.DeliveryID)
	}
	return ids
}

// notify hands notices to the notifier. Its panic is logged and goes no
// further: the attempts are recorded.
func (e *Engine) notify(ctx context.Context, notices []hookd.Notice) {
	e.recovers("notifier", func() { e.notifier.Notify(context.WithoutCancel(ctx), notices) })
}
