package sqlrow

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// Scanner is a row to scan: *sql.Row, *sql.Rows, pgx.Row and pgx.Rows
// all are.
type Scanner interface {
	Scan(dest ...any) error
}

// Rows is a result to walk, as *sql.Rows and pgx.Rows are. Its caller
// closes it (the two Close methods differ).
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// Collect scans every row of rows with scan.
func Collect[T any](rows Rows, scan func(Scanner) (T, error)) ([]T, error) {
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// NotFound is the error for a row what (an app, a webhook, ...) with id
// that does not exist.
func NotFound(what, id string) error {
	// The id may be anything a caller sent: cut it short.
	return hookd.Errorf(hookd.ENOTFOUND, "%s %.80q not found", what, id)
}

// NoRows reports whether err says a query found no row; pgx.ErrNoRows
// is sql.ErrNoRows too.
func NoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// LimitFor asks for one row more than the page holds, to learn whether a
// next page exists.
func LimitFor(p store.Page) int {
	if p.Limit <= 0 {
		return 51
	}
	return p.Limit + 1
}

// TrimPage cuts the extra row LimitFor asked for and returns the next
// cursor, the id of the page's last item ("" on the last page).
func TrimPage[T any](items []T, p store.Page, id func(T) string) ([]T, string) {
	limit := p.Limit
	if limit <= 0 {
		limit = 50
	}
	if len(items) > limit {
		items = items[:limit]
		return items, id(items[len(items)-1])
	}
	return items, ""
}

// CheckVersion reads the status and version of a row what with id, which
// row selects (SELECT status, version ...), before an update made from a
// read at version want: the row must exist and not have changed since
// (store.ErrStale). It returns the row's status before the update.
func CheckVersion(row Scanner, what, id string, want int64) (status string, err error) {
	var version int64
	err = row.Scan(&status, &version)
	if NoRows(err) {
		return "", NotFound(what, id)
	}
	if err != nil {
		return "", fmt.Errorf("update %s: %w", what, err)
	}
	if version != want {
		return "", fmt.Errorf("update %s %s: %w", what, id, store.ErrStale)
	}
	return status, nil
}

// Found is the error of a lookup of one row, what with id, that failed
// with err: nil, NotFound when there is no such row, or err wrapped as op.
func Found(err error, op, what, id string) error {
	if err == nil {
		return nil
	}
	if NoRows(err) {
		return NotFound(what, id)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// List returns the page that rows hold, scanned with scan, and the
// cursor of the next page (see TrimPage); rows and err are what a query
// asking for LimitFor(page) rows returned. It closes rows and wraps an
// error as op.
func List[T any](rows Rows, err error, op string, page store.Page, scan func(Scanner) (T, error), id func(T) string) ([]T, string, error) {
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	defer closeRows(rows)
	items, err := Collect(rows, scan)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	items, next := TrimPage(items, page, id)
	return items, next, nil
}

// closeRows closes a *sql.Rows or a pgx.Rows, whose Close methods differ.
func closeRows(rows Rows) {
	switch r := rows.(type) {
	case interface{ Close() error }:
		r.Close()
	case interface{ Close() }:
		r.Close()
	}
}

// Counts returns the counts that rows hold as (key, count) pairs; rows
// and err are what a query grouping by key returned. It closes rows and
// wraps an error as op.
func Counts(rows Rows, err error, op string) (map[string]int64, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer closeRows(rows)
	counts := map[string]int64{}
	for rows.Next() {
		var key string
		var n int64
		if err := rows.Scan(&key, &n); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		counts[key] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return counts, nil
}

// Written is the error of a write, op, that failed with err: nil, taken
// when err broke a unique constraint (unique says whether it did, which
// only each store's driver can tell), or err wrapped as op.
func Written(err error, unique bool, taken error, op string) error {
	switch {
	case err == nil:
		return nil
	case unique:
		return taken
	}
	return fmt.Errorf("%s: %w", op, err)
}

// UIDTaken is the error of a write that gives an app the uid of another.
func UIDTaken(uid string) error {
	return hookd.Errorf(hookd.ECONFLICT, "an app with uid %q already exists", uid)
}
