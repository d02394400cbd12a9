package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// No t.Parallel here: these tests set environment variables.

func TestParseFlagsDefaults(t *testing.T) {
	for _, k := range []string{"HOOKD_ADDR", "HOOKD_DATA_DIR", "HOOKD_DATABASE", "HOOKD_ROLE", "HOOKD_ALLOW_PRIVATE_NETWORKS", "HOOKD_CONFIG"} {
		t.Setenv(k, "")
	}
	m := NewMain(io.Discard, io.Discard)
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	c := m.Config
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "./hookd-data" || c.Database != "" || c.Role != RoleAll || c.AllowPrivateNetworks {
		t.Errorf("defaults = %+v", c)
	}
}

func TestParseFlagsPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hookd.conf")
	os.WriteFile(file, []byte("# comment\nHOOKD_ADDR=127.0.0.1:7000\nHOOKD_DATA_DIR=/from/file\nHOOKD_ALLOW_PRIVATE_NETWORKS=1\n"), 0o600)
	t.Setenv("HOOKD_CONFIG", file)
	t.Setenv("HOOKD_DATA_DIR", "/from/env")
	t.Setenv("HOOKD_ADDR", "")
	os.Unsetenv("HOOKD_ADDR")
	t.Setenv("HOOKD_ROLE", "")
	m := NewMain(io.Discard, io.Discard)
	if err := m.ParseFlags([]string{"--data-dir", "/from/flag"}); err != nil {
		t.Fatal(err)
	}
	if m.Config.DataDir != "/from/flag" {
		t.Errorf("data dir = %q, want the flag's", m.Config.DataDir)
	}
	if m.Config.Addr != "127.0.0.1:7000" || !m.Config.AllowPrivateNetworks {
		t.Errorf("file values not used: %+v", m.Config)
	}
	m = NewMain(io.Discard, io.Discard)
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	if m.Config.DataDir != "/from/env" {
		t.Errorf("data dir = %q, want the environment's over the file's", m.Config.DataDir)
	}
}

// TestParseFlagsConcurrencyCaps checks that the fair-share caps come from
// their flags or, without one, from the environment, and that a cap that
// is not a positive number is refused.
func TestParseFlagsConcurrencyCaps(t *testing.T) {
	t.Setenv("HOOKD_CONFIG", "")
	t.Setenv("HOOKD_PER_WEBHOOK_CONCURRENCY", "7")
	t.Setenv("HOOKD_PER_APP_CONCURRENCY", "40")
	t.Setenv("HOOKD_PER_HOST_CONCURRENCY", "9")
	m := NewMain(io.Discard, io.Discard)
	if err := m.ParseFlags([]string{"--per-app-concurrency", "50"}); err != nil {
		t.Fatal(err)
	}
	c := m.Config
	if c.PerWebhookConcurrency != 7 || c.PerAppConcurrency != 50 || c.PerHostConcurrency != 9 {
		t.Errorf("caps = webhook %d, app %d, host %d; want 7 (env), 50 (flag), 9 (env)", c.PerWebhookConcurrency, c.PerAppConcurrency, c.PerHostConcurrency)
	}
	t.Setenv("HOOKD_PER_HOST_CONCURRENCY", "none")
	if err := NewMain(io.Discard, io.Discard).ParseFlags(nil); err == nil || !strings.Contains(err.Error(), "HOOKD_PER_HOST_CONCURRENCY") {
		t.Errorf("HOOKD_PER_HOST_CONCURRENCY=none: err = %v, want one naming it", err)
	}
	t.Setenv("HOOKD_PER_HOST_CONCURRENCY", "")
	if err := NewMain(io.Discard, io.Discard).ParseFlags([]string{"--per-webhook-concurrency", "-1"}); err == nil {
		t.Error("--per-webhook-concurrency -1 accepted")
	}
}

func TestParseFlagsRejects(t *testing.T) {
	t.Setenv("HOOKD_CONFIG", "")
	for _, args := range [][]string{
		{"--role", "boss"},
		{"--role", "api"}, // needs --database
		{"--database", "mysql://x"},
		{"--public-url", "ftp://x"},
		{"stray"},
	} {
		if err := NewMain(io.Discard, io.Discard).ParseFlags(args); err == nil {
			t.Errorf("ParseFlags(%q) accepted", args)
		}
	}
}

func TestMigrateCreatesTheEmbeddedStore(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "--data-dir", dir}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "hookd.db")); err != nil {
		t.Errorf("no database file after migrate: %v", err)
	}
	if !strings.Contains(out.String(), "up to date") {
		t.Errorf("output %q", out.String())
	}
	// A line as each migration starts and ends, none when there is none.
	files, _ := filepath.Glob("../../store/storesqlite/migrations/*.sql")
	if n := strings.Count(out.String(), "applying migration "); n != len(files) || len(files) == 0 {
		t.Errorf("%d 'applying migration' lines for %d migrations:\n%s", n, len(files), out.String())
	}
	if !strings.Contains(out.String(), "applying migration 1 (00001_init.sql)...") || !strings.Contains(out.String(), "migration 1 applied in ") {
		t.Errorf("no progress line for the first migration:\n%s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"migrate", "--data-dir", dir}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "applying") || !strings.Contains(out.String(), "up to date") {
		t.Errorf("a second migrate printed %q", out.String())
	}
}

func TestVerifyCommand(t *testing.T) {
	body := `{"event":"slot.accepted","data":{"slotId":"s1"}}`
	secret := "wpg-secret-123"
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%s.%s", ts, body)
	sig := hex.EncodeToString(mac.Sum(nil))
	bodyFile := filepath.Join(t.TempDir(), "body.json")
	os.WriteFile(bodyFile, []byte(body), 0o600)
	args := func(s string) []string {
		return []string{"verify", "--scheme", "timestamped-hex", "--prefix", "X-WPG", "--secret", secret, "--body", bodyFile,
			"--header", "X-WPG-Signature: " + s, "--header", "X-WPG-Timestamp: " + ts}
	}
	var out bytes.Buffer
	if err := run(context.Background(), args(sig), &out, io.Discard); err != nil || strings.TrimSpace(out.String()) != "valid" {
		t.Errorf("verify of a good signature = %v, %q", err, out.String())
	}
	out.Reset()
	bad := strings.Repeat("0", len(sig))
	if err := run(context.Background(), args(bad), &out, io.Discard); err == nil || !strings.HasPrefix(out.String(), "invalid") {
		t.Errorf("verify of a bad signature = %v, %q", err, out.String())
	}
}

func TestParseFlagsListenTimeout(t *testing.T) {
	t.Setenv("HOOKD_CONFIG", "")
	t.Setenv("HOOKD_LISTEN_TIMEOUT", "")
	m := NewMain(io.Discard, io.Discard)
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	if m.Config.ListenTimeout != 5*time.Minute {
		t.Errorf("default listen timeout %v, want 5m", m.Config.ListenTimeout)
	}
	t.Setenv("HOOKD_LISTEN_TIMEOUT", "90s")
	m = NewMain(io.Discard, io.Discard)
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	if m.Config.ListenTimeout != 90*time.Second {
		t.Errorf("listen timeout %v, want HOOKD_LISTEN_TIMEOUT's 90s", m.Config.ListenTimeout)
	}
	m = NewMain(io.Discard, io.Discard)
	if err := m.ParseFlags([]string{"--listen-timeout", "2s"}); err != nil {
		t.Fatal(err)
	}
	if m.Config.ListenTimeout != 2*time.Second {
		t.Errorf("listen timeout %v, want the flag's 2s", m.Config.ListenTimeout)
	}
	t.Setenv("HOOKD_LISTEN_TIMEOUT", "soon")
	if err := NewMain(io.Discard, io.Discard).ParseFlags(nil); err == nil || !strings.Contains(err.Error(), "HOOKD_LISTEN_TIMEOUT") {
		t.Errorf("HOOKD_LISTEN_TIMEOUT=soon: %v, want an error naming it", err)
	}
}
