package storesqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store/internal/sqlrow"
	"github.com/hookd/hookd/store/internal/sqlshared"
)

// newShared returns what the store shares with PostgreSQL's (see package
// sqlshared), its moves and recoveries given as SQLite's own: it reads
// from the reader pool and writes through the one writer.
func (s *Store) newShared() *sqlshared.Shared {
	return sqlshared.New(sqlshared.Config{
		DB:     sharedDB{s},
		Sealer: s.sealer,
		Dialect: sqlshared.Dialect{
			HistogramColumns: strings.Join(durationColumns, ", "),
			HistogramInto: func(durations *[]int64) []any {
				*durations = make([]int64, hookd.DurationBuckets)
				into := make([]any, len(*durations))
				for i := range *durations {
					into[i] = &(*durations)[i]
				}
				return into
			},
		},
		Deleted: s.deletedDeliveries,
		Moving: sqlshared.Moving{
			Chunk: func(ctx context.Context, tx sqlshared.DB, column, id, status string, now time.Time) (int, error) {
				return moveOpenDeliveries(ctx, tx.(sharedTx).tx, column, id, status, now, moveChunk)
			},
			Rest: s.moveRest,
		},
		Recovering: sqlshared.Recovering{
			Chunk: recoverChunk, Size: moveChunk, NewID: s.newID, Work: s.moves, Log: s.log, Now: s.now,
		},
	})
}

// sharedDB is the store as the shared code uses it.
type sharedDB struct{ s *Store }

func (d sharedDB) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := d.s.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d sharedDB) QueryRow(ctx context.Context, query string, args ...any) sqlrow.Scanner {
	return d.s.r.QueryRowContext(ctx, query, args...)
}

func (d sharedDB) Query(ctx context.Context, query string, args ...any) (sqlshared.Rows, error) {
	return queryRows(d.s.r.QueryContext(ctx, query, args...))
}

func (d sharedDB) InTx(ctx context.Context, fn func(sqlshared.DB) error) error {
	return d.s.tx(ctx, func(tx *sql.Tx) error { return fn(sharedTx{tx}) })
}

func (sharedDB) UniqueViolation(err error) bool { return isUniqueViolation(err) }

// sharedTx is a write transaction as the shared code uses it.
type sharedTx struct{ tx *sql.Tx }

func (t sharedTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t sharedTx) QueryRow(ctx context.Context, query string, args ...any) sqlrow.Scanner {
	return t.tx.QueryRowContext(ctx, query, args...)
}

func (t sharedTx) Query(ctx context.Context, query string, args ...any) (sqlshared.Rows, error) {
	return queryRows(t.tx.QueryContext(ctx, query, args...))
}

func (t sharedTx) InTx(_ context.Context, fn func(sqlshared.DB) error) error { return fn(t) }

func (sharedTx) UniqueViolation(err error) bool { return isUniqueViolation(err) }

// rows is *sql.Rows as sqlshared.Rows.
type rows struct{ *sql.Rows }

func (r rows) Close() { r.Rows.Close() }

func queryRows(r *sql.Rows, err error) (sqlshared.Rows, error) {
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}

// getWebhook reads a webhook in tx.
func (s *Store) getWebhook(ctx context.Context, tx *sql.Tx, appID, id string) (*hookd.Webhook, error) {
	return s.Shared.Webhook(ctx, sharedTx{tx}, appID, id)
}
