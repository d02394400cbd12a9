package hookd

import (
	"math"
	"strings"
	"unicode/utf8"
)

// StorableText returns s as every store can keep it in a text column:
// valid UTF-8, each byte that is not replaced by U+FFFD; no NUL, which
// PostgreSQL's text refuses, replaced by U+FFFD too; and at most limit
// bytes (limit <= 0: no limit), cut at a rune boundary. Text that comes
// from outside (an answer's body, an error quoting a peer's certificate, a
// provider's event type) passes through it before it reaches a store, so
// that no such text can fail a write that other rows share.
//
// Text that is already storable is returned as it is, without allocating.
func StorableText(s string, limit int) string {
	if limit <= 0 || limit >= len(s) {
		if isStorable(s) {
			return s
		}
		if limit <= 0 {
			limit = math.MaxInt
		}
	} else if isStorable(s[:limit]) && (limit == len(s) || utf8.RuneStart(s[limit])) {
		return s[:limit]
	}
	return rewriteStorable(s, limit)
}

// isStorable reports whether s is valid UTF-8 without NUL.
func isStorable(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// rewriteStorable is StorableText's slow path: it copies s run by run of
// storable text, replacing each byte that cannot be stored, until the
// next rune would pass limit.
func rewriteStorable(s string, limit int) string {
	var b strings.Builder
	b.Grow(min(len(s)+8, limit))
	for i := 0; i < len(s); {
		j := storableRun(s, i)
		run := s[i:j]
		if b.Len()+len(run) > limit {
			k := limit - b.Len()
			for k > 0 && !utf8.RuneStart(run[k]) {
				k--
			}
			b.WriteString(run[:k])
			break
		}
		b.WriteString(run)
		if i = j; i == len(s) {
			break
		}
		if b.Len()+len(replacement) > limit {
			break
		}
		b.WriteString(replacement)
		i++ // a NUL or a byte that is not UTF-8
	}
	return b.String()
}

// replacement stands for each byte that cannot be stored.
const replacement = string(utf8.RuneError)

// storableRun returns where the run of storable text starting at i ends:
// at a NUL, a byte that is not UTF-8, or the end of s.
func storableRun(s string, i int) int {
	for i < len(s) {
		c := s[i]
		if c == 0 {
			return i
		}
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return i
}
