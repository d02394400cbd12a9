package hookd

import "time"

// Source statuses.
const (
	SourceActive   = "active"
	SourcePaused   = "paused"
	SourceDisabled = "disabled"
)

// Source providers: how a third party signs what it sends.
const (
	ProviderStandard       = "standard"
	ProviderStripe         = "stripe"
	ProviderGitHub         = "github"
	ProviderLinear         = "linear"
	ProviderShopify        = "shopify"
	ProviderSlack          = "slack"
	ProviderHMACHex        = "hmac-hex"
	ProviderTimestampedHex = "timestamped-hex"
)

// Source is an inbound receiver: a public URL that a third party POSTs to.
// hookd verifies each request by the provider's scheme, keeps it, and
// forwards it to ForwardURL through the delivery engine.
type Source struct {
	ID          string
	AppID       string
	Name        string
	Provider    string
	Status      string
	ForwardURL  string // empty: events are kept, not forwarded
	Events      []string
	Description string
	// HeaderPrefix names the headers of the hmac-hex and timestamped-hex
	// providers (X-Acme gives X-Acme-Signature).
	HeaderPrefix     string
	ToleranceSeconds int
	Secret           string
	// PreviousSecret still verifies until PreviousSecretExpiresAt after a
	// rotation with a grace period.
	PreviousSecret          string
	PreviousSecretExpiresAt time.Time
	// Version counts the stored row's updates; an update made from an
	// older read is refused (store.ErrStale).
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// VerifyingSecrets returns the secrets that verify a request at now.
func (s *Source) VerifyingSecrets(now time.Time) []string {
	if s.PreviousSecret != "" && now.Before(s.PreviousSecretExpiresAt) {
		return []string{s.Secret, s.PreviousSecret}
	}
	return []string{s.Secret}
}

// Accepts reports whether an event of type typ passes the source's
// allow-list; an empty list accepts everything.
func (s *Source) Accepts(typ string) bool {
	return len(s.Events) == 0 || MatchesFilter(s.Events, typ)
}

// SourceHealth is what the API reports with a source: its kept counts.
type SourceHealth struct {
	EventCount  int64
	LastEventAt *time.Time
}

// Inbound is what a source received, kept beside the Event that holds its
// raw body as Payload.
type Inbound struct {
	SourceID   string
	SourceName string
	// ProviderEventID is the provider's own id of the delivery, recorded
	// once however often the provider resends it; empty when the
	// provider sends none.
	ProviderEventID string
	Headers         map[string]string
	ContentType     string
	// Filtered is set when the event's type is outside the source's
	// allow-list: it is kept but not forwarded.
	Filtered bool
}

// RotateSecret returns the secrets after replacing current with next: with
// a grace period the old one keeps working until it ends, without one it
// stops at once (previous is then "").
func RotateSecret(current, next string, grace time.Duration, now time.Time) (secret, previous string, previousExpires time.Time) {
	if grace <= 0 {
		return next, "", time.Time{}
	}
	return next, current, now.Add(grace)
}
