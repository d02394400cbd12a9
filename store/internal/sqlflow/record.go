package sqlflow

import (
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// RecordInfo is what recording an attempt of one delivery depends on, as
// a store reads it with the delivery.
type RecordInfo struct {
	AppID, EventID, WebhookID string
	// TargetID is the webhook or source the delivery goes to, "" for a
	// one-off URL.
	TargetID string
	Owner    string // the lease's holder, where the row keeps it
	Test     bool
	Status   string // of the webhook or source
	Failures int
	// FailingSince is when the webhook's failures began, in Unix ms.
	FailingSince *int64
}

// sourceID is the source whose event the delivery forwards, if any.
func (i *RecordInfo) sourceID() string {
	if i.WebhookID != "" {
		return ""
	}
	return i.TargetID // a source's id, or "" for a one-off URL
}

func (i *RecordInfo) target() *hookd.Target {
	t := &hookd.Target{Status: i.Status, Webhook: i.WebhookID != "", Failures: i.Failures}
	if i.FailingSince != nil {
		t.FailingSince = time.UnixMilli(*i.FailingSince).UTC()
	}
	return t
}

// Judgement is what a batch of recorded attempts decided: the state of
// each webhook or source they went to (one hookd.Target each, shared by
// the batch's attempts to it), the notices to send, and the statistics
// to add.
type Judgement struct {
	Targets map[string]*hookd.Target
	Notices []hookd.Notice
	Stats   store.StatsBatch
}

// Expired counts the attempt a of a delivery whose lease ran out before
// it was recorded: it is logged and counted, but the lease's new holder
// decides what follows.
func (j *Judgement) Expired(info *RecordInfo, a *hookd.Attempt) {
	j.Stats.Attempt(info.AppID, info.WebhookID, info.sourceID(), a, false)
}

// Judge decides what r's attempt means for its delivery (r.Status is set)
// and its webhook or source, and returns the verdict.
func (j *Judgement) Judge(r *store.AttemptResult, info *RecordInfo) hookd.Verdict {
	a := r.Attempt
	key := info.TargetID
	if key == "" {
		key = "delivery:" + a.DeliveryID // a one-off URL has no shared state
	}
	if j.Targets == nil {
		j.Targets = map[string]*hookd.Target{}
	}
	t := j.Targets[key]
	if t == nil {
		t = info.target()
		j.Targets[key] = t
	}
	v := t.Record(&r.AttemptReport, info.Test)
	r.Status = v.Status
	j.Stats.Attempt(info.AppID, info.WebhookID, info.sourceID(), a, v.Status == hookd.DeliveryFailed)
	for _, kind := range v.Notices {
		n := hookd.Notice{Kind: kind, AppID: info.AppID, WebhookID: info.WebhookID, DeliveryID: a.DeliveryID, EventID: info.EventID, At: a.At}
		if kind == hookd.NoticeWebhookDisabled {
			n.Reason = t.DisabledReason
		}
		j.Notices = append(j.Notices, n)
	}
	return v
}

// LastAttempts returns the time of the latest of results' attempts to
// each webhook.
func LastAttempts(results []*store.AttemptResult) map[string]time.Time {
	last := map[string]time.Time{}
	for _, r := range results {
		if id := r.Attempt.WebhookID; id != "" && r.Attempt.At.After(last[id]) {
			last[id] = r.Attempt.At
		}
	}
	return last
}
