package storepg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// copyMin is the fewest rows that an insert of the delivery path sends by
// COPY rather than as an INSERT from arrays. COPY spares the server what
// the arrays cost it for every row (decoding them, unnesting them into a
// tuple store, projecting the tuples): with a publish's events sent so,
// PostgreSQL spent 4% less CPU per delivered event, and hookd 2% less.
// But a COPY is a round trip of its own, and on a few rows its setup
// costs more than it saves; those stay in the batch of the transaction's
// other statements.
const copyMin = 64

// copier is what a COPY goes through: a connection in a transaction.
type copier interface {
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

// copyRows copies n rows into table; row fills in the values of columns
// for row i.
func copyRows(ctx context.Context, c copier, table string, columns []string, n int, row func(i int, values []any)) error {
	values := make([]any, len(columns)) // pgx encodes a row before it asks for the next
	i := -1
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i++; i == n {
			return nil, nil
		}
		row(i, values)
		return values, nil
	})
	if _, err := c.CopyFrom(ctx, pgx.Identifier{table}, columns, src); err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	return nil
}
