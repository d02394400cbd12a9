package service

import (
	"sync"
	"time"
)

// publishCacheTTL is how long publishing trusts an app or an event type it
// read: changes made through this process apply at once (they clear the
// cache), changes made by other processes sharing the database within it.
const publishCacheTTL = time.Second

// shortCacheSize bounds a shortCache; a full cache starts again empty.
const shortCacheSize = 10_000

// shortCache keeps values read from the store for a short time, so that
// publishing, the hot path, does not read rows that rarely change (an app,
// its event types) on every request.
type shortCache[V any] struct {
	ttl time.Duration

	mu      sync.Mutex
	gen     uint64 // bumped by clear
	entries map[string]shortEntry[V]
}

type shortEntry[V any] struct {
	value V
	until time.Time
}

func newShortCache[V any](ttl time.Duration) *shortCache[V] {
	return &shortCache[V]{ttl: ttl, entries: map[string]shortEntry[V]{}}
}

// get returns the value under key, loading it when it is missing or older
// than the ttl. A value loaded while the cache was cleared is returned but
// not kept: it may predate the change that cleared it.
func (c *shortCache[V]) get(key string, now time.Time, load func() (V, error)) (V, error) {
	c.mu.Lock()
	e, ok := c.entries[key]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.value, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		if len(c.entries) >= shortCacheSize {
			clear(c.entries)
		}
		c.entries[key] = shortEntry[V]{value: v, until: now.Add(c.ttl)}
	}
	return v, nil
}

// clear forgets every value, and any load under way.
func (c *shortCache[V]) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}
