// Package pgtest gives tests a fresh, empty PostgreSQL schema of their own.
//
// The server is taken from HOOKD_TEST_POSTGRES_URL, or
// postgres://postgres@127.0.0.1:5432/test by default. Where it cannot be
// reached the test is skipped with a message saying so, except under CI
// (CI=true), where a missing database is a failure.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is used when HOOKD_TEST_POSTGRES_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// BaseURL returns the server's URL.
func BaseURL() string {
	if u := os.Getenv("HOOKD_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// URL creates a new schema and returns a connection URL whose search_path
// is that schema. The schema is dropped at cleanup.
func URL(tb testing.TB) string {
	tb.Helper()
	base := BaseURL()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("PostgreSQL at %s is not reachable under CI: %v", redact(base), err)
		}
		tb.Skipf("skipping: PostgreSQL at %s is not reachable (set HOOKD_TEST_POSTGRES_URL): %v", redact(base), err)
	}
	defer conn.Close(ctx)
	raw := make([]byte, 6)
	rand.Read(raw)
	schema := "hookd_test_" + hex.EncodeToString(raw)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Logf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Logf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse %s: %v", redact(base), err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
