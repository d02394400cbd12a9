package storepg

// equalRange is the condition col = p written as a range, for a list
// ordered by col and then id, newest first. Written as an equality, the
// planner takes col for a constant and drops it from the order, which the
// primary key then gives as well as the index by (col, id): with
// statistics that say col is common, or in the generic plan of a prepared
// statement, it walks the primary key and skips the other rows of the
// table, reading a million rows for a page of a small webhook. Written as
// a range, only the index by (col, id) gives the order, and it is walked
// from the page's start for just the page.
func equalRange(col, p string) string {
	return `(` + col + ` >= ` + p + ` AND ` + col + ` <= ` + p + `)`
}
