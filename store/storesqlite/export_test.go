package storesqlite

import (
	"context"
	"database/sql"
)

// OpenRaw opens the database at path as the store does, for tests that
// change it behind the store's back.
func OpenRaw(path string) *sql.DB {
	return sql.OpenDB(connector(path, "immediate"))
}

// Pools returns the store's writer and reader pools.
func (s *Store) Pools() (writer, readers *sql.DB) { return s.w, s.r }

// MigrateTo applies the migrations up to version to db.
func MigrateTo(ctx context.Context, db *sql.DB, version int64) error {
	return migrateTo(ctx, db, version, nil)
}
