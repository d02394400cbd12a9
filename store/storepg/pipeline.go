package storepg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pipelinedTx is a transaction whose statements go to the server in
// batches, one round trip each: BEGIN rides with the first batch and
// COMMIT with the last. The delivery path's transactions are a few
// statements with Go in between; sent one by one, with BEGIN and COMMIT
// on their own, each took six to eight round trips, and under load every
// round trip waits for a busy core on both sides.
type pipelinedTx struct {
	conn      *pgxpool.Conn
	begun     bool
	committed bool
}

func (s *Store) beginPipelined(ctx context.Context) (*pipelinedTx, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquire a connection: %w", err)
	}
	return &pipelinedTx{conn: conn}, nil
}

// send sends b's statements in one round trip, after BEGIN if the
// transaction has not begun and before COMMIT if commit is set. The caller
// reads the results of b's own statements, in order, then closes them;
// Close reports whether the commit went through.
func (t *pipelinedTx) send(ctx context.Context, b *pgx.Batch, commit bool) pgx.BatchResults {
	full := &pgx.Batch{}
	if !t.begun {
		full.Queue("BEGIN")
	}
	full.QueuedQueries = append(full.QueuedQueries, b.QueuedQueries...)
	if commit {
		full.Queue("COMMIT")
	}
	br := t.conn.SendBatch(ctx, full)
	r := &pipelinedResults{BatchResults: br}
	if commit {
		r.tx = t
	}
	if !t.begun {
		t.begun = true
		if _, err := br.Exec(); err != nil {
			r.err = fmt.Errorf("begin: %w", err)
		}
	}
	return r
}

// end rolls back a transaction that has not committed (a statement that
// failed makes the server skip the rest of its batch, COMMIT included),
// and gives the connection back to the pool.
func (t *pipelinedTx) end(ctx context.Context) {
	if t.begun && !t.committed {
		if _, err := t.conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); err != nil {
			// The connection's state is unknown: close it rather than
			// hand it to the next user.
			t.conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}
	t.conn.Release()
}

// pipelinedResults reads COMMIT's result on Close, when tx is set.
type pipelinedResults struct {
	pgx.BatchResults
	tx  *pipelinedTx
	err error // of BEGIN
}

func (r *pipelinedResults) Exec() (pgconn.CommandTag, error) {
	if r.err != nil {
		return pgconn.CommandTag{}, r.err
	}
	return r.BatchResults.Exec()
}

func (r *pipelinedResults) Query() (pgx.Rows, error) {
	if r.err != nil {
		return nil, r.err
	}
	return r.BatchResults.Query()
}

func (r *pipelinedResults) Close() error {
	if r.err != nil {
		r.BatchResults.Close()
		return r.err
	}
	if r.tx != nil {
		if _, err := r.BatchResults.Exec(); err != nil {
			r.BatchResults.Close()
			return fmt.Errorf("commit: %w", err)
		}
	}
	if err := r.BatchResults.Close(); err != nil {
		return err
	}
	if r.tx != nil {
		r.tx.committed = true
	}
	return nil
}
