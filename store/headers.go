package store

import (
	"maps"
	"slices"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/hookd/hookd"
)

// AppendHeaders appends an attempt's request headers to dst as the JSON
// object the stores keep in attempts.request_headers: keys sorted, and
// bytes that are not UTF-8 replaced by U+FFFD, as json.Marshal writes a
// map (an attempt is logged whatever a header holds). Every attempt
// writes one, and json.Marshal's reflection over the map was a few
// percent of the delivery path's CPU.
func AppendHeaders(dst []byte, headers map[string]string) []byte {
	dst = append(dst, '{')
	for i, k := range slices.Sorted(maps.Keys(headers)) {
		if i > 0 {
			dst = append(dst, ',')
		}
		// AppendQuote's only error reports invalid UTF-8, which it has
		// already replaced.
		dst, _ = jsontext.AppendQuote(dst, k)
		dst = append(dst, ':')
		dst, _ = jsontext.AppendQuote(dst, headers[k])
	}
	return append(dst, '}')
}

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
