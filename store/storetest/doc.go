// Package storetest is the conformance suite of the storage seam: one set of
// tests that every implementation of store.Store runs, so that the embedded
// SQLite store and the PostgreSQL store keep exactly the same contract.
//
// A store's own test file calls Exercise with a function that opens a fresh,
// empty store for one test with the Sealer the suite hands it, which records
// what passes through so that the suite can check that secrets are sealed
// at rest:
//
//	func TestConformance(t *testing.T) {
//		storetest.Exercise(t, func(t *testing.T, sealer store.Sealer) store.Store {
//			st, err := storesqlite.Open(t.Context(), storesqlite.Config{
//				Path:   filepath.Join(t.TempDir(), "hookd.db"),
//				Sealer: sealer,
//				NewID:  ident.New(nil).New,
//			})
//			...
//			t.Cleanup(func() { st.Close() })
//			return st
//		})
//	}
//
// The suite never sleeps: every method that depends on time takes it as a
// parameter, so the tests move a manual clock forward instead. Every test
// runs in parallel on its own store.
package storetest
