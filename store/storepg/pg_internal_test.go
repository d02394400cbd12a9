package storepg

import (
	"testing"

	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/seal"
)

func TestConnectionsFlushWhatTheyWrite(t *testing.T) {
	t.Parallel()
	sealer, err := seal.New(make([]byte, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ query, want string }{
		{"", backendFlushAfter},
		{"&backend_flush_after=0", "0"}, // the URL's own choice wins
	} {
		s, err := Open(t.Context(), Config{URL: pgtest.URL(t) + tc.query, Sealer: sealer, NewID: ident.New(nil).New, MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		var got string
		err = s.pool.QueryRow(t.Context(), "SHOW backend_flush_after").Scan(&got)
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("URL%s: backend_flush_after = %s, want %s", tc.query, got, tc.want)
		}
	}
}
