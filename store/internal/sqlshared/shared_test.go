package sqlshared

import "testing"

func TestRebindNumbersArguments(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT a FROM t WHERE id = ?`, `SELECT a FROM t WHERE id = $1`},
		{`UPDATE t SET a = ?, b = ? WHERE id = ? AND x IN (?,?)`, `UPDATE t SET a = $1, b = $2 WHERE id = $3 AND x IN ($4,$5)`},
		{`INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?)`, `INSERT INTO t VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`},
	} {
		if got := Rebind(tc.in); got != tc.want {
			t.Errorf("Rebind(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEqualAsRangeTakesTheValueTwice(t *testing.T) {
	c := New(Config{Dialect: Dialect{Ranges: true}})
	cond, args := c.equal("app_id", "app_1")
	if cond != "(app_id >= ? AND app_id <= ?)" || len(args) != 2 || args[0] != "app_1" || args[1] != "app_1" {
		t.Errorf("equal with ranges = %q %v", cond, args)
	}
	c = New(Config{})
	cond, args = c.equal("app_id", "app_1")
	if cond != "app_id = ?" || len(args) != 1 {
		t.Errorf("equal = %q %v", cond, args)
	}
}
