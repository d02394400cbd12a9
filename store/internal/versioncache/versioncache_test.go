package versioncache_test

import (
	"errors"
	"testing"

	"github.com/hookd/hookd/store/internal/versioncache"
)

func TestVersionCache(t *testing.T) {
	t.Parallel()
	var c versioncache.Cache[string]
	if _, ok := c.Get("a", 1); ok {
		t.Fatal("empty cache hit")
	}
	c.Put("a", 1, "one")
	if v, ok := c.Get("a", 1); !ok || v != "one" {
		t.Errorf("Get(a, 1) = %q, %t", v, ok)
	}
	if _, ok := c.Get("a", 2); ok {
		t.Error("a newer version hit the old entry")
	}
	small := versioncache.Cache[int]{Max: 2}
	small.Put("x", 1, 1)
	small.Put("y", 1, 2)
	small.Put("z", 1, 3) // full: starts over
	if _, ok := small.Get("x", 1); ok {
		t.Error("cache kept more entries than Max")
	}
	if v, ok := small.Get("z", 1); !ok || v != 3 {
		t.Errorf("newest entry lost: %d, %t", v, ok)
	}
}

func TestVersionCacheLoad(t *testing.T) {
	t.Parallel()
	var c versioncache.Cache[string]
	decoded := 0
	decode := func(v string) func() (string, error) {
		return func() (string, error) { decoded++; return v, nil }
	}
	for range 2 {
		if v, err := c.Load("a", 1, decode("one")); err != nil || v != "one" {
			t.Fatalf("Load(a, 1) = %q, %v", v, err)
		}
	}
	if decoded != 1 {
		t.Errorf("decoded %d times for one version, want 1", decoded)
	}
	if v, _ := c.Load("a", 2, decode("two")); v != "two" || decoded != 2 {
		t.Errorf("a new version gave %q after %d decodes", v, decoded)
	}
	failed := errors.New("no such row")
	if _, err := c.Load("b", 1, func() (string, error) { return "", failed }); !errors.Is(err, failed) {
		t.Errorf("a failed decode answered %v", err)
	}
	if _, ok := c.Get("b", 1); ok {
		t.Error("a failed decode was cached")
	}
}
