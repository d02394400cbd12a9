package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/dashboard"
	"github.com/hookd/hookd/deliver"
	"github.com/hookd/hookd/egress"
	"github.com/hookd/hookd/httpapi"
	"github.com/hookd/hookd/ident"
	"github.com/hookd/hookd/listen"
	"github.com/hookd/hookd/metrics"
	"github.com/hookd/hookd/notify"
	"github.com/hookd/hookd/receive"
	"github.com/hookd/hookd/retention"
	"github.com/hookd/hookd/seal"
	"github.com/hookd/hookd/service"
	"github.com/hookd/hookd/store"
	"github.com/hookd/hookd/store/storepg"
	"github.com/hookd/hookd/store/storesqlite"
	"github.com/hookd/hookd/tracing"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Config is everything `hookd serve` can be told, by flag, environment
// variable or config file (in that order of precedence).
type Config struct {
	Addr                 string
	DataDir              string
	Database             string
	AllowPrivateNetworks bool
	PublicURL            string
	AdminToken           string
	EncryptionKey        string
	EgressProxy          string
	Timeout              time.Duration
	Workers              int
	// PerWebhookConcurrency, PerAppConcurrency and PerHostConcurrency cap
	// the attempts in flight to one webhook, of one app, and to one host
	// of deliveries without a webhook; 0 takes the engine's defaults (see
	// deliver.Config).
	PerWebhookConcurrency int
	PerAppConcurrency     int
	PerHostConcurrency    int
	MaxEventBytes         int
	Notify                notify.Config
	// Role is what this process does: "api", "worker" or "all".
	Role string
	// Retention is how long finished events are kept; 0 means 30 days,
	// negative forever.
	Retention time.Duration
	// StatsMinutes and StatsHours are how long minute and hourly
	// statistics are kept; 0 means 48 hours and 90 days.
	StatsMinutes, StatsHours time.Duration
	// PprofAddr, when set, serves net/http/pprof there (keep it on
	// loopback).
	PprofAddr string
	// MetricsAddr, when set, serves /metrics on a listener of its own
	// instead of beside the API.
	MetricsAddr string
	// LogLevel is the least severe level logged.
	LogLevel slog.Level
	// Resolver resolves destination hosts, for the URL checks and the
	// outbound client; nil means the system's. It is no flag: tests
	// give one that says what their names resolve to.
	Resolver *net.Resolver
	// ListenTimeout is how long a `hookd listen` webhook outlives its
	// last connection; 0 means 5 minutes.
	ListenTimeout time.Duration
	// PortalFrameAncestors are the origins that may show the customer
	// portal in an iframe.
	PortalFrameAncestors []string
	// PortalBrand is the portal's product name, accent colour and logo.
	PortalBrand dashboard.Branding
}

// Roles of a process.
const (
	RoleAll    = "all"
	RoleAPI    = "api"
	RoleWorker = "worker"
)

// Main is the running program: ParseFlags, then Run, then Close. End-to-end
// tests drive it the same way.
type Main struct {
	Config Config
	// Logger is built by ParseFlags; tests may replace it before Run.
	Logger *slog.Logger
	// Now is the clock; tests may replace it before Run.
	Now func() time.Time
	// Tracing receives spans; Run sets it up from the OTEL_* environment
	// when it is nil (and leaves it nil when they ask for no traces).
	// Tests may set their own before Run.
	Tracing *sdktrace.TracerProvider

	stdout, stderr  io.Writer
	store           store.Store
	lock            *os.File
	http            *http.Server
	listener        net.Listener
	engine          *deliver.Engine
	pprof           *http.Server
	metricsServer   *http.Server
	metricsListener net.Listener
	listen          func(ctx context.Context, wake func()) error
	notifier        *notify.Notifier
	tally           *receive.Tally
	stopTally       context.CancelFunc
	tallyDone       chan struct{}
	stopEngine      context.CancelFunc
	engineDone      chan struct{}
	closeOnce       sync.Once
	closeErr        error
}

// NewMain returns a Main writing to the given streams.
func NewMain(stdout, stderr io.Writer) *Main {
	return &Main{stdout: stdout, stderr: stderr, Now: time.Now}
}

// ParseFlags reads the config from args, the environment and an optional
// config file (--config, lines of HOOKD_NAME=value).
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("hookd serve", flag.ContinueOnError)
	fs.SetOutput(m.stderr)
	c := &m.Config
	configFile := fs.String("config", os.Getenv("HOOKD_CONFIG"), "file of HOOKD_NAME=value lines (env: HOOKD_CONFIG)")
	fs.StringVar(&c.Addr, "addr", "", "listen address (env: HOOKD_ADDR; default 127.0.0.1:8080)")
	fs.StringVar(&c.DataDir, "data-dir", "", "data directory of the embedded store (env: HOOKD_DATA_DIR; default ./hookd-data)")
	fs.StringVar(&c.Database, "database", "", "postgres:// URL; empty means the embedded SQLite store (env: HOOKD_DATABASE)")
	fs.BoolVar(&c.AllowPrivateNetworks, "allow-private-networks", false, "allow deliveries to private and loopback addresses and plain http:// (env: HOOKD_ALLOW_PRIVATE_NETWORKS=1)")
	fs.StringVar(&c.PublicURL, "public-url", "", "base URL for links and receive URLs (env: HOOKD_PUBLIC_URL)")
	fs.DurationVar(&c.Timeout, "timeout", 0, "delivery request timeout (env: HOOKD_TIMEOUT; default 15s)")
	fs.IntVar(&c.Workers, "workers", 0, "concurrent delivery attempts (env: HOOKD_WORKERS; default 256)")
	fs.IntVar(&c.PerWebhookConcurrency, "per-webhook-concurrency", 0, "attempts in flight to one webhook at most (env: HOOKD_PER_WEBHOOK_CONCURRENCY; default workers/8)")
	fs.IntVar(&c.PerAppConcurrency, "per-app-concurrency", 0, "attempts in flight of one app at most (env: HOOKD_PER_APP_CONCURRENCY; default workers/4)")
	fs.IntVar(&c.PerHostConcurrency, "per-host-concurrency", 0, "attempts in flight to one host of one-off and forwarded deliveries at most (env: HOOKD_PER_HOST_CONCURRENCY; default workers/8)")
	fs.IntVar(&c.MaxEventBytes, "max-event-bytes", 0, "largest event data and received body in bytes (env: HOOKD_MAX_EVENT_BYTES; default 262144)")
	fs.StringVar(&c.Role, "role", "", "what this process runs: api, worker or all (env: HOOKD_ROLE; default all)")
	fs.DurationVar(&c.ListenTimeout, "listen-timeout", 0, "how long a hookd listen webhook outlives its connection (env: HOOKD_LISTEN_TIMEOUT; default 5m)")
	fs.DurationVar(&c.Retention, "retention", 0, "how long finished events are kept, e.g. 720h (env: HOOKD_RETENTION; default 30 days; -1s keeps them forever)")
	fs.DurationVar(&c.StatsMinutes, "stats-minutes", 0, "how long minute statistics are kept, at least 24h (env: HOOKD_STATS_MINUTES; default 48h)")
	fs.DurationVar(&c.StatsHours, "stats-hours", 0, "how long hourly statistics are kept, at least 2160h (env: HOOKD_STATS_HOURS; default 2160h, 90 days)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "serve /metrics on this address instead of beside the API (env: HOOKD_METRICS_ADDR)")
	frameAncestors := fs.String("portal-frame-ancestors", "", "space-separated origins that may show the customer portal in an iframe (env: HOOKD_PORTAL_FRAME_ANCESTORS)")
	logLevel := fs.String("log-level", "", "least severe level logged: debug, info, warn or error (env: HOOKD_LOG_LEVEL; default info)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	env := os.Getenv
	if *configFile != "" {
		fileVals, err := readConfigFile(*configFile)
		if err != nil {
			return err
		}
		env = func(k string) string {
			if v, ok := os.LookupEnv(k); ok {
				return v
			}
			return fileVals[k]
		}
	}
	str := func(flagName, key string, dst *string, def string) {
		if !set[flagName] {
			*dst = env(key)
		}
		if *dst == "" {
			*dst = def
		}
	}
	str("addr", "HOOKD_ADDR", &c.Addr, "127.0.0.1:8080")
	str("data-dir", "HOOKD_DATA_DIR", &c.DataDir, "./hookd-data")
	str("database", "HOOKD_DATABASE", &c.Database, "")
	str("public-url", "HOOKD_PUBLIC_URL", &c.PublicURL, "")
	str("role", "HOOKD_ROLE", &c.Role, RoleAll)
	str("metrics-addr", "HOOKD_METRICS_ADDR", &c.MetricsAddr, "")
	str("log-level", "HOOKD_LOG_LEVEL", logLevel, "info")
	str("portal-frame-ancestors", "HOOKD_PORTAL_FRAME_ANCESTORS", frameAncestors, "")
	anc, err := dashboard.ParseFrameAncestors(*frameAncestors)
	if err != nil {
		return err
	}
	c.PortalFrameAncestors = anc
	c.PortalBrand = dashboard.Branding{Name: env("HOOKD_PORTAL_BRAND_NAME"), Color: env("HOOKD_PORTAL_BRAND_COLOR"), LogoURL: env("HOOKD_PORTAL_BRAND_LOGO_URL")}
	if err := c.PortalBrand.Validate(); err != nil {
		return err
	}
	if err := c.LogLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level %q must be debug, info, warn or error", *logLevel)
	}
	switch c.Role {
	case RoleAll, RoleAPI, RoleWorker:
	default:
		return fmt.Errorf("--role %q must be api, worker or all", c.Role)
	}
	if c.Database != "" && !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://") {
		return fmt.Errorf("--database must be a postgres:// URL, or empty for the embedded store")
	}
	if c.Database == "" && c.Role != RoleAll {
		return fmt.Errorf("--role %s needs --database: the embedded store is used by one process that does everything", c.Role)
	}
	if !set["retention"] && env("HOOKD_RETENTION") != "" {
		d, err := time.ParseDuration(env("HOOKD_RETENTION"))
		if err != nil {
			return fmt.Errorf("HOOKD_RETENTION: %q is not a duration such as 720h", env("HOOKD_RETENTION"))
		}
		c.Retention = d
	}
	for _, d := range []struct {
		flag, env string
		dst       *time.Duration
		least     time.Duration
	}{{"stats-minutes", "HOOKD_STATS_MINUTES", &c.StatsMinutes, 24 * time.Hour}, {"stats-hours", "HOOKD_STATS_HOURS", &c.StatsHours, 90 * 24 * time.Hour}} {
		if !set[d.flag] && env(d.env) != "" {
			v, err := time.ParseDuration(env(d.env))
			if err != nil {
				return fmt.Errorf("%s: %q is not a duration such as %v", d.env, env(d.env), d.least)
			}
			*d.dst = v
		}
		if *d.dst != 0 && *d.dst < d.least {
			return fmt.Errorf("--%s must be at least %v: the statistics routes promise that much", d.flag, d.least)
		}
	}
	if !set["listen-timeout"] && env("HOOKD_LISTEN_TIMEOUT") != "" {
		d, err := time.ParseDuration(env("HOOKD_LISTEN_TIMEOUT"))
		if err != nil || d <= 0 {
			return fmt.Errorf("HOOKD_LISTEN_TIMEOUT: %q is not a positive duration such as 5m", env("HOOKD_LISTEN_TIMEOUT"))
		}
		c.ListenTimeout = d
	}
	if c.ListenTimeout < 0 {
		return fmt.Errorf("--listen-timeout must be a positive duration such as 5m")
	}
	if c.ListenTimeout == 0 {
		c.ListenTimeout = defaultListenTimeout
	}
	c.AdminToken = env("HOOKD_ADMIN_TOKEN")
	c.EncryptionKey = env("HOOKD_ENCRYPTION_KEY")
	c.EgressProxy = env("HOOKD_EGRESS_PROXY")
	c.PprofAddr = env("HOOKD_PPROF_ADDR")
	c.Notify = notify.Config{
		WebhookURL:    env("HOOKD_OPERATOR_WEBHOOK_URL"),
		WebhookSecret: env("HOOKD_OPERATOR_WEBHOOK_SECRET"),
		SMTPAddr:      env("HOOKD_SMTP_ADDR"),
		SMTPFrom:      env("HOOKD_SMTP_FROM"),
		SMTPUsername:  env("HOOKD_SMTP_USERNAME"),
		SMTPPassword:  env("HOOKD_SMTP_PASSWORD"),
	}
	if !set["allow-private-networks"] {
		switch strings.ToLower(env("HOOKD_ALLOW_PRIVATE_NETWORKS")) {
		case "1", "true", "yes", "on":
			c.AllowPrivateNetworks = true
		}
	}
	if !set["timeout"] && env("HOOKD_TIMEOUT") != "" {
		d, err := time.ParseDuration(env("HOOKD_TIMEOUT"))
		if err != nil || d <= 0 {
			return fmt.Errorf("HOOKD_TIMEOUT: %q is not a positive duration such as 15s", env("HOOKD_TIMEOUT"))
		}
		c.Timeout = d
	}
	if !set["max-event-bytes"] && env("HOOKD_MAX_EVENT_BYTES") != "" {
		if _, err := fmt.Sscan(env("HOOKD_MAX_EVENT_BYTES"), &c.MaxEventBytes); err != nil || c.MaxEventBytes <= 0 {
			return fmt.Errorf("HOOKD_MAX_EVENT_BYTES: %q is not a positive number", env("HOOKD_MAX_EVENT_BYTES"))
		}
	}
	for _, n := range []struct {
		flag, env string
		into      *int
	}{
		{"workers", "HOOKD_WORKERS", &c.Workers},
		{"per-webhook-concurrency", "HOOKD_PER_WEBHOOK_CONCURRENCY", &c.PerWebhookConcurrency},
		{"per-app-concurrency", "HOOKD_PER_APP_CONCURRENCY", &c.PerAppConcurrency},
		{"per-host-concurrency", "HOOKD_PER_HOST_CONCURRENCY", &c.PerHostConcurrency},
	} {
		if !set[n.flag] && env(n.env) != "" {
			if _, err := fmt.Sscan(env(n.env), n.into); err != nil || *n.into <= 0 {
				return fmt.Errorf("%s: %q is not a positive number", n.env, env(n.env))
			}
		}
		if *n.into < 0 {
			return fmt.Errorf("--%s: %d is not a positive number", n.flag, *n.into)
		}
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--public-url %q must be an absolute http(s) URL", c.PublicURL)
		}
	}
	m.Logger = newLogger(m.stderr, c.LogLevel)
	return nil
}

func readConfigFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	vals := map[string]string{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(strings.TrimSpace(k), "HOOKD_") {
			return nil, fmt.Errorf("config file %s line %d: want HOOKD_NAME=value", path, i+1)
		}
		vals[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	return vals, nil
}

// newLogger logs text to a terminal and JSON otherwise.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return slog.New(slog.NewTextHandler(w, opts))
		}
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// openStore opens the configured store, migrating it.
func (m *Main) openStore(ctx context.Context, ids *ident.Generator) (store.Store, error) {
	if m.Config.Database != "" {
		return m.openPostgres(ctx, ids)
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	lock, err := lockDataDir(m.Config.DataDir)
	if err != nil {
		return nil, err
	}
	m.lock = lock
	key, err := m.encryptionKey()
	if err != nil {
		return nil, err
	}
	sealer, err := seal.New(key)
	if err != nil {
		return nil, err
	}
	st, err := storesqlite.Open(ctx, storesqlite.Config{Path: filepath.Join(m.Config.DataDir, "hookd.db"), Sealer: sealer, NewID: ids.New, Log: m.Logger, Now: m.Now})
	if err != nil {
		return nil, err
	}
	// Only this process uses the file, so any lease left in it belongs to
	// a process that died: its deliveries are due again now.
	if n, err := st.ReleaseLeases(ctx); err != nil {
		st.Close()
		return nil, err
	} else if n > 0 {
		m.Logger.Info("released deliveries claimed by a previous run", "count", n)
	}
	return st, nil
}

// openPostgres opens the shared PostgreSQL store. Every process on one
// database must seal secrets with the same key, so it must be given.
func (m *Main) openPostgres(ctx context.Context, ids *ident.Generator) (store.Store, error) {
	if m.Config.EncryptionKey == "" {
		return nil, errors.New("HOOKD_ENCRYPTION_KEY is required with --database: every process on one database must use the same key " +
			"(make one with: head -c 32 /dev/urandom | base64)")
	}
	key, err := seal.ParseKey(m.Config.EncryptionKey)
	if err != nil {
		return nil, fmt.Errorf("HOOKD_ENCRYPTION_KEY: %w", err)
	}
	sealer, err := seal.New(key)
	if err != nil {
		return nil, err
	}
	st, err := storepg.Open(ctx, storepg.Config{URL: m.Config.Database, Sealer: sealer, NewID: ids.New, Log: m.Logger, Warm: true, Now: m.Now})
	if err != nil {
		return nil, err
	}
	m.listen = st.Listen
	return st, nil
}

// lockDataDir makes sure one process at a time uses a data directory.
func lockDataDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("data dir %s is in use by another hookd process", dir)
	}
	return f, nil
}

func (m *Main) encryptionKey() ([]byte, error) {
	if m.Config.EncryptionKey != "" {
		key, err := seal.ParseKey(m.Config.EncryptionKey)
		if err != nil {
			return nil, fmt.Errorf("HOOKD_ENCRYPTION_KEY: %w", err)
		}
		return key, nil
	}
	key, err := seal.LoadOrCreateKeyFile(filepath.Join(m.Config.DataDir, "encryption.key"))
	if err != nil {
		return nil, fmt.Errorf("encryption key file: %w", err)
	}
	return key, nil
}

// minAdminTokenBytes is the shortest HOOKD_ADMIN_TOKEN hookd accepts: the
// admin token can do everything, and is kept only as a fast hash.
const minAdminTokenBytes = 16

// checkAdminToken refuses a HOOKD_ADMIN_TOKEN too short to be a secret.
func checkAdminToken(token string) error {
	if token != "" && len(token) < minAdminTokenBytes {
		return fmt.Errorf("HOOKD_ADMIN_TOKEN must be at least %d bytes, and it has %d: choose a longer one "+
			"(make one with: head -c 24 /dev/urandom | base64), or leave it unset to have one generated", minAdminTokenBytes, len(token))
	}
	return nil
}

// adminTokenHash returns the admin token's hash: of HOOKD_ADMIN_TOKEN, or
// of a token generated on first start and printed once. The embedded
// store keeps the hash in the data dir; a shared store (PostgreSQL) keeps
// it in the database, so that every process accepts the same token.
func (m *Main) adminTokenHash(ctx context.Context) (string, error) {
	shared, _ := m.store.(store.AdminTokens)
	if m.Config.AdminToken != "" {
		hash := service.HashToken(m.Config.AdminToken)
		if shared != nil {
			// The token given replaces a generated one, so that a
			// process started later without HOOKD_ADMIN_TOKEN accepts
			// it too, not a token that is no longer meant to work.
			if err := shared.SetAdminTokenHash(ctx, hash); err != nil {
				return "", err
			}
		}
		return hash, nil
	}
	path := filepath.Join(m.Config.DataDir, "admin-token.sha256")
	kept, err := readAdminTokenHash(path)
	if err != nil {
		return "", err
	}
	if shared != nil {
		return m.sharedAdminTokenHash(ctx, shared, kept)
	}
	if kept != "" {
		return kept, nil
	}
	token, hash, err := newAdminToken()
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(hash+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("store admin token hash: %w", err)
	}
	m.printAdminToken(token, "delete "+path+" to generate a new one")
	return hash, nil
}

// sharedAdminTokenHash agrees on one admin token with every process of a
// shared store: the first to start stores its hash (the one an older
// hookd kept in this data dir, else a new token's), and the others take
// the one stored. Only the process whose new token was stored prints it.
func (m *Main) sharedAdminTokenHash(ctx context.Context, shared store.AdminTokens, kept string) (string, error) {
	offer, token := kept, ""
	if offer == "" {
		var err error
		if token, offer, err = newAdminToken(); err != nil {
			return "", err
		}
	}
	stored, err := shared.OfferAdminTokenHash(ctx, offer)
	if err != nil {
		return "", err
	}
	if stored == offer && token != "" {
		m.printAdminToken(token, "every process on this database accepts it")
	}
	return stored, nil
}

// readAdminTokenHash reads the hash kept at path; "" when there is none.
func readAdminTokenHash(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read admin token hash: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// newAdminToken makes a random admin token and its hash.
func newAdminToken() (token, hash string, err error) {
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", "", fmt.Errorf("generate admin token: %w", err)
	}
	token = "hka_" + hex.EncodeToString(raw)
	return token, service.HashToken(token), nil
}

// printAdminToken shows a generated admin token, the one time it is shown,
// on stderr and not through the logger, whose lines may be kept anywhere.
func (m *Main) printAdminToken(token, note string) {
	fmt.Fprintf(m.stderr, "\nhookd generated an admin token. It is shown this once; keep it safe:\n\n    %s\n\n"+
		"(Set HOOKD_ADMIN_TOKEN to choose your own; %s.)\n\n", token, note)
}

// Run opens the store, starts the delivery engine and the HTTP server, and
// returns once they are running.
func (m *Main) Run(ctx context.Context) error {
	if m.Logger == nil {
		m.Logger = newLogger(m.stderr, m.Config.LogLevel)
	}
	if m.Config.ListenTimeout <= 0 {
		m.Config.ListenTimeout = defaultListenTimeout
	}
	// Lines logged while serving an API request carry its request id.
	m.Logger = slog.New(httpapi.LogHandler(m.Logger.Handler()))
	log := m.Logger
	if err := checkAdminToken(m.Config.AdminToken); err != nil {
		return err
	}
	ids := ident.New(m.Now)
	st, err := m.openStore(ctx, ids)
	if err != nil {
		return err
	}
	m.store = st
	if m.Tracing == nil {
		if m.Tracing, err = tracing.Start(ctx, os.Getenv, hookd.Version); err != nil {
			return err
		}
	}
	tracer := tracing.Tracer(m.Tracing)
	counts := metrics.New(st, log.With("component", "metrics"), metrics.Config{Now: m.Now})
	adminHash, err := m.adminTokenHash(ctx)
	if err != nil {
		return err
	}

	var proxy *url.URL
	if m.Config.EgressProxy != "" {
		if proxy, err = url.Parse(m.Config.EgressProxy); err != nil || proxy.Scheme == "" || proxy.Host == "" {
			return fmt.Errorf("HOOKD_EGRESS_PROXY %q must be a URL such as http://proxy:3128", m.Config.EgressProxy)
		}
	}
	workers := m.Config.Workers
	if workers <= 0 {
		workers = deliver.DefaultWorkers
	}
	// Connections per host must outnumber the attempts one webhook may
	// have in flight, or a slow webhook would hold every connection to its
	// host and starve the other webhooks there.
	client, err := egress.NewClient(egress.Config{AllowPrivate: m.Config.AllowPrivateNetworks, Timeout: m.Config.Timeout, Proxy: proxy,
		MaxConnsPerHost: 2 * workers, Resolver: m.Config.Resolver})
	if err != nil {
		return err
	}
	notifyCfg := m.Config.Notify
	notifyCfg.NewID, notifyCfg.Now, notifyCfg.UserAgent = ids.New, m.Now, "hookd/"+hookd.Version
	// The operator's notification URL is the operator's own service, often
	// on their private network: it is dialled without the guard that
	// keeps customers' URLs off that network, and without the egress
	// proxy, which is there for customers' allow-lists.
	operatorClient, err := egress.NewClient(egress.Config{AllowPrivate: true, Timeout: m.Config.Timeout, Resolver: m.Config.Resolver})
	if err != nil {
		return err
	}
	notifier, err := notify.New(notifyCfg, operatorClient, st, log.With("component", "notify"))
	if err != nil {
		return err
	}
	m.notifier = notifier
	wake := func() {}
	var hub *listen.Hub
	if m.Config.Role != RoleAPI {
		hub = &listen.Hub{}
		// On PostgreSQL a webhook's rate limit holds across every process
		// on the database: the engines take from buckets the store keeps.
		// SQLite has none; its one process keeps the limits itself.
		buckets, _ := st.(deliver.RateBuckets)
		engine, err := deliver.New(st, client, notifier, log.With("component", "deliver"), deliver.Config{
			Owner:      ids.New("worker"),
			Workers:    m.Config.Workers,
			PerWebhook: m.Config.PerWebhookConcurrency,
			PerApp:     m.Config.PerAppConcurrency,
			PerHost:    m.Config.PerHostConcurrency,
			Timeout:    m.Config.Timeout,
			UserAgent:  "hookd/" + hookd.Version,
			Now:        m.Now,
			Observer:   counts,
			Tracer:     tracer,
			Relay:      hub,
			Buckets:    buckets,
		})
		if err != nil {
			return err
		}
		m.engine, wake = engine, engine.Wake
		if h, ok := st.(store.Handover); ok {
			// Publishes of this process hand their deliveries straight
			// to its engine, without a claim.
			h.HandTo(engine)
		}
	}
	svc, err := service.New(st, service.Config{
		AdminTokenHash: adminHash,
		AllowPrivate:   m.Config.AllowPrivateNetworks,
		Resolver:       m.Config.Resolver,
		Now:            m.Now,
		NewID:          ids.New,
		Wake:           wake,
		MaxDataBytes:   m.Config.MaxEventBytes,
		Observer:       counts,
		Tracer:         tracer,
	})
	if err != nil {
		return err
	}
	m.tally = receive.NewTally(st, log.With("component", "receive"), m.Now)
	recv, err := receive.New(st, receive.Config{Now: m.Now, NewID: ids.New, Wake: wake, Observer: counts, Tally: m.tally})
	if err != nil {
		return err
	}
	ui, err := dashboard.New(svc, log.With("component", "dashboard"), dashboard.Config{
		PublicURL:      m.Config.PublicURL,
		FrameAncestors: m.Config.PortalFrameAncestors,
		Brand:          m.Config.PortalBrand,
		Stats:          svc,
		Now:            m.Now,
	})
	if err != nil {
		return err
	}
	api, err := httpapi.New(svc, recv, log.With("component", "api"), httpapi.Config{
		Dashboard:     ui,
		PublicURL:     m.Config.PublicURL,
		MaxEventBytes: int64(m.Config.MaxEventBytes),
		Ready:         st.Ping,
		HealthOnly:    m.Config.Role == RoleWorker,
		Extra:         m.metricsRoute(counts),
		Observer:      counts,
		Tracer:        tracer,
		Listen:        hub,
		ListenTimeout: m.Config.ListenTimeout,
	})
	if err != nil {
		return err
	}
	if err := m.serveMetrics(counts); err != nil {
		return err
	}
	m.startBackground(ctx, st, svc)
	tallyCtx, stopTally := context.WithCancel(context.WithoutCancel(ctx))
	m.stopTally, m.tallyDone = stopTally, make(chan struct{})
	go func() {
		defer close(m.tallyDone)
		m.tally.Run(tallyCtx, tallyEvery)
	}()
	if err := m.servePprof(); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Addr, err)
	}
	m.listener = ln
	m.http = &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if hub != nil {
		// Streams never end by themselves; shutdown ends them.
		m.http.RegisterOnShutdown(hub.Close)
	}
	go func() {
		if err := m.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "err", err)
		}
	}()
	storeName := "sqlite"
	if m.Config.Database != "" {
		storeName = "postgres"
	}
	log.Info("hookd is serving", "addr", ln.Addr().String(), "store", storeName, "role", m.Config.Role, "data_dir", m.Config.DataDir,
		"allow_private_networks", m.Config.AllowPrivateNetworks, "version", hookd.Version)
	return nil
}

// metricsRoute mounts /metrics beside the API, unless it has a listener of
// its own.
func (m *Main) metricsRoute(counts *metrics.Metrics) map[string]http.Handler {
	if m.Config.MetricsAddr != "" {
		return nil
	}
	return map[string]http.Handler{"GET /metrics": counts.Handler()}
}

// serveMetrics serves /metrics on --metrics-addr when it is set.
func (m *Main) serveMetrics(counts *metrics.Metrics) error {
	if m.Config.MetricsAddr == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", counts.Handler())
	var err error
	m.metricsServer, m.metricsListener, err = m.serveAside("metrics", m.Config.MetricsAddr, mux)
	return err
}

// servePprof serves the Go profiler on its own listener when asked to.
func (m *Main) servePprof() error {
	if m.Config.PprofAddr == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	var err error
	m.pprof, _, err = m.serveAside("pprof", m.Config.PprofAddr, mux)
	return err
}

// serveAside serves h on a listener of its own at addr, beside the API.
func (m *Main) serveAside(what, addr string, h http.Handler) (*http.Server, net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen for %s on %s: %w", what, addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	m.Logger.Info("serving "+what, "addr", ln.Addr().String())
	return srv, ln, nil
}

// startBackground starts what runs beside the API in a worker: the
// delivery engine, the wake-up listener and retention.
func (m *Main) startBackground(ctx context.Context, st store.Store, svc *service.Service) {
	if m.engine == nil {
		return
	}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stopEngine, m.engineDone = stop, make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := m.engine.Run(bg); err != nil {
			m.Logger.Error("delivery engine stopped", "err", err)
		}
	})
	if m.listen != nil {
		wg.Go(func() { m.listen(bg, m.engine.Wake) })
	}
	if m.Config.Retention >= 0 {
		pruner := retention.New(st, m.Logger.With("component", "retention"), retention.Config{MaxAge: m.Config.Retention, Now: m.Now})
		wg.Go(func() { pruner.Run(bg) })
	}
	stats := retention.NewStats(st, m.Logger.With("component", "retention"), retention.StatsConfig{
		Minutes: m.Config.StatsMinutes, Hours: m.Config.StatsHours, Now: m.Now})
	wg.Go(func() { stats.Run(bg) })
	wg.Go(func() { m.sweepListen(bg, svc) })
	go func() {
		wg.Wait()
		close(m.engineDone)
	}()
}

// tallyEvery is how often the sources' refused requests, counted in
// memory, are added to their statistics.
const tallyEvery = time.Second

// defaultListenTimeout is how long a listen webhook outlives its last
// connection unless told.
const defaultListenTimeout = 5 * time.Minute

// sweepListen deletes, until ctx ends, the listen webhooks that no
// connection has kept alive for the listen timeout: those of CLIs that
// vanished without deleting theirs.
func (m *Main) sweepListen(ctx context.Context, svc *service.Service) {
	every := min(max(m.Config.ListenTimeout/4, 50*time.Millisecond), time.Minute)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := svc.SweepListen(ctx, m.Config.ListenTimeout)
		switch {
		case err != nil && ctx.Err() == nil:
			m.Logger.Warn("delete idle listen webhooks", "err", err)
		case n > 0:
			m.Logger.Info("deleted idle listen webhooks", "count", n)
		}
	}
}

// Addr is the address the API listens on, once Run has returned.
func (m *Main) Addr() string {
	if m.listener == nil {
		return ""
	}
	return m.listener.Addr().String()
}

// MetricsAddr is where --metrics-addr serves /metrics once Run has
// returned; "" when the metrics are served beside the API.
func (m *Main) MetricsAddr() string {
	if m.metricsListener == nil {
		return ""
	}
	return m.metricsListener.Addr().String()
}

// Close stops accepting requests, lets the delivery engine finish the
// attempts in flight and record them, and closes the store.
func (m *Main) Close() error {
	m.closeOnce.Do(func() {
		var errs []error
		if m.http != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			errs = append(errs, m.http.Shutdown(ctx))
			cancel()
		}
		if m.pprof != nil {
			m.pprof.Close()
		}
		if m.metricsServer != nil {
			m.metricsServer.Close()
		}
		if m.stopEngine != nil {
			m.stopEngine()
			<-m.engineDone
		}
		if m.stopTally != nil {
			// Its last flush counts the refusals of the requests just
			// served.
			m.stopTally()
			<-m.tallyDone
		}
		if m.notifier != nil {
			// Notices are a courtesy (the state they report is stored):
			// shutdown waits for them a while, not for ever.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := m.notifier.Close(ctx); err != nil && m.Logger != nil {
				m.Logger.Warn("notices dropped at shutdown", "err", err)
			}
			cancel()
		}
		if m.store != nil {
			errs = append(errs, m.store.Close())
		}
		if m.Tracing != nil {
			// Send the spans still held, within a bound.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := m.Tracing.Shutdown(ctx); err != nil {
				m.Logger.Warn("trace export at shutdown", "err", err)
			}
			cancel()
		}
		if m.lock != nil {
			errs = append(errs, m.lock.Close())
		}
		m.closeErr = errors.Join(errs...)
		if m.Logger != nil {
			m.Logger.Info("hookd stopped")
		}
	})
	return m.closeErr
}

// progress prints a line of a long command's progress.
func (m *Main) progress(line string) { fmt.Fprintln(m.stdout, line) }

// Migrate creates or upgrades the schema and returns, printing a line as
// each migration starts and ends.
func (m *Main) Migrate(ctx context.Context) error {
	if m.Config.Database != "" {
		if err := storepg.Migrate(ctx, m.Config.Database, m.progress); err != nil {
			return err
		}
		fmt.Fprintln(m.stdout, "schema is up to date")
		return nil
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	if err := storesqlite.Migrate(ctx, filepath.Join(m.Config.DataDir, "hookd.db"), m.progress); err != nil {
		return err
	}
	fmt.Fprintln(m.stdout, "schema is up to date")
	return nil
}
