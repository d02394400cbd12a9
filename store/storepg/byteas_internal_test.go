package storepg

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hookd/hookd/internal/pgtest"
)

var byteasCases = map[string]byteas{
	"nil":           nil,
	"empty":         {},
	"one":           {[]byte("payload")},
	"null element":  {[]byte("a"), nil, []byte("c")},
	"empty element": {[]byte("a"), {}, []byte("c")},
	"binary":        {{0, 1, 2, 255}, bytes.Repeat([]byte{7}, 70000)},
}

// TestByteasEncodesAsPgx checks that a byteas is written byte for byte as
// pgx writes the same [][]byte with its own bytea[] codec.
func TestByteasEncodesAsPgx(t *testing.T) {
	for name, v := range byteasCases {
		t.Run(name, func(t *testing.T) {
			want, err := pgtype.NewMap().Encode(pgtype.ByteaArrayOID, pgtype.BinaryFormatCode, [][]byte(v), []byte("head"))
			if err != nil {
				t.Fatal(err)
			}
			m := pgtype.NewMap()
			if err := registerByteas(m); err != nil {
				t.Fatal(err)
			}
			got, err := m.Encode(pgtype.ByteaArrayOID, pgtype.BinaryFormatCode, v, []byte("head"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) || (got == nil) != (want == nil) {
				t.Errorf("encoded\n%x\nwant (pgx)\n%x", got, want)
			}
		})
	}
}

// TestByteasGrowsItsBufferOnce checks that a thousand payloads are written
// with one allocation, the buffer's growth to their size.
func TestByteasGrowsItsBufferOnce(t *testing.T) {
	v := make(byteas, 1000)
	for i := range v {
		v[i] = bytes.Repeat([]byte{byte(i)}, 1400)
	}
	m := pgtype.NewMap()
	if err := registerByteas(m); err != nil {
		t.Fatal(err)
	}
	var err error
	allocs := testing.AllocsPerRun(10, func() {
		_, err = m.Encode(pgtype.ByteaArrayOID, pgtype.BinaryFormatCode, v, make([]byte, 0, 256))
	})
	if err != nil {
		t.Fatal(err)
	}
	// The growth, the 256 bytes the test makes and the interface that
	// holds v. (pgx's own codec allocates over a thousand times.)
	if allocs > 3 {
		t.Errorf("encoding a thousand payloads allocated %v times, want at most 3", allocs)
	}
}

// TestByteasRoundTrip sends each case to PostgreSQL as bytea[] and reads
// it back: PostgreSQL takes what encodeByteas writes as the same array.
func TestByteasRoundTrip(t *testing.T) {
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := registerByteas(conn.TypeMap()); err != nil {
		t.Fatal(err)
	}
	for name, v := range byteasCases {
		t.Run(name, func(t *testing.T) {
			var back [][]byte
			var n *int32
			var nulls int
			if err := conn.QueryRow(ctx, `SELECT $1::bytea[], cardinality($1::bytea[]), (SELECT count(*) FROM unnest($1::bytea[]) x WHERE x IS NULL)`, v).Scan(&back, &n, &nulls); err != nil {
				t.Fatal(err)
			}
			if v == nil {
				if back != nil || n != nil {
					t.Errorf("nil came back as %q (cardinality %v), want NULL", back, n)
				}
				return
			}
			if n == nil || int(*n) != len(v) {
				t.Errorf("cardinality %v, want %d", n, len(v))
			}
			if want := countNil(v); nulls != want {
				t.Errorf("%d NULL elements, want %d", nulls, want)
			}
			if !slices.EqualFunc(back, v, func(a, b []byte) bool { return bytes.Equal(a, b) && (a == nil) == (b == nil) }) {
				t.Errorf("came back as %s, want %s", short(back), short(v))
			}
		})
	}
}

func countNil(v [][]byte) int {
	n := 0
	for _, b := range v {
		if b == nil {
			n++
		}
	}
	return n
}

func short(v [][]byte) string {
	var s []string
	for _, b := range v {
		if len(b) > 8 {
			s = append(s, fmt.Sprintf("%x…(%d)", b[:8], len(b)))
		} else {
			s = append(s, fmt.Sprintf("%x", b))
		}
	}
	return fmt.Sprint(s)
}
