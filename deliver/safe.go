package deliver

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// A panic in one of the engine's goroutines (a job that trips a bug, a
// notifier that fails) must not stop delivery for everyone: the
// dispatcher, the workers and the recorder each recover, log the panic
// with its stack, and go on.

// logPanic logs a recovered panic with its stack.
func (e *Engine) logPanic(where string, v any, args ...any) {
	e.log.Error(where+" panicked", append([]any{"panic", v, "stack", string(debug.Stack())}, args...)...)
}

// attemptSafely is attempt, except that a panic becomes a failed attempt
// that names it, with a retry scheduled, instead of killing the worker.
func (e *Engine) attemptSafely(j *store.Job) (res *store.AttemptResult) {
	defer func() {
		if v := recover(); v != nil {
			e.logPanic("attempt", v, "delivery", j.Delivery.ID)
			res = e.panicked(j, v)
		}
	}()
	return e.attempt(j)
}

// panicked returns the failed attempt of j whose making panicked with v.
func (e *Engine) panicked(j *store.Job, v any) *store.AttemptResult {
	now := e.cfg.Now()
	a := &hookd.Attempt{
		DeliveryID: j.Delivery.ID, Attempt: j.Delivery.AttemptCount + 1, At: now.UTC(),
		Error: hookd.StorableText(fmt.Sprintf("the attempt failed: hookd hit an internal error (%v)", v), errorLimit),
	}
	if j.Webhook != nil {
		a.WebhookID = j.Webhook.ID
	}
	res := &store.AttemptResult{Owner: e.cfg.Owner, AttemptReport: hookd.AttemptReport{Attempt: a}}
	res.NextAttemptAt = e.retryAfterPanic(j, a)
	return res
}

// retryAfterPanic is when to try again a delivery whose attempt panicked:
// by its profile's schedule, or, when that is what panicked, after
// unrecordableRetry.
func (e *Engine) retryAfterPanic(j *store.Job, a *hookd.Attempt) (next time.Time) {
	defer func() {
		if recover() != nil {
			next = a.At.Add(unrecordableRetry)
		}
	}()
	next, _ = hookd.Retry(hookd.RetryInput{Policy: j.Profile.Retry, Attempt: a.Attempt, At: a.At, Rand: e.cfg.Rand()})
	return next
}

// dispatchUntilDone runs the dispatcher until ctx ends, starting it again
// after a panic.
func (e *Engine) dispatchUntilDone(ctx context.Context) {
	for ctx.Err() == nil {
		if !e.recovers("dispatcher", func() { e.dispatch(ctx) }) {
			return
		}
		sleep(ctx, time.Second) // not in a tight loop if it panics again at once
	}
}

// recovers runs fn and reports whether it panicked, logging the panic.
func (e *Engine) recovers(where string, fn func()) (panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			e.logPanic(where, v)
			panicked = true
		}
	}()
	fn()
	return false
}
