// Package storepg is hookd's PostgreSQL store, through pgx. Any number of
// hookd processes may share one database: claims take row locks with FOR
// UPDATE SKIP LOCKED and leases, so no two processes attempt the same
// delivery at once, and a process that dies leaves leases that run out.
// Processes wake each other with LISTEN/NOTIFY when work becomes due.
package storepg

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/internal/background"
	"github.com/hookd/hookd/store/internal/groupcommit"
	"github.com/hookd/hookd/store/internal/migration"
	"github.com/hookd/hookd/store/internal/sqlrow"
	"github.com/hookd/hookd/store/internal/sqlshared"
	"github.com/hookd/hookd/store/internal/versioncache"
)

//go:embed migrations/*.sql
var migrations embed.FS

// dueChannel is the NOTIFY channel that says deliveries became due in
// the given schema: hookd installations that share a database in schemas
// of their own do not wake each other. A name too long for PostgreSQL's
// identifiers (63 bytes) ends in a hash of the schema instead.
func dueChannel(schema string) string {
	name := "hookd_due_" + schema
	if len(name) <= 63 {
		return name
	}
	sum := sha256.Sum256([]byte(schema))
	return "hookd_due_" + hex.EncodeToString(sum[:16])
}

// Config is what Open needs.
type Config struct {
	// URL is a postgres:// connection string.
	URL string
	// Sealer encrypts secrets at rest. Required.
	Sealer store.Sealer
	// NewID returns a new sortable id with the given prefix. Required.
	NewID func(prefix string) string
	// MaxConns sizes the pool; 0 means 16.
	MaxConns int32
	// Warm makes Open fill the pool and keep it full, each connection
	// having planned a query over the delivery path's tables (see
	// warmQuery). A server wants it: left cold, the pool grows under the
	// first load, and each new backend reading its catalogs stalled the
	// first second of publishes for 200–300 ms.
	Warm bool
	// Log hears of what fails in the store's background work (wake-up
	// notifications, moves of large backlogs), which is retried rather
	// than returned; nil discards it.
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store is the PostgreSQL implementation of store.Store.
type Store struct {
	// Shared reads and writes apps, webhooks, sources and the like (see
	// package sqlshared).
	*sqlshared.Shared

	pool   *pgxpool.Pool
	sealer store.Sealer
	newID  func(string) string
	apps   versioncache.Cache[*hookd.App]
	hooks  versioncache.Cache[*hookd.Webhook]

	taker     atomic.Pointer[store.Taker] // see HandTo; nil for none
	publishes *groupcommit.Committer[*store.PublishParams, []store.PublishResult]
	announce  *announcer
	moves     *background.Work // finishes large status changes
	channel   string           // see dueChannel
	log       *slog.Logger
	now       func() time.Time // the clock (see Config.Now)
}

var _ store.Store = (*Store)(nil)
var _ store.AdminTokens = (*Store)(nil)

// Open connects to the database at cfg.URL and migrates it.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.URL == "" || cfg.Sealer == nil || cfg.NewID == nil {
		return nil, errors.New("storepg: URL, Sealer and NewID are required")
	}
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	if _, set := pc.ConnConfig.RuntimeParams["backend_flush_after"]; !set {
		pc.ConnConfig.RuntimeParams["backend_flush_after"] = backendFlushAfter
	}
	pc.MaxConns = cfg.MaxConns
	if pc.MaxConns <= 0 {
		pc.MaxConns = 16
	}
	if err := Migrate(ctx, cfg.URL, migration.Log(cfg.Log)); err != nil {
		return nil, err
	}
	if cfg.Warm {
		pc.MinConns = pc.MaxConns
		pc.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
			_, err := conn.Exec(ctx, warmQuery)
			return err
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	if cfg.Warm {
		if err := fill(ctx, pool); err != nil {
			pool.Close()
			return nil, err
		}
	}
	var schema string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("read the current schema: %w", err)
	}
	s := &Store{pool: pool, sealer: cfg.Sealer, newID: cfg.NewID, channel: dueChannel(schema), log: cfg.Log, now: cfg.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	// Two committers: with four, a thousand single-event publishes a
	// second went out three to a transaction, and their round trips kept
	// the two cores so busy that the p99 publish→receipt doubled.
	s.publishes = groupcommit.New(groupcommit.Config{Committers: 2, Max: maxGroup, Timeout: commitTimeout, Log: s.log}, s.commitPublishes)
	s.announce = startAnnouncer(func(ctx context.Context) error {
		err := s.notifyDue(ctx, s.pool)
		if err != nil {
			// The listeners' poll finds the deliveries a second later.
			s.log.Warn("announce due deliveries", "err", err)
		}
		return err
	})
	s.moves = background.New()
	s.Shared = s.newShared()
	if err := errors.Join(s.finishMoves(ctx), s.Shared.FinishRecoveries(ctx)); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Migrate applies pending migrations to the database at url, telling
// progress (when not nil) as each starts and ends.
func Migrate(ctx context.Context, url string, progress func(string)) error {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return fmt.Errorf("open postgres for migrations: %w", err)
	}
	defer db.Close()
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	// Processes starting together migrate one at a time, under an
	// advisory lock of the schema's own: without a locker goose takes
	// none, and two processes on a fresh database each ran the same
	// migration (one failed with a duplicate type).
	var schema string
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("migrations: read the current schema: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID(schema)), lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if err := migration.Up(ctx, p, math.MaxInt64, progress); err != nil {
		return fmt.Errorf("migrate postgres: %w", err)
	}
	return nil
}

// migrationLockID is the advisory lock that migrations of schema take:
// installations in schemas of their own on one database do not wait for
// each other.
func migrationLockID(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("hookd migrations " + schema))
	return int64(h.Sum64())
}

var _ = stdlib.GetDefaultDriver // registers the "pgx" database/sql driver for goose

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return unavailable(fmt.Errorf("ping postgres: %w", err))
	}
	return nil
}

// Close implements store.Store.
func (s *Store) Close() error {
	s.publishes.Close()
	s.announce.close()
	s.moves.Close()
	s.pool.Close()
	return nil
}

// Listen calls wake whenever another process (or this one) says that
// deliveries became due, until ctx ends. It reconnects by itself.
func (s *Store) Listen(ctx context.Context, wake func()) error {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return nil
		}
		_ = err // the connection went away; the engine's poll covers the gap
		wake()
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		backoff = min(backoff*2, 5*time.Second)
	}
	return nil
}

func (s *Store) listenOnce(ctx context.Context, wake func()) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		conn.Conn().Close(ctx)
		return err
	}
	for {
		_, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			// A connection left in LISTEN must not go back to the pool.
			conn.Conn().Close(context.WithoutCancel(ctx))
			return err
		}
		wake()
	}
}

// notifyDue tells listeners that deliveries became due, when q's
// transaction commits.
func (s *Store) notifyDue(ctx context.Context, q querier) error {
	if _, err := q.Exec(ctx, "SELECT pg_notify($1, '')", s.channel); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// tx runs fn in a transaction. A transaction that PostgreSQL aborts to
// break a deadlock, or for a serialization failure, is run again (fn must
// be safe to repeat), up to three times.
func (s *Store) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	var err error
	for try := 0; try < 3; try++ {
		if err = pgx.BeginFunc(ctx, s.pool, fn); !retryable(err) {
			return err
		}
	}
	return err
}

// retryable reports whether err aborted a transaction that may succeed if
// run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// querier is the pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func nullMs(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixMilli()
	return &v
}

func fromMs(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMs(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMs(*v)
	return &t
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// args numbers placeholders as they are added.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return fmt.Sprintf("$%d", len(*a))
}

// warmQuery is planned, and returns nothing, on each new connection of a
// warm pool (see Config.Warm): planning it reads the catalogs of the
// delivery path's tables and of their indexes into the backend's caches.
const warmQuery = `SELECT 1 FROM deliveries d JOIN events e ON e.id = d.event_id JOIN apps a ON a.id = d.app_id
	JOIN webhooks w ON w.id = d.webhook_id JOIN attempts t ON t.delivery_id = d.id LEFT JOIN sources sr ON sr.id = d.source_id
	LIMIT 0`

// fill opens every connection the pool may hold, so that none is made
// while requests wait.
func fill(ctx context.Context, pool *pgxpool.Pool) error {
	conns := make([]*pgxpool.Conn, 0, pool.Config().MaxConns)
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	for range pool.Config().MaxConns {
		c, err := pool.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("fill the connection pool: %w", err)
		}
		conns = append(conns, c)
	}
	return nil
}

// backendFlushAfter is the backend_flush_after hookd's connections ask
// for, unless the URL gives one: how much a backend writes out of shared
// buffers before it has the kernel start writing it to disk. PostgreSQL's
// default, 0, leaves those pages to the kernel's dirty-page expiry; after
// a burst of deliveries, hundreds of megabytes of them went to disk at
// once about 30 seconds later, and commits waiting for their WAL flush
// behind that writeback took 100–400 ms.
const backendFlushAfter = "256kB"

// collect scans every row with scan.
func collect[T any](rows pgx.Rows, scan func(sqlrow.Scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	return sqlrow.Collect(rows, scan)
}
