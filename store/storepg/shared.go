package storepg

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/store/internal/sqlrow"
	"github.com/hookd/hookd/store/internal/sqlshared"
)

// newShared returns what the store shares with SQLite's (see package
// sqlshared), its moves and recoveries given as PostgreSQL's own. An error
// that says the database does not answer has the code UNAVAILABLE (see
// unavailable): a publish that looks its app up first answers 503.
func (s *Store) newShared() *sqlshared.Shared {
	return sqlshared.New(sqlshared.Config{
		DB:     sharedDB{s, s.pool},
		Sealer: s.sealer,
		Dialect: sqlshared.Dialect{
			// Lock the app row so that concurrent creates count in turn.
			LockApp:          `SELECT 1 FROM apps WHERE id = ? FOR NO KEY UPDATE`,
			Ranges:           true,
			HistogramColumns: `durations`,
			HistogramInto:    func(durations *[]int64) []any { return []any{durations} },
			LockRow:          ` FOR NO KEY UPDATE`,
		},
		Moving: sqlshared.Moving{
			Chunk: func(ctx context.Context, tx sqlshared.DB, column, id, status string, now time.Time) (int, error) {
				return s.moveOpenDeliveries(ctx, txOf(tx), column, id, status, now)
			},
			Rest: s.moveRest,
		},
		Recovering: sqlshared.Recovering{
			Chunk: s.recoverChunk, Size: moveChunk, NewID: s.newID, Work: s.moves, Log: s.log, Now: s.now,
		},
	})
}

// sharedDB is the pool, or a transaction, as the shared code uses it.
type sharedDB struct {
	s *Store
	q querier
}

func (d sharedDB) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := d.q.Exec(ctx, sqlshared.Rebind(query), args...)
	return tag.RowsAffected(), unavailable(err)
}

func (d sharedDB) QueryRow(ctx context.Context, query string, args ...any) sqlrow.Scanner {
	return row{d.q.QueryRow(ctx, sqlshared.Rebind(query), args...)}
}

func (d sharedDB) Query(ctx context.Context, query string, args ...any) (sqlshared.Rows, error) {
	rows, err := d.q.Query(ctx, sqlshared.Rebind(query), args...)
	if err != nil {
		return nil, unavailable(err)
	}
	return rows, nil
}

func (d sharedDB) InTx(ctx context.Context, fn func(sqlshared.DB) error) error {
	if _, ok := d.q.(pgx.Tx); ok {
		return fn(d)
	}
	return d.s.tx(ctx, func(tx pgx.Tx) error { return fn(sharedDB{d.s, tx}) })
}

func (sharedDB) UniqueViolation(err error) bool { return isUniqueViolation(err) }

// row is a pgx.Row whose error says when the database does not answer.
type row struct{ pgx.Row }

func (r row) Scan(dest ...any) error { return unavailable(r.Row.Scan(dest...)) }

// txOf is the transaction that the shared code runs a store's own
// statements in (see sqlshared.Moving and Recovering).
func txOf(db sqlshared.DB) pgx.Tx { return db.(sharedDB).q.(pgx.Tx) }
