package notify

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/logtest"
)

// smtpServer is a minimal SMTP server on loopback that keeps each message.
type smtpServer struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []string
	rcpt []string
	got  chan struct{}
}

func newSMTPServer(t *testing.T) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, got: make(chan struct{}, 10)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(conn)
		}
	}()
	return s
}

func (s *smtpServer) serve(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	say := func(line string) { conn.Write([]byte(line + "\r\n")) }
	say("220 test ESMTP")
	var data strings.Builder
	inData := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if inData {
			if line == ".\r\n" {
				inData = false
				s.mu.Lock()
				s.msgs = append(s.msgs, data.String())
				s.mu.Unlock()
				say("250 queued")
				s.got <- struct{}{}
				continue
			}
			data.WriteString(line)
			continue
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 test")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			s.mu.Lock()
			s.rcpt = append(s.rcpt, strings.Trim(strings.TrimSpace(line)[8:], "<>"))
			s.mu.Unlock()
			say("250 ok")
		case strings.HasPrefix(cmd, "DATA"):
			inData = true
			data.Reset()
			say("354 go ahead")
		case strings.HasPrefix(cmd, "QUIT"):
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

type apps map[string]*hookd.App

func (a apps) GetApp(_ context.Context, ref string) (*hookd.App, error) {
	if app, ok := a[ref]; ok {
		return app, nil
	}
	return nil, errors.New("no such app")
}

func TestEmailGoesToTheAppsContact(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t)
	lookup := apps{"app_1": {ID: "app_1", Name: "Acme", ContactEmail: "ops@acme.test"}, "app_2": {ID: "app_2", Name: "Quiet"}}
	n, err := New(Config{SMTPAddr: srv.ln.Addr().String(), SMTPFrom: "hookd@example.test"}, http.DefaultClient, lookup, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	n.Notify(context.Background(), []hookd.Notice{
		{Kind: hookd.NoticeWebhookDisabled, AppID: "app_2", WebhookID: "wh_2", At: at}, // no contact: skipped
		{Kind: hookd.NoticeWebhookDisabled, AppID: "app_1", WebhookID: "wh_1", Reason: "the endpoint answered 410 Gone", At: at},
	})
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.msgs) != 1 || len(srv.rcpt) != 1 || srv.rcpt[0] != "ops@acme.test" {
		t.Fatalf("got %d messages to %v, want one to ops@acme.test", len(srv.msgs), srv.rcpt)
	}
	msg := srv.msgs[0]
	for _, want := range []string{"To: ops@acme.test", "Subject: [hookd] A webhook endpoint was disabled", "Webhook: wh_1", "Reason: the endpoint answered 410 Gone"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}

func TestBodyShape(t *testing.T) {
	t.Parallel()
	b, err := Body(hookd.Notice{Kind: hookd.NoticeDeliveryExhausted, AppID: "app_1", DeliveryID: "dlv_1", At: time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"delivery.exhausted","timestamp":"2026-01-02T03:04:05.006Z","data":{"app_id":"app_1","webhook_id":null,"delivery_id":"dlv_1","event_id":null,"reason":null}}`
	if string(b) != want {
		t.Fatalf("body\n got %s\nwant %s", b, want)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]Config{
		"webhook without secret": {WebhookURL: "https://ops.example.test"},
		"webhook bad secret":     {WebhookURL: "https://ops.example.test", WebhookSecret: "whsec_!!", NewID: func(string) string { return "x" }},
		"smtp without from":      {SMTPAddr: "127.0.0.1:25"},
	} {
		if _, err := New(cfg, http.DefaultClient, nil, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// silentSMTP accepts connections and never says a word, until the test
// ends; it reports how many it accepted.
func silentSMTP(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int32
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return ln.Addr().String(), &accepted
}

// An SMTP server that accepts and never speaks costs an email one
// SMTPTimeout per try: the notifier finishes its queue on its own, long
// before Close's deadline, and logs that the email timed out.
func TestEmailToASilentServerTimesOut(t *testing.T) {
	t.Parallel()
	addr, accepted := silentSMTP(t)
	var logs logtest.Buffer
	lookup := apps{"app_1": {ID: "app_1", Name: "Acme", ContactEmail: "ops@acme.test"}}
	n, err := New(Config{SMTPAddr: addr, SMTPFrom: "hookd@example.test", SMTPTimeout: 200 * time.Millisecond, Attempts: 2},
		http.DefaultClient, lookup, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	n.Notify(context.Background(), []hookd.Notice{{Kind: hookd.NoticeWebhookDisabled, AppID: "app_1", WebhookID: "wh_1", At: time.Now()}})
	// Close's deadline is a backstop a hundred times the SMTP timeout:
	// with the timeout in force the queue is done well before it.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := n.Close(ctx); err != nil {
		t.Fatalf("Close = %v, want the email to have timed out on its own", err)
	}
	if n := accepted.Load(); n != 2 {
		t.Errorf("the server took %d connections, want 2: one per try", n)
	}
	if got := logs.String(); !strings.Contains(got, "notice not sent") || !strings.Contains(got, "timeout") {
		t.Errorf("log %q, want the email not sent for a timeout", got)
	}
}

// Close gives up at its deadline: a send under way is cut short and what
// is still queued is dropped.
func TestCloseIsBoundedByItsDeadline(t *testing.T) {
	t.Parallel()
	addr, accepted := silentSMTP(t)
	lookup := apps{"app_1": {ID: "app_1", Name: "Acme", ContactEmail: "ops@acme.test"}}
	n, err := New(Config{SMTPAddr: addr, SMTPFrom: "hookd@example.test", SMTPTimeout: time.Hour}, http.DefaultClient, lookup, nil)
	if err != nil {
		t.Fatal(err)
	}
	var notices []hookd.Notice
	for range 3 {
		notices = append(notices, hookd.Notice{Kind: hookd.NoticeDeliveryExhausted, AppID: "app_1", At: time.Now()})
	}
	n.Notify(context.Background(), notices)
	for accepted.Load() == 0 {
		time.Sleep(5 * time.Millisecond) // the first email is under way
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := n.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want it to give up at its deadline", err)
	}
	if n := accepted.Load(); n != 1 {
		t.Errorf("the server took %d connections, want 1: the queued emails are dropped once Close gives up", n)
	}
}

// A contact stored with a display name (before addresses were stored bare)
// is mailed at its address.
func TestEmailToAContactWithADisplayName(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t)
	lookup := apps{"app_1": {ID: "app_1", Name: "Acme", ContactEmail: "Ops Team <ops@team.test>"}}
	n, err := New(Config{SMTPAddr: srv.ln.Addr().String(), SMTPFrom: "hookd@example.test"}, http.DefaultClient, lookup, nil)
	if err != nil {
		t.Fatal(err)
	}
	n.Notify(context.Background(), []hookd.Notice{{Kind: hookd.NoticeWebhookRecovered, AppID: "app_1", At: time.Now()}})
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.rcpt) != 1 || srv.rcpt[0] != "ops@team.test" || !strings.Contains(srv.msgs[0], "To: ops@team.test\r\n") {
		t.Fatalf("recipients %v, messages %q; want one to ops@team.test", srv.rcpt, srv.msgs)
	}
}

// panickyApps panics when asked for one app, as a lookup with a bug would.
type panickyApps struct {
	apps
	bad string
}

func (a panickyApps) GetApp(ctx context.Context, ref string) (*hookd.App, error) {
	if ref == a.bad {
		panic("lookup of " + ref + " broke")
	}
	return a.apps.GetApp(ctx, ref)
}

// A notice whose sending panics is logged with its stack, and the
// notifier goes on to send the next.
func TestNotifierSurvivesASendThatPanics(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t)
	logs := &logtest.Buffer{}
	lookup := panickyApps{apps: apps{"app_1": {ID: "app_1", Name: "Acme", ContactEmail: "ops@acme.test"}}, bad: "app_bad"}
	n, err := New(Config{SMTPAddr: srv.ln.Addr().String(), SMTPFrom: "hookd@example.test"}, http.DefaultClient, lookup, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	n.Notify(context.Background(), []hookd.Notice{
		{Kind: hookd.NoticeWebhookDisabled, AppID: "app_bad", WebhookID: "wh_bad"},
		{Kind: hookd.NoticeWebhookDisabled, AppID: "app_1", WebhookID: "wh_1"},
	})
	n.Close(context.Background())
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.rcpt) != 1 || srv.rcpt[0] != "ops@acme.test" {
		t.Errorf("sent to %v, want the notice after the panic sent to ops@acme.test", srv.rcpt)
	}
	if out := logs.String(); !strings.Contains(out, "sending a notice panicked") || !strings.Contains(out, "goroutine") {
		t.Errorf("the panic is not logged with its stack:\n%s", out)
	}
}
