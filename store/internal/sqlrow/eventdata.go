package sqlrow

import "bytes"

// EventDataColumns returns what a store writes for an event's data: the
// data itself (at and length nil), or, where the payload holds it byte for
// byte, as every envelope that embeds data as it is does, an empty column
// and where in the payload the data lies (1-based byte offset and length),
// so that a 1 KiB event is not stored twice. Reading it back is
// substr(payload, at, length).
func EventDataColumns(data, payload []byte) (column []byte, at, length any) {
	if len(data) < minDataInPayload {
		return data, nil, nil
	}
	i := bytes.Index(payload, data)
	if i < 0 {
		return data, nil, nil
	}
	return []byte{}, i + 1, len(data)
}

// minDataInPayload is the least data worth finding in the payload.
const minDataInPayload = 64
