package storepg

import (
	"testing"

	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/seal"
)

// openInternal opens a store on a fresh database for the package's own
// tests, closed when the test ends, with the id generator it uses.
func openInternal(t *testing.T) (*Store, *ident.Generator) {
	t.Helper()
	sealer, err := seal.New(make([]byte, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	ids := ident.New(nil)
	s, err := Open(t.Context(), Config{URL: pgtest.URL(t), Sealer: sealer, NewID: ids.New, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, ids
}
