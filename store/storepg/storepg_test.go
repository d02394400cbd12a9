package storepg_test

import (
	"testing"

	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/internal/pgtest"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/storepg"
	"github.com/hookd/hookd/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, func(t *testing.T, sealer store.Sealer) store.Store {
		st, err := storepg.Open(t.Context(), storepg.Config{URL: pgtest.URL(t), Sealer: sealer, NewID: ident.New(nil).New, MaxConns: 4})
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}

func BenchmarkDeliveryPath(b *testing.B) {
	storetest.BenchmarkDeliveryPath(b, openBench, 256)
}

func BenchmarkBacklogDrain(b *testing.B) {
	storetest.BenchmarkBacklogDrain(b, openBench, 384, 192)
}

func openBench(b *testing.B, sealer store.Sealer) store.Store {
	st, err := storepg.Open(b.Context(), storepg.Config{URL: pgtest.URL(b), Sealer: sealer, NewID: ident.New(nil).New})
	if err != nil {
		b.Fatalf("open store: %v", err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}
