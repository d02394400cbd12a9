package storesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// multiRowSizes are the row counts of a multiRow's statements: a batch of
// any size runs as one statement per set bit of its size (above the
// largest, repeats of that one).
var multiRowSizes = []int{128, 64, 32, 16, 8, 4, 2, 1}

// multiRow runs a statement over many rows, bound as parameters of a
// VALUES list: far cheaper than a statement per row, or than passing the
// rows as JSON for SQLite to parse. Its statements are prepared when the
// store opens, since the writer's one connection is not free to prepare
// them during a transaction.
type multiRow struct {
	cols  int
	stmts map[int]*sql.Stmt // by row count
}

func prepareMultiRow(ctx context.Context, db *sql.DB, cols int, query func(values string) string) (*multiRow, error) {
	m := &multiRow{cols: cols, stmts: map[int]*sql.Stmt{}}
	row := "(" + placeholders(cols) + ")"
	for _, n := range multiRowSizes {
		values := "VALUES " + strings.TrimSuffix(strings.Repeat(row+",", n), ",")
		st, err := db.PrepareContext(ctx, query(values))
		if err != nil {
			m.close()
			return nil, fmt.Errorf("prepare a statement of %d rows: %w", n, err)
		}
		m.stmts[n] = st
	}
	return m, nil
}

// exec runs the statement in tx over args, which holds cols values per row.
func (m *multiRow) exec(ctx context.Context, tx *sql.Tx, args []any) error {
	for _, n := range multiRowSizes {
		for len(args) >= n*m.cols {
			if _, err := tx.StmtContext(ctx, m.stmts[n]).ExecContext(ctx, args[:n*m.cols]...); err != nil {
				return err
			}
			args = args[n*m.cols:]
		}
	}
	return nil
}

func (m *multiRow) close() {
	for _, st := range m.stmts {
		st.Close()
	}
}
