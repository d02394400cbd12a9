package storesqlite

import (
	"context"
	"database/sql/driver"
)

// connPragmas are set on every connection, as "name = value":
//   - temp_store: SQLite keeps statement journals (which every statement
//     over many rows inside a transaction writes) and sorts in memory,
//     not in temporary files; the writer spent an eighth of its time
//     writing such files.
//   - mmap_size: reads of mapped pages skip a system call and a copy each,
//     and the delivery path reads an event's payload for every attempt.
var connPragmas = []string{"temp_store = MEMORY", "mmap_size = 1073741824"}

// dsnConnector opens connections of one driver to one data source, so that
// the store needs no driver registered under a global name.
type dsnConnector struct {
	drv driver.Driver
	dsn string
}

func (c *dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c *dsnConnector) Driver() driver.Driver                        { return c.drv }
