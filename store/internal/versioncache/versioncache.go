// Package versioncache keeps the decoded rows the delivery path reads
// over and over, each under the version it was read at.
package versioncache

import "sync"

// Cache keeps decoded rows (webhooks, apps) that the delivery path
// reads over and over, each under the version (a counter every update bumps) it was read at.
// A store checks a row's current version with a cheap query and decodes it
// again, decrypting its secrets, only when the version moved. The zero
// value is ready; it holds at most Max entries (0 means 50,000) and empties
// itself when full, which is rare and costs only re-reads.
type Cache[V any] struct {
	Max int

	mu      sync.Mutex
	entries map[string]versioned[V]
}

type versioned[V any] struct {
	version int64
	value   V
}

// Get returns the value cached for id at version.
func (c *Cache[V]) Get(id string, version int64) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || e.version != version {
		var zero V
		return zero, false
	}
	return e.value, true
}

// Put caches value for id at version.
func (c *Cache[V]) Put(id string, version int64, value V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	max := c.Max
	if max <= 0 {
		max = 50_000
	}
	if c.entries == nil || len(c.entries) >= max {
		c.entries = make(map[string]versioned[V])
	}
	c.entries[id] = versioned[V]{version: version, value: value}
}

// Load returns the value cached for id at version, or decodes it with
// decode and caches it.
func (c *Cache[V]) Load(id string, version int64, decode func() (V, error)) (V, error) {
	if v, ok := c.Get(id, version); ok {
		return v, nil
	}
	v, err := decode()
	if err != nil {
		return v, err
	}
	c.Put(id, version, v)
	return v, nil
}
