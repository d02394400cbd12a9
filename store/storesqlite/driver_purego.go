//go:build !cgo

package storesqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"net/url"
	"syscall"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// connector opens connections to the database at path through the pure-Go
// SQLite (modernc.org/sqlite), so that hookd builds without a C toolchain.
// txlock is how BEGIN starts ("immediate" or "deferred").
func connector(path, txlock string) driver.Connector {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "synchronous(FULL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", txlock)
	// The driver sorts _pragma settings by name; connPragmas must run in
	// their own order (page_size before journal_mode), so a hook runs them.
	drv := &sqlite.Driver{}
	drv.RegisterConnectionHook(func(c sqlite.ExecQuerierContext, _ string) error {
		return setConnPragmas(func(query string) error {
			_, err := c.ExecContext(context.Background(), query, nil)
			return err
		})
	})
	return &dsnConnector{drv: drv, dsn: "file:" + path + "?" + q.Encode()}
}

func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		code := se.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isDiskFull reports whether err says the disk is full: SQLITE_FULL (in
// any of its extended forms).
func isDiskFull(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()&0xff == sqlite3.SQLITE_FULL
	}
	return errors.Is(err, syscall.ENOSPC)
}
