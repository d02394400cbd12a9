package bench

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/pgtest"
)

// cpuTime reads this process's CPU time, and it grows by what a busy loop
// spends.
func TestCPUTimeCountsWork(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	before, err := cpuTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	x := 0
	for time.Now().Before(deadline) {
		for i := range 10_000_000 {
			x += i
		}
		now, err := cpuTime(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if now-before >= 100*time.Millisecond {
			return
		}
	}
	t.Fatalf("CPU time grew by less than 100 ms over 30 s of work (%d)", x)
}

// postgresCPU counts the local PostgreSQL server's processes: a query
// that keeps a backend busy shows in it.
func TestPostgresCPUCountsTheLocalServer(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	url := pgtest.URL(t)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	before, ok := postgresCPU()
	if !ok {
		if os.Getenv("CI") == "true" {
			t.Fatal("no PostgreSQL process found in /proc; CI runs the server on this machine")
		}
		t.Skip("PostgreSQL does not run on this machine, or runs where /proc does not show it")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := conn.Exec(t.Context(), `SELECT count(*) FROM generate_series(1, 2000000)`); err != nil {
			t.Fatal(err)
		}
		after, _ := postgresCPU()
		if after-before >= 100*time.Millisecond {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("PostgreSQL's CPU time grew by %v over 30 s of queries", after-before)
		}
	}
}
