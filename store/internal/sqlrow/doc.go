// Package sqlrow is what both SQL stores share about rows: it scans apps,
// keys, event types, webhooks, sources, events and deliveries from any
// Scanner (a *sql.Row or *sql.Rows as well as a pgx.Row or pgx.Rows), and
// encodes them for writing (sealing their secrets with a store.Sealer);
// it pages lists, reads a versioned row before an update, and says what
// was not found. It holds only the SQL that names columns in the same
// way on both databases (the column lists, the delivery summaries'
// query, a list's order); the statements are the stores' and
// sqlshared's.
package sqlrow
