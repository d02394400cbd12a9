// Package ident makes hookd's ids: a short type prefix and a ULID, so that
// ids sort by creation time and lists page by id alone.
package ident

import (
	"crypto/rand"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// Generator makes ids. Its zero value is not usable; call New.
type Generator struct {
	mu      sync.Mutex
	now     func() time.Time
	entropy io.Reader
}

// New returns a generator reading time from now (nil means time.Now).
// Ids made in the same millisecond by one generator still sort in the
// order they were made.
func New(now func() time.Time) *Generator {
	if now == nil {
		now = time.Now
	}
	return &Generator{now: now, entropy: ulid.Monotonic(rand.Reader, 0)}
}

// New returns prefix + "_" + a lower-case ULID.
func (g *Generator) New(prefix string) string {
	g.mu.Lock()
	id := ulid.MustNew(ulid.Timestamp(g.now()), g.entropy)
	g.mu.Unlock()
	return prefix + "_" + strings.ToLower(id.String())
}

// Floor returns the least id with prefix that New could make at t's
// millisecond: every id New made before that millisecond sorts below it,
// and every id made in it or later sorts at or above it. A store finds
// what was made before t by id alone with it (retention does).
func Floor(prefix string, t time.Time) string {
	var id ulid.ULID // zero entropy
	if err := id.SetTime(ulid.Timestamp(t)); err != nil {
		panic("ident: " + err.Error()) // after the year 10889
	}
	return prefix + "_" + strings.ToLower(id.String())
}

// maxPrefix bounds an id's type prefix; hookd's are three letters.
const maxPrefix = 16

// Valid reports whether id has the form New makes: a prefix of lower-case
// letters, "_", and a lower-case ULID. Lists take such an id as their
// cursor, and Valid is how the API tells a cursor from garbage.
func Valid(id string) bool {
	prefix, rest, ok := strings.Cut(id, "_")
	if !ok || len(prefix) == 0 || len(prefix) > maxPrefix || len(rest) != ulid.EncodedSize {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if c := prefix[i]; c < 'a' || c > 'z' {
			return false
		}
	}
	if strings.ToLower(rest) != rest {
		return false
	}
	_, err := ulid.ParseStrict(rest)
	return err == nil
}
