package storepg

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"

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
	Conn() *pgx.Conn
}

// copyRows copies n rows into the columns of table; row writes row i's
// values, one for each column in order, through w.
//
// The rows are written in PostgreSQL's binary COPY format by the store
// itself (see binaryCopy): pgx's CopyFrom looked up an encode plan for
// every value and boxed every number, 8% of hookd's CPU in the sustained
// benchmark.
func copyRows(ctx context.Context, c copier, table string, columns []string, n int, size int, row func(i int, w *binaryCopy)) error {
	w := newBinaryCopy(size)
	for i := range n {
		w.row(len(columns))
		row(i, w)
	}
	if w.err != nil {
		return fmt.Errorf("copy into %s: %w", table, w.err)
	}
	sql := "COPY " + table + " (" + strings.Join(columns, ", ") + ") FROM STDIN BINARY"
	if _, err := c.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(w.end()), sql); err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	return nil
}

// binaryCopy writes rows in PostgreSQL's binary COPY format: a signature,
// flags and an extension area; then each row as its number of fields and
// each field as its length (-1 for NULL) and its value in the type's
// binary form (big-endian integers, a byte for a bool, the bytes of text
// and bytea); then -1. Each method writes one field, of the column's
// exact type: a mismatch is refused by the server.
type binaryCopy struct {
	buf []byte
	err error // of a value out of its column's range
}

const copySignature = "PGCOPY\n\377\r\n\000"

func newBinaryCopy(size int) *binaryCopy {
	buf := make([]byte, 0, len(copySignature)+8+size+2)
	buf = append(buf, copySignature...)
	buf = binary.BigEndian.AppendUint32(buf, 0) // flags
	buf = binary.BigEndian.AppendUint32(buf, 0) // no header extension
	return &binaryCopy{buf: buf}
}

func (w *binaryCopy) row(fields int) {
	w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(fields))
}

func (w *binaryCopy) null() { w.buf = binary.BigEndian.AppendUint32(w.buf, math.MaxUint32) }

// text writes a text or bytea value.
func (w *binaryCopy) text(s string) {
	w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(len(s)))
	w.buf = append(w.buf, s...)
}

// nullText writes a text value, NULL for nil.
func (w *binaryCopy) nullText(s *string) {
	if s == nil {
		w.null()
		return
	}
	w.text(*s)
}

// bytea writes a bytea value, NULL for nil.
func (w *binaryCopy) bytea(b []byte) {
	if b == nil {
		w.null()
		return
	}
	w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(len(b)))
	w.buf = append(w.buf, b...)
}

// int8 writes a bigint.
func (w *binaryCopy) int8(v int64) {
	w.buf = binary.BigEndian.AppendUint32(w.buf, 8)
	w.buf = binary.BigEndian.AppendUint64(w.buf, uint64(v))
}

// nullInt8 writes a bigint, NULL for nil.
func (w *binaryCopy) nullInt8(v *int64) {
	if v == nil {
		w.null()
		return
	}
	w.int8(*v)
}

// nullInt4 writes an integer, NULL for nil.
func (w *binaryCopy) nullInt4(v *int64) {
	if v == nil {
		w.null()
		return
	}
	if *v < math.MinInt32 || *v > math.MaxInt32 {
		w.err = fmt.Errorf("%d is out of range for an integer column", *v)
	}
	w.buf = binary.BigEndian.AppendUint32(w.buf, 4)
	w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(int32(*v)))
}

func (w *binaryCopy) bool(v bool) {
	b := byte(0)
	if v {
		b = 1
	}
	w.buf = binary.BigEndian.AppendUint32(w.buf, 1)
	w.buf = append(w.buf, b)
}

// end writes the trailer and returns the data.
func (w *binaryCopy) end() []byte {
	return binary.BigEndian.AppendUint16(w.buf, math.MaxUint16) // -1
}
