package hookd

// Route is where one published event goes.
type Route struct {
	WebhookID string // empty for a one-off URL
	URL       string // set for a one-off URL only
	Status    string // DeliveryPending, or DeliveryHeld for a paused webhook
}

// RouteParams describe one event and how the publisher asked to route it.
type RouteParams struct {
	Type string
	// OnlyWebhookID sends the event to that webhook alone, whatever its
	// filter and status (test events). The caller has checked it exists.
	OnlyWebhookID string
	// OneOffURL and OneOffEvents are a destination given with the request.
	OneOffURL    string
	OneOffEvents []string
}

// RouteEvent returns the deliveries to create for one event among an app's
// webhooks. Disabled webhooks get nothing; paused ones get held deliveries;
// each webhook gets at most one delivery, even when it is also the one-off
// destination.
func RouteEvent(hooks []*Webhook, p RouteParams) []Route {
	if p.OnlyWebhookID != "" {
		return []Route{{WebhookID: p.OnlyWebhookID, Status: DeliveryPending}}
	}
	var routes []Route
	oneOffTaken := false
	wantOneOff := p.OneOffURL != "" && (len(p.OneOffEvents) == 0 || MatchesFilter(p.OneOffEvents, p.Type))
	for _, w := range hooks {
		atOneOff := wantOneOff && w.URL == p.OneOffURL
		if atOneOff {
			oneOffTaken = true
		}
		if w.Status == WebhookDisabled || !(atOneOff || w.Subscribes(p.Type)) {
			continue
		}
		status := DeliveryPending
		if w.Status == WebhookPaused {
			status = DeliveryHeld
		}
		routes = append(routes, Route{WebhookID: w.ID, Status: status})
	}
	if wantOneOff && !oneOffTaken {
		routes = append(routes, Route{URL: p.OneOffURL, Status: DeliveryPending})
	}
	return routes
}

// RetryStatus returns the status a manual retry gives a delivery: pending,
// or held while its webhook is paused. A delivery with an attempt in flight,
// or of a disabled webhook, cannot be retried (CONFLICT). Test deliveries go
// whatever the webhook's status.
func RetryStatus(inFlight bool, webhookStatus string, test bool, deliveryID string) (string, error) {
	switch {
	case inFlight:
		return "", Errorf(ECONFLICT, "an attempt of delivery %s is in flight", deliveryID)
	case test:
		return DeliveryPending, nil
	case webhookStatus == WebhookDisabled:
		return "", Errorf(ECONFLICT, "the webhook of delivery %s is disabled; enable it first", deliveryID)
	case webhookStatus == WebhookPaused:
		return DeliveryHeld, nil
	}
	return DeliveryPending, nil
}
