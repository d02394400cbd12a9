package store

import "github.com/hookd/hookd"

// StatusLiteral returns status as an SQL string literal when it is one of
// the delivery statuses, and false otherwise. Lists filter by status with
// the literal rather than a parameter: only a literal lets either
// database use a partial index whose predicate names the status (the
// failed deliveries of a webhook, its open ones), also in a plan prepared
// once and run with other values.
func StatusLiteral(status string) (string, bool) {
	switch status {
	case hookd.DeliveryPending, hookd.DeliverySucceeded, hookd.DeliveryFailed, hookd.DeliveryHeld:
		return "'" + status + "'", true
	}
	return "", false
}
