package storesqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
)

// connPragmas are set on every connection, in this order, as
// "name = value":
//   - page_size: 16 KiB pages, for a database that does not exist yet (it
//     must come before journal_mode, which fixes it): 1.3 KB events pack
//     twelve to a page rather than three, and a commit writes fewer,
//     larger pages to the log. Sustained delivery, five pairs: +13% at
//     the median. An existing database keeps its page size.
//   - journal_mode: WAL, so that readers run beside the writer.
//   - temp_store: SQLite keeps statement journals (which every statement
//     over many rows inside a transaction writes) and sorts in memory, not
//     in temporary files: the writer spent an eighth of its time writing
//     such files.
//
// (Mapping the database file into memory, mmap_size, measured no faster,
// and would count the file's pages in hookd's RSS.)
var connPragmas = []string{"page_size = 16384", "journal_mode = WAL", "temp_store = MEMORY"}

// setConnPragmas runs connPragmas, in order, through exec.
func setConnPragmas(exec func(query string) error) error {
	for _, p := range connPragmas {
		if err := exec("PRAGMA " + p); err != nil {
			return fmt.Errorf("PRAGMA %s: %w", p, err)
		}
	}
	return nil
}

// dsnConnector opens connections of one driver to one data source, so that
// the store needs no driver registered under a global name.
type dsnConnector struct {
	drv driver.Driver
	dsn string
}

func (c *dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c *dsnConnector) Driver() driver.Driver                        { return c.drv }
