package storesqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store/internal/catalog"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

// newCatalog returns the store's catalog (see package catalog): it reads
// from the reader pool and writes through the one writer.
func (s *Store) newCatalog() *catalog.Catalog {
	return catalog.New(catalog.Config{
		DB:     catalogDB{s},
		Sealer: s.sealer,
		Dialect: catalog.Dialect{
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
		Moving: catalog.Moving{
			Chunk: func(ctx context.Context, tx catalog.DB, column, id, status string, now time.Time) (int, error) {
				return moveOpenDeliveries(ctx, tx.(catalogTx).tx, column, id, status, now, moveChunk)
			},
			Rest: s.moveRest,
		},
		Recovering: catalog.Recovering{
			Chunk: recoverChunk, Size: moveChunk, NewID: s.newID, Work: s.moves, Log: s.log, Now: s.now,
		},
	})
}

// catalogDB is the store as its catalog uses it.
type catalogDB struct{ s *Store }

func (d catalogDB) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := d.s.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d catalogDB) QueryRow(ctx context.Context, query string, args ...any) sqlrow.Scanner {
	return d.s.r.QueryRowContext(ctx, query, args...)
}

func (d catalogDB) Query(ctx context.Context, query string, args ...any) (catalog.Rows, error) {
	return queryRows(d.s.r.QueryContext(ctx, query, args...))
}

func (d catalogDB) InTx(ctx context.Context, fn func(catalog.DB) error) error {
	return d.s.tx(ctx, func(tx *sql.Tx) error { return fn(catalogTx{tx}) })
}

func (catalogDB) UniqueViolation(err error) bool { return isUniqueViolation(err) }

// catalogTx is a write transaction as the catalog uses it.
type catalogTx struct{ tx *sql.Tx }

func (t catalogTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t catalogTx) QueryRow(ctx context.Context, query string, args ...any) sqlrow.Scanner {
	return t.tx.QueryRowContext(ctx, query, args...)
}

func (t catalogTx) Query(ctx context.Context, query string, args ...any) (catalog.Rows, error) {
	return queryRows(t.tx.QueryContext(ctx, query, args...))
}

func (t catalogTx) InTx(_ context.Context, fn func(catalog.DB) error) error { return fn(t) }

func (catalogTx) UniqueViolation(err error) bool { return isUniqueViolation(err) }

// rows is *sql.Rows as catalog.Rows.
type rows struct{ *sql.Rows }

func (r rows) Close() { r.Rows.Close() }

func queryRows(r *sql.Rows, err error) (catalog.Rows, error) {
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}

// getWebhook reads a webhook in tx.
func (s *Store) getWebhook(ctx context.Context, tx *sql.Tx, appID, id string) (*hookd.Webhook, error) {
	return s.Catalog.Webhook(ctx, catalogTx{tx}, appID, id)
}
