package storesqlite

import "database/sql"

// OpenRaw opens the database at path as the store does, for tests that
// change it behind the store's back.
func OpenRaw(path string) *sql.DB {
	return sql.OpenDB(connector(path, "immediate"))
}

// Pools returns the store's writer and reader pools.
func (s *Store) Pools() (writer, readers *sql.DB) { return s.w, s.r }
