package sqlrow_test

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/sqlrow"
)

func TestLimitForAndTrimPage(t *testing.T) {
	t.Parallel()
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = strconv.Itoa(n - i)
		}
		return out
	}
	for _, tc := range []struct {
		page      store.Page
		rows      int // what the query found, asked for LimitFor(page)
		wantLimit int
		wantLen   int
		wantNext  string
	}{
		{page: store.Page{}, rows: 0, wantLimit: 51, wantLen: 0},
		{page: store.Page{}, rows: 50, wantLimit: 51, wantLen: 50},
		{page: store.Page{}, rows: 51, wantLimit: 51, wantLen: 50, wantNext: "2"},
		{page: store.Page{Limit: 3}, rows: 3, wantLimit: 4, wantLen: 3},
		{page: store.Page{Limit: 3}, rows: 4, wantLimit: 4, wantLen: 3, wantNext: "2"},
	} {
		if got := sqlrow.LimitFor(tc.page); got != tc.wantLimit {
			t.Errorf("LimitFor(%+v) = %d, want %d", tc.page, got, tc.wantLimit)
		}
		all := ids(tc.rows)
		items, next := sqlrow.TrimPage(slices.Clone(all), tc.page, func(s string) string { return s })
		if len(items) != tc.wantLen || next != tc.wantNext || !slices.Equal(items, all[:tc.wantLen]) {
			t.Errorf("TrimPage of %d rows, %+v = %d items, next %q; want %d, %q", tc.rows, tc.page, len(items), next, tc.wantLen, tc.wantNext)
		}
	}
}

func TestFound(t *testing.T) {
	t.Parallel()
	if err := sqlrow.Found(nil, "get app", "app", "app_1"); err != nil {
		t.Errorf("Found(nil) = %v", err)
	}
	err := sqlrow.Found(fmt.Errorf("scan: %w", sql.ErrNoRows), "get app", "app", "app_1")
	if !hookd.IsNotFound(err) {
		t.Errorf("a missing row gave %v, want not found", err)
	}
	broken := errors.New("connection reset")
	err = sqlrow.Found(broken, "get app", "app", "app_1")
	if !errors.Is(err, broken) || hookd.IsNotFound(err) || err.Error() != "get app: connection reset" {
		t.Errorf("a failed query gave %v", err)
	}
}
