package sqlrow

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/go-json-experiment/json/jsontext"
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

// ResponseHeaders returns what the stores keep in
// attempts.response_headers for headers: their AppendHeaders encoding,
// appended to dst, or nothing (the empty text, which older rows hold too)
// when there are none, as when no answer came.
func ResponseHeaders(dst []byte, headers map[string]string) []byte {
	if len(headers) == 0 {
		return dst
	}
	return AppendHeaders(dst, headers)
}

// DecodeHeaders decodes attempts.request_headers or response_headers: nil
// for the empty text.
func DecodeHeaders(text []byte) (map[string]string, error) {
	if len(text) == 0 {
		return nil, nil
	}
	var h map[string]string
	if err := json.Unmarshal(text, &h); err != nil {
		return nil, err
	}
	return h, nil
}
