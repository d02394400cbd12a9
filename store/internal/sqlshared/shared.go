// Package sqlshared is the part of the two SQL stores that they write
// alike: the rows that say where and how to deliver (apps and their keys,
// event types, webhooks, sources) and the dashboard's sessions; reading
// and pruning kept statistics; and the order of the writes that change a
// webhook's or source's status or recover a webhook's failed deliveries.
// It runs the same SQL on either database through DB, a small interface
// that each store implements over its driver; the few places where the
// two databases are written apart are in Dialect. The statements that
// move or re-queue deliveries (Moving, Recovering), and those of the
// queue, publish, the event and delivery lists and the statistics'
// upserts, are tuned to each database and stay with its store, in its
// own placeholders.
package sqlshared

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

// DB is a database, or a transaction in one, as the shared code uses it.
// The shared queries mark their arguments with ?, in order; a store whose
// driver numbers them ($1, $2, ...) rewrites them (see Rebind). A store's
// own statements, run through the DB its Moving and Recovering are
// handed, are its own SQL and are passed as they are.
type DB interface {
	// Exec runs a statement and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// QueryRow runs a query expected to return at most one row; its Scan
	// returns an error that is sql.ErrNoRows when there is none.
	QueryRow(ctx context.Context, query string, args ...any) sqlrow.Scanner
	// Query runs a query; the caller closes its rows.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// InTx runs fn in one write transaction, with tx the DB that writes
	// in it. Called on tx, it runs fn in tx.
	InTx(ctx context.Context, fn func(tx DB) error) error
	// UniqueViolation reports whether err broke a unique constraint.
	UniqueViolation(err error) bool
}

// Rows is a query's result, as a store's driver returns it.
type Rows interface {
	sqlrow.Rows
	Close()
}

// Dialect is what the two databases need written apart.
type Dialect struct {
	// LockApp, when set, locks the row of an app (its id the argument)
	// until the transaction ends, so that concurrent creates of its
	// webhooks count them in turn. A database with one writer needs none.
	LockApp string
	// Ranges writes the equality on the leading column of an index that
	// a list walks as a range (col >= v AND col <= v): PostgreSQL then
	// walks the index in order rather than sorting what it finds.
	Ranges bool
	// HistogramColumns selects the duration histogram of a row of
	// delivery_stats; HistogramInto returns where to scan it into a
	// slice of hookd.DurationBuckets counts.
	HistogramColumns string
	HistogramInto    func(durations *[]int64) []any
	// LockRow, appended to a SELECT of one row, locks the row until the
	// transaction ends (FOR NO KEY UPDATE), so that writers that read it
	// before they update or delete it take turns. A database with one
	// writer needs none.
	LockRow string
}

// Shared implements, once for both stores, the store.Store methods
// about apps, keys, event types, webhooks, sources, sessions and reads
// of statistics. A store embeds it.
type Shared struct {
	db         DB
	sealer     store.Sealer
	dialect    Dialect
	deleted    func()
	recovering Recovering
	moving     Moving
}

// Config is what New needs.
type Config struct {
	DB      DB
	Sealer  store.Sealer
	Dialect Dialect
	// Deleted, when set, is called after a delete that may have deleted
	// deliveries with the rows they belong to.
	Deleted func()
	// Recovering re-queues what RecoverWebhook asks for.
	Recovering Recovering
	// Moving moves the open deliveries of a webhook or source whose
	// status an update changed.
	Moving Moving
}

// New returns the shared code of the database cfg.DB.
func New(cfg Config) *Shared {
	deleted := cfg.Deleted
	if deleted == nil {
		deleted = func() {}
	}
	return &Shared{db: cfg.DB, sealer: cfg.Sealer, dialect: cfg.Dialect, deleted: deleted, recovering: cfg.Recovering, moving: cfg.Moving}
}

// equal is the condition col = v, as the dialect writes it for a list
// that walks an index led by col, with its arguments.
func (c *Shared) equal(col string, v any) (string, []any) {
	if c.dialect.Ranges {
		return "(" + col + " >= ? AND " + col + " <= ?)", []any{v, v}
	}
	return col + " = ?", []any{v}
}

// page is the condition of a list's page that walks col down from the
// cursor, with its arguments.
func page(col string, p store.Page) (string, []any) {
	if p.After == "" {
		return "", nil
	}
	return " AND " + col + " < ?", []any{p.After}
}

// list runs a query that lists one page of rows, its arguments args and
// the page's limit, and returns the page and the next cursor.
func list[T any](ctx context.Context, db DB, op string, p store.Page, query string, args []any, scan func(sqlrow.Scanner) (T, error), id func(T) string) ([]T, string, error) {
	rows, err := db.Query(ctx, query+` LIMIT ?`, append(args, sqlrow.LimitFor(p))...)
	return sqlrow.List(rows, err, op, p, scan, id)
}

// changed is the error of a write, op, of the row what with id that
// changed n rows: NotFound when it changed none.
func changed(n int64, err error, op, what, id string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if n == 0 {
		return sqlrow.NotFound(what, id)
	}
	return nil
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// collect returns every row that a query returned (rows and err), scanned
// with scan; it closes rows and wraps an error as op.
func collect[T any](rows Rows, err error, op string, scan func(sqlrow.Scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	items, err := sqlrow.Collect(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return items, nil
}

// Rebind numbers the ? that mark a query's arguments ($1, $2, ...), for
// a driver that takes them so. Its queries hold no ? but
// those.
func Rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}
