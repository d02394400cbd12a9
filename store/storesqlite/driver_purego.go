//go:build !cgo

package storesqlite

import (
	"database/sql/driver"
	"errors"
	"net/url"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// connector opens connections to the database at path through the pure-Go
// SQLite (modernc.org/sqlite), so that hookd builds without a C toolchain.
// txlock is how BEGIN starts ("immediate" or "deferred").
func connector(path, txlock string) driver.Connector {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	for _, p := range connPragmas {
		name, value, _ := strings.Cut(p, " = ")
		q.Add("_pragma", name+"("+value+")")
	}
	q.Set("_txlock", txlock)
	return &dsnConnector{drv: &sqlite.Driver{}, dsn: "file:" + path + "?" + q.Encode()}
}

func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		code := se.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}
