package sqlrow

import "github.com/hookd/hookd"

// AttemptTextLimit bounds, in bytes, an attempt's response body and error
// as a store keeps them. The engine keeps less (see deliver); the store
// applies it only so that no caller can hand it a row it cannot write.
const AttemptTextLimit = 64 << 10

// StorableAttemptText returns an attempt's response body and error as a
// store writes them: made storable by hookd.StorableText, so that text
// from outside cannot fail the batch it is recorded in. Request headers
// need no such step: AppendHeaders writes them as JSON, whose escapes
// keep any string storable in a text column.
func StorableAttemptText(a *hookd.Attempt) (responseBody, errText string) {
	return hookd.StorableText(a.ResponseBody, AttemptTextLimit), hookd.StorableText(a.Error, AttemptTextLimit)
}
