package wire

import (
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/webhook"
)

// SignatureHeaders returns the headers that sign one attempt: those of
// webhook.Sign for sig's scheme and prefix, then, when sig.EventHeader is
// set, the event header carrying eventType. Names are spelled exactly as
// they go on the wire; set them on a request with
// req.Header[name] = []string{value}, since Header.Set would change their
// case.
//
// The event header is {prefix}-Event, or {prefix}-event for the standard
// scheme, whose names are lowercase (webhook-event with the empty prefix).
// secrets are newest first; msgID is the event id (the standard scheme's
// webhook-id) and ts the signing time of this attempt.
func SignatureHeaders(sig hookd.SignatureConfig, secrets []string, msgID, eventType string, ts time.Time, body []byte) ([]webhook.Header, error) {
	opts := webhook.Options{Scheme: webhook.Scheme(sig.Scheme), HeaderPrefix: sig.HeaderPrefix}
	hs, err := webhook.Sign(opts, secrets, msgID, ts, body)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	if !sig.EventHeader {
		return hs, nil
	}
	for i := 0; i < len(eventType); i++ {
		if c := eventType[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return nil, hookd.Errorf(hookd.EINVALID, "event type %q cannot go in a header", eventType)
		}
	}
	name := sig.HeaderPrefix + "-Event"
	if opts.Scheme == webhook.Standard {
		p := sig.HeaderPrefix
		if p == "" {
			p = "webhook"
		}
		name = p + "-event"
	}
	return append(hs, webhook.Header{Name: name, Value: eventType}), nil
}
