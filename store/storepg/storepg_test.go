package storepg_test

import (
	"crypto/rand"
	"testing"

	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/seal"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/storepg"
	"github.com/hookd/hookd/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, func(t *testing.T) store.Store {
		key := make([]byte, seal.KeySize)
		rand.Read(key)
		sealer, err := seal.New(key)
		if err != nil {
			t.Fatal(err)
		}
		st, err := storepg.Open(t.Context(), storepg.Config{URL: pgtest.URL(t), Sealer: storetest.WrapSealer(t, sealer), NewID: ident.New(nil).New, MaxConns: 4})
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}
