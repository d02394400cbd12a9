package storesqlite

import (
	"context"
	"database/sql/driver"
)

// connPragmas are set on every connection, as "name = value". With
// temp_store in memory, SQLite keeps statement journals (which every
// statement over many rows inside a transaction writes) and sorts in
// memory, not in temporary files: the writer spent an eighth of its time
// writing such files. (Mapping the database file into memory, mmap_size,
// measured no faster, and would count the file's pages in hookd's RSS.)
var connPragmas = []string{"temp_store = MEMORY"}

// dsnConnector opens connections of one driver to one data source, so that
// the store needs no driver registered under a global name.
type dsnConnector struct {
	drv driver.Driver
	dsn string
}

func (c *dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c *dsnConnector) Driver() driver.Driver                        { return c.drv }
