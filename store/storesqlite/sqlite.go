// Package storesqlite is hookd's embedded store: one SQLite file. Builds
// with cgo (the default where a C compiler is found) use SQLite compiled
// from C through mattn/go-sqlite3; builds without it use the pure-Go
// modernc.org/sqlite, so that hookd also builds with no C toolchain. Both
// run the same SQL with the same connection settings (see connector).
//
// SQLite allows one writer at a time, so the store keeps two pools: a
// single-connection writer whose transactions begin IMMEDIATE (no lock
// upgrades, no SQLITE_BUSY mid-transaction) and a pool of readers that WAL
// mode lets run beside it. Only one hookd process may open a data
// directory; Open takes a lock to make sure.
package storesqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/background"
	"github.com/hookd/hookd/store/internal/groupcommit"
	"github.com/hookd/hookd/store/internal/migration"
	"github.com/hookd/hookd/store/internal/sqlshared"
	"github.com/hookd/hookd/store/internal/versioncache"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Config is what Open needs.
type Config struct {
	// Path of the database file.
	Path string
	// Sealer encrypts secrets at rest. Required.
	Sealer store.Sealer
	// NewID returns a new sortable id with the given prefix. Required.
	NewID func(prefix string) string
	// Readers is the size of the read pool; 0 means 4.
	Readers int
	// Log hears of what fails in the store's background work (moves of
	// large backlogs), which is retried rather than returned; nil
	// discards it.
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store is the SQLite implementation of store.Store.
type Store struct {
	// Shared reads and writes apps, webhooks, sources and the like (see
	// package sqlshared).
	*sqlshared.Shared

	w      *sql.DB    // one connection: SQLite's single writer
	r      *sql.DB    // readers
	stmt   *stmts     // prepared on w
	read   *readStmts // prepared on r
	leases *leaseTable
	// commits counts the writer's commits; claiming serialises claims.
	// Both serve leaseTable.
	commits  atomic.Uint64
	claiming sync.Mutex
	// cursor is the due time (Unix ms) at which the next claim starts
	// looking, 0 for the first due; it is written under claiming.
	// fullScan is when a claim last looked from the first, lastFull the
	// full webhooks of the last claim; both are guarded by claiming.
	cursor   atomic.Int64
	fullScan time.Time
	lastFull map[string]bool
	quiet    atomic.Pointer[quietMark] // written under claiming; nil if none
	// rescan tells the next claim to look from the first due delivery.
	rescan atomic.Bool
	// full is set when a write failed because the disk was full, until a
	// write succeeds (see writeFailed).
	full   atomic.Bool
	sealer store.Sealer
	newID  func(string) string
	log    *slog.Logger
	now    func() time.Time // the clock (see Config.Now)
	apps   versioncache.Cache[*hookd.App]
	hooks  versioncache.Cache[*hookd.Webhook]

	taker     atomic.Pointer[store.Taker] // see HandTo; nil for none
	publishes *groupcommit.Committer[*store.PublishParams, []store.PublishResult]
	moves     *background.Work // finishes large status changes
	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if need be) and migrates the database at cfg.Path.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Path == "" || cfg.Sealer == nil || cfg.NewID == nil {
		return nil, errors.New("storesqlite: Path, Sealer and NewID are required")
	}
	if cfg.Readers <= 0 {
		cfg.Readers = 4
	}
	w := sql.OpenDB(connector(cfg.Path, "immediate"))
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", cfg.Path, err)
	}
	if err := migrate(ctx, w, migration.Log(cfg.Log)); err != nil {
		w.Close()
		return nil, err
	}
	r := sql.OpenDB(connector(cfg.Path, "deferred"))
	r.SetMaxOpenConns(cfg.Readers)
	r.SetMaxIdleConns(cfg.Readers)
	st, err := prepare(ctx, w)
	if err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	rst, err := prepareReads(ctx, r)
	if err != nil {
		st.close()
		r.Close()
		w.Close()
		return nil, err
	}
	s := &Store{w: w, r: r, stmt: st, read: rst, leases: newLeaseTable(), lastFull: map[string]bool{}, sealer: cfg.Sealer, newID: cfg.NewID, log: cfg.Log, now: cfg.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.publishes = groupcommit.New(groupcommit.Config{Committers: 1, Max: maxGroup, Timeout: commitTimeout, Log: s.log}, s.commitPublishes)
	s.moves = background.New()
	s.Shared = s.newShared()
	return s, nil
}

func migrate(ctx context.Context, db *sql.DB, progress func(string)) error {
	return migrateTo(ctx, db, math.MaxInt64, progress)
}

// migrateTo applies the migrations up to version.
func migrateTo(ctx context.Context, db *sql.DB, version int64, progress func(string)) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if err := migration.Up(ctx, p, version, progress); err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}
	return nil
}

// Migrate opens the database at path and applies pending migrations only,
// telling progress (when not nil) as each starts and ends.
func Migrate(ctx context.Context, path string, progress func(string)) error {
	db := sql.OpenDB(connector(path, "immediate"))
	defer db.Close()
	return migrate(ctx, db, progress)
}

// Ping implements store.Store. After a write failed because the disk was
// full, it tries a write of its own (see probeWrite) until one succeeds,
// so that readiness says whether the store can take writes again even
// while nothing else writes.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	if s.full.Load() {
		return s.probeWrite(ctx)
	}
	return nil
}

// probeWrite commits a write that changes nothing the store keeps: it
// sets the database's user_version to what it is, which writes the
// database's first page to the log, as any commit writes its pages.
func (s *Store) probeWrite(ctx context.Context) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var v int64
		if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v))
		return err
	})
}

// Close implements store.Store.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.moves.Close()
		s.publishes.Close()
		s.stmt.close()
		s.read.close()
		s.closeErr = errors.Join(s.r.Close(), s.w.Close())
	})
	return s.closeErr
}

// ReleaseLeases clears leases that versions of hookd before leases were
// kept in memory wrote to the database (see leaseTable), so that their
// deliveries are due at once rather than when those leases expire, and
// returns how many it cleared. It also finishes a pause or re-activation
// that moved a large backlog in chunks and was cut short, and resumes, in
// the background, recoveries that were. (Pending
// deliveries of a disabled webhook are left alone: they were recovered,
// and go once it is enabled.)
func (s *Store) ReleaseLeases(ctx context.Context) (int, error) {
	res, err := s.exec(ctx, `UPDATE deliveries SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL`)
	if err != nil {
		return 0, fmt.Errorf("release leases: %w", err)
	}
	n, _ := res.RowsAffected()
	for _, q := range []string{
		`UPDATE deliveries SET status = 'held' WHERE status = 'pending' AND test = 0 AND (
			webhook_id IN (SELECT id FROM webhooks WHERE status = 'paused') OR source_id IN (SELECT id FROM sources WHERE status = 'paused'))`,
		`UPDATE deliveries SET status = 'pending' WHERE status = 'held' AND (
			webhook_id IN (SELECT id FROM webhooks WHERE status = 'active') OR source_id IN (SELECT id FROM sources WHERE status = 'active'))`,
	} {
		if _, err := s.exec(ctx, q); err != nil {
			return 0, fmt.Errorf("reconcile deliveries: %w", err)
		}
	}
	if err := s.Shared.FinishRecoveries(ctx); err != nil {
		return 0, err
	}
	return int(n), nil
}

// tx runs fn in a write transaction.
func (s *Store) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := s.write(ctx, fn); err != nil {
		return err
	}
	// A write may make deliveries due before where claims start looking
	// (a webhook resumed, say): the next claim looks from the first.
	s.rescan.Store(true)
	return nil
}

// deletedDeliveries notes that deliveries may have been deleted: the
// newest one's rowid may be given again, which claims that look only at
// what is new (see quietMark) would not see.
func (s *Store) deletedDeliveries() {
	s.rescan.Store(true)
}

// write runs fn in a write transaction that leaves claims' cursor alone:
// the caller sets rescan if it makes a delivery due before the cursor. A
// write that fails because the disk is full says so with the code
// UNAVAILABLE (see writeFailed).
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	err := s.writeTx(ctx, fn)
	if err != nil {
		return s.writeFailed(err)
	}
	s.full.Store(false)
	return nil
}

func (s *Store) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// Rolls back after a panic in fn, which would otherwise keep the one
	// writer connection in its transaction; once committed, a no-op.
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.commits.Add(1)
	return nil
}

// exec runs one statement that writes, outside a transaction, on the
// writer; a disk that is full fails it as it fails write.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		return nil, s.writeFailed(err)
	}
	s.full.Store(false)
	return res, nil
}

// writeFailed notes a write that failed because the disk is full, which
// Ping reports until a write succeeds again, and returns err with the
// code UNAVAILABLE: publishes answer 503 saying so, and a caller may try
// again once there is room. Nothing else needs doing to recover: SQLite
// rolled the transaction back, and the next write that finds room
// succeeds.
func (s *Store) writeFailed(err error) error {
	if !isDiskFull(err) {
		return err
	}
	s.full.Store(true)
	return fmt.Errorf("%w: %w", diskFull(), err)
}

// diskFull is the error a write that found the disk full returns.
func diskFull() *hookd.Error {
	return hookd.Errorf(hookd.EUNAVAILABLE, "the store cannot write: disk full")
}

// queryer is what reads need: the reader pool or a write transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func nullMs(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func fromMs(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMs(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMs(v.Int64)
	return &t
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// pageClause returns the WHERE fragment and args for a newest-first page on
// column col.
func pageClause(col string, p store.Page) (string, []any) {
	if p.After == "" {
		return "", nil
	}
	return " AND " + col + " < ?", []any{p.After}
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
