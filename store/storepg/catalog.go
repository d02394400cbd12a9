package storepg

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store/internal/catalog"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

// newCatalog returns the store's catalog (see package catalog). An error
// that says the database does not answer has the code UNAVAILABLE (see
// unavailable): a publish that looks its app up first answers 503.
func (s *Store) newCatalog() *catalog.Catalog {
	return catalog.New(catalog.Config{
		DB:     catalogDB{s, s.pool},
		Sealer: s.sealer,
		Dialect: catalog.Dialect{
			// Lock the app row so that concurrent creates count in turn.
			LockApp:          `SELECT 1 FROM apps WHERE id = ? FOR NO KEY UPDATE`,
			Ranges:           true,
			HistogramColumns: `durations`,
			HistogramInto:    func(durations *[]int64) []any { return []any{durations} },
			LockRow:          ` FOR NO KEY UPDATE`,
		},
		Moving: catalog.Moving{
			Chunk: func(ctx context.Context, tx catalog.DB, column, id, status string, now time.Time) (int, error) {
				return s.moveOpenDeliveries(ctx, tx.(catalogDB).q, column, id, status, now)
			},
			Rest: s.moveRest,
		},
		Recovering: catalog.Recovering{
			Chunk: s.recoverChunk, Size: moveChunk, NewID: s.newID, Work: s.moves, Log: s.log, Now: s.now,
		},
	})
}

// catalogDB is the pool, or a transaction, as the catalog uses it.
type catalogDB struct {
	s *Store
	q querier
}

func (d catalogDB) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := d.q.Exec(ctx, catalog.Rebind(query), args...)
	return tag.RowsAffected(), unavailable(err)
}

func (d catalogDB) QueryRow(ctx context.Context, query string, args ...any) sqlrow.Scanner {
	return row{d.q.QueryRow(ctx, catalog.Rebind(query), args...)}
}

func (d catalogDB) Query(ctx context.Context, query string, args ...any) (catalog.Rows, error) {
	rows, err := d.q.Query(ctx, catalog.Rebind(query), args...)
	if err != nil {
		return nil, unavailable(err)
	}
	return rows, nil
}

func (d catalogDB) InTx(ctx context.Context, fn func(catalog.DB) error) error {
	return d.s.tx(ctx, func(tx pgx.Tx) error { return fn(catalogDB{d.s, tx}) })
}

func (catalogDB) UniqueViolation(err error) bool { return isUniqueViolation(err) }

// row is a pgx.Row whose error says when the database does not answer.
type row struct{ pgx.Row }

func (r row) Scan(dest ...any) error { return unavailable(r.Row.Scan(dest...)) }

// getWebhook reads a webhook in tx.
func (s *Store) getWebhook(ctx context.Context, tx pgx.Tx, appID, id string) (*hookd.Webhook, error) {
	return s.Catalog.Webhook(ctx, catalogDB{s, tx}, appID, id)
}
