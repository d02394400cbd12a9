package egress

import "io"

// MaxDrain is how many bytes past the kept prefix ReadCapped reads and
// discards so that the connection can go back to the keep-alive pool. A
// response longer than that is cut off instead: closing its body closes
// the connection, which is cheaper than reading an unbounded answer.
const MaxDrain = 64 << 10

// ReadCapped returns the first n bytes of r as a string (an attempt keeps
// the first 4 KiB of a response body for the log), then reads and discards
// up to MaxDrain more bytes so the connection can be reused. It never reads
// more than n+MaxDrain bytes. The string may end inside a UTF-8 sequence, or
// not be text at all: it is the bytes as received.
//
// The error is that of reading the kept prefix, other than io.EOF; what was
// read before it is returned too. Errors while draining are ignored: they
// only cost the connection. ReadCapped does not close r.
func ReadCapped(r io.Reader, n int) (string, error) {
	if n < 0 {
		n = 0
	}
	// io.ReadAll starts small (most answers are a few bytes) where io.Copy
	// into a strings.Builder made a buffer of n bytes for every attempt.
	b, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(r, MaxDrain))
	}
	return string(b), err
}
