package storepg_test

import (
	"testing"

	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/seal"
	"github.com/hookd/hookd/store/storepg"
)

// TestWarmPoolIsFullFromTheStart checks that a warm store opens every
// connection it may hold before Open returns, each having run the warm-up
// query (a connection whose warm-up fails is not made, and Open fails),
// and that a cold one opens them as needed.
func TestWarmPoolIsFullFromTheStart(t *testing.T) {
	t.Parallel()
	// The database is shared with other tests: the store's connections
	// are told apart by their application name.
	name := ident.New(nil).New("warm")
	url := pgtest.URL(t) + "&application_name=" + name
	sealer, err := seal.New(make([]byte, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	// backends counts the store's connections, not conn.
	conn := connect(t, url)
	backends := func() int {
		t.Helper()
		var n int
		if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, warm := range []bool{false, true} {
		st, err := storepg.Open(t.Context(), storepg.Config{URL: url, Sealer: sealer, NewID: ident.New(nil).New, MaxConns: 5, Warm: warm})
		if err != nil {
			t.Fatalf("open a store (warm %v): %v", warm, err)
		}
		got := backends()
		st.Close()
		if warm && got != 5 {
			t.Errorf("a warm store of 5 connections has %d open after Open", got)
		}
		if !warm && got >= 5 {
			t.Errorf("a cold store of 5 connections has %d open after Open", got)
		}
	}
}
