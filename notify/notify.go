// Package notify tells the operator about webhooks that were disabled,
// deliveries that ran out of attempts and webhooks that recovered: as
// operational webhooks signed like any delivery (Standard Webhooks), and
// by email to the app's contact address when SMTP is configured.
//
// Notices are sent in the background with a few retries and are not stored:
// they are a courtesy about state that the API and the delivery log keep
// durably, so losing one in a crash loses no information.
package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"net/smtp"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/webhook"
)

// AppLookup finds an app's contact address.
type AppLookup interface {
	GetApp(ctx context.Context, ref string) (*hookd.App, error)
}

// Config says where notices go. With neither a URL nor an SMTP address the
// notifier drops them.
type Config struct {
	// WebhookURL and WebhookSecret (whsec_...) receive operational webhooks.
	WebhookURL    string
	WebhookSecret string
	// SMTPAddr (host:port), SMTPFrom and optional credentials send email.
	SMTPAddr     string
	SMTPFrom     string
	SMTPUsername string
	SMTPPassword string
	// SMTPTimeout bounds one email's whole SMTP exchange, the dial and
	// every read and write after it, so that a server that accepts and
	// never speaks costs one timeout; 0 means DefaultSMTPTimeout.
	SMTPTimeout time.Duration
	// Attempts per notice and channel; 0 means 5.
	Attempts int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NewID makes the operational webhooks' message ids. Required when
	// WebhookURL is set.
	NewID func(prefix string) string
	// UserAgent is sent with operational webhooks.
	UserAgent string
}

// DefaultSMTPTimeout is Config.SMTPTimeout's default.
const DefaultSMTPTimeout = 30 * time.Second

// Notifier sends notices. Close waits for those queued, up to a deadline.
type Notifier struct {
	cfg    Config
	client *http.Client
	apps   AppLookup
	log    *slog.Logger
	queue  chan hookd.Notice
	done   sync.WaitGroup
	// abandon cancels the sending under way, and what is still queued,
	// when Close's deadline passes.
	abandon context.CancelFunc
}

// New starts a notifier. client sends the operational webhooks to
// cfg.WebhookURL: that is the operator's own service, which may well be on
// a private network, so it needs no private-network guard (hookd's server
// gives it a client without one).
func New(cfg Config, client *http.Client, apps AppLookup, log *slog.Logger) (*Notifier, error) {
	if cfg.WebhookURL != "" {
		if cfg.WebhookSecret == "" || cfg.NewID == nil {
			return nil, errors.New("notify: an operational webhook needs a secret")
		}
		if _, err := webhook.Sign(webhook.Options{Scheme: webhook.Standard}, []string{cfg.WebhookSecret}, "x", time.Now(), nil); err != nil {
			return nil, fmt.Errorf("notify: operational webhook secret: %w", err)
		}
	}
	if cfg.SMTPAddr != "" && cfg.SMTPFrom == "" {
		return nil, errors.New("notify: SMTP needs a From address")
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 5
	}
	if cfg.SMTPTimeout < 0 {
		return nil, fmt.Errorf("notify: negative SMTP timeout %v", cfg.SMTPTimeout)
	}
	if cfg.SMTPTimeout == 0 {
		cfg.SMTPTimeout = DefaultSMTPTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, abandon := context.WithCancel(context.Background())
	n := &Notifier{cfg: cfg, client: client, apps: apps, log: log, queue: make(chan hookd.Notice, 1024), abandon: abandon}
	n.done.Add(1)
	go n.run(ctx)
	return n, nil
}

// Notify queues notices; when the queue is full they are logged and dropped.
func (n *Notifier) Notify(_ context.Context, notices []hookd.Notice) {
	for _, notice := range notices {
		n.log.Info("notice", "kind", notice.Kind, "app_id", notice.AppID, "webhook_id", notice.WebhookID,
			"delivery_id", notice.DeliveryID, "reason", notice.Reason)
		if n.cfg.WebhookURL == "" && n.cfg.SMTPAddr == "" {
			continue
		}
		select {
		case n.queue <- notice:
		default:
			n.log.Warn("notice queue full, dropping notice", "kind", notice.Kind)
		}
	}
}

// Close sends what is queued and stops, or, when ctx ends first, gives up
// on the notices not yet sent (the sending under way is cut short) and
// returns an error saying so. Notify must not be called after Close.
func (n *Notifier) Close(ctx context.Context) error {
	close(n.queue)
	finished := make(chan struct{})
	go func() { n.done.Wait(); close(finished) }()
	defer n.abandon()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
	}
	n.abandon()
	<-finished // every send is bound to the cancelled context: quick
	return fmt.Errorf("notify: closed before every notice was sent: %w", ctx.Err())
}

// run sends the queued notices until the queue is closed; once ctx is
// cancelled it drops what is left.
func (n *Notifier) run(ctx context.Context) {
	defer n.done.Done()
	for notice := range n.queue {
		if ctx.Err() != nil {
			continue
		}
		if n.cfg.WebhookURL != "" {
			n.retry(ctx, notice, "operational webhook", func(ctx context.Context) error { return n.postWebhook(ctx, notice) })
		}
		if n.cfg.SMTPAddr != "" && n.apps != nil {
			n.retry(ctx, notice, "email", func(ctx context.Context) error { return n.email(ctx, notice) })
		}
	}
}

// sendTimeout bounds one try of sending a notice.
const sendTimeout = 30 * time.Second

// retry sends a notice on one channel, with a few tries, until ctx ends.
// A send that panics is logged with its stack and not tried again; the
// notifier goes on with the next channel and notice.
func (n *Notifier) retry(ctx context.Context, notice hookd.Notice, channel string, send func(ctx context.Context) error) {
	defer func() {
		if v := recover(); v != nil {
			n.log.Error("sending a notice panicked", "channel", channel, "kind", notice.Kind, "panic", v, "stack", string(debug.Stack()))
		}
	}()
	wait := 200 * time.Millisecond
	for i := 1; ; i++ {
		err := n.try(ctx, send)
		if err == nil || errors.Is(err, errNoRecipient) {
			return
		}
		if i >= n.cfg.Attempts || ctx.Err() != nil {
			n.log.Error("notice not sent", "channel", channel, "kind", notice.Kind, "err", err)
			return
		}
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
		}
		wait *= 2
	}
}

// try makes one try of send, within sendTimeout.
func (n *Notifier) try(ctx context.Context, send func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	return send(ctx)
}

// payload is the operational webhook body.
type payload struct {
	Type      string      `json:"type"`
	Timestamp string      `json:"timestamp"`
	Data      payloadData `json:"data"`
}

type payloadData struct {
	AppID      string  `json:"app_id"`
	WebhookID  *string `json:"webhook_id"`
	DeliveryID *string `json:"delivery_id"`
	EventID    *string `json:"event_id"`
	Reason     *string `json:"reason"`
}

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Body renders a notice as the operational webhook's JSON body.
func Body(notice hookd.Notice) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(payload{
		Type:      notice.Kind,
		Timestamp: notice.At.UTC().Format("2006-01-02T15:04:05.000Z"),
		Data: payloadData{AppID: notice.AppID, WebhookID: opt(notice.WebhookID), DeliveryID: opt(notice.DeliveryID),
			EventID: opt(notice.EventID), Reason: opt(notice.Reason)},
	})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

func (n *Notifier) postWebhook(ctx context.Context, notice hookd.Notice) error {
	body, err := Body(notice)
	if err != nil {
		return err
	}
	headers, err := webhook.Sign(webhook.Options{Scheme: webhook.Standard}, []string{n.cfg.WebhookSecret}, n.cfg.NewID("ntc"), n.cfg.Now(), body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header["Content-Type"] = []string{"application/json"}
	req.Header["User-Agent"] = []string{n.cfg.UserAgent}
	for _, h := range headers {
		req.Header[h.Name] = []string{h.Value}
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("operational webhook answered %d", resp.StatusCode)
	}
	return nil
}

var errNoRecipient = errors.New("the app has no contact email")

var subjects = map[string]string{
	hookd.NoticeWebhookDisabled:   "A webhook endpoint was disabled",
	hookd.NoticeDeliveryExhausted: "A webhook delivery failed for good",
	hookd.NoticeWebhookRecovered:  "A webhook endpoint recovered",
}

func (n *Notifier) email(ctx context.Context, notice hookd.Notice) error {
	app, err := n.apps.GetApp(ctx, notice.AppID)
	if err != nil {
		return err
	}
	if app.ContactEmail == "" {
		return errNoRecipient
	}
	// Addresses are stored bare; one stored before that was so may still
	// carry a display name, which RCPT TO does not take.
	to, err := mail.ParseAddress(app.ContactEmail)
	if err != nil {
		return fmt.Errorf("%w: %q is not an address", errNoRecipient, app.ContactEmail)
	}
	var body strings.Builder
	fmt.Fprintf(&body, "From: %s\r\nTo: %s\r\nSubject: [hookd] %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
		n.cfg.SMTPFrom, to.Address, subjects[notice.Kind])
	fmt.Fprintf(&body, "App: %s (%s)\r\nNotice: %s\r\n", app.Name, app.ID, notice.Kind)
	for _, kv := range [][2]string{{"Webhook", notice.WebhookID}, {"Delivery", notice.DeliveryID}, {"Event", notice.EventID}, {"Reason", notice.Reason}} {
		if kv[1] != "" {
			fmt.Fprintf(&body, "%s: %s\r\n", kv[0], kv[1])
		}
	}
	fmt.Fprintf(&body, "At: %s\r\n", notice.At.UTC().Format(time.RFC3339))
	return n.sendMail(ctx, to.Address, []byte(body.String()))
}

// sendMail sends msg to one recipient as smtp.SendMail does (STARTTLS when
// offered, PLAIN auth with credentials), but with the dial and every read
// and write bounded by SMTPTimeout and by ctx: smtp.SendMail has no
// timeout at all, so a server that accepts and never speaks would hold
// the notifier for good.
func (n *Notifier) sendMail(ctx context.Context, to string, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.SMTPTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", n.cfg.SMTPAddr)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	// A cancelled ctx (Close's deadline) ends a read or write under way.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	host := n.cfg.SMTPAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp %s: %w", n.cfg.SMTPAddr, err)
	}
	defer c.Close()
	if err := n.converse(c, host, to, msg); err != nil {
		return fmt.Errorf("smtp %s: %w", n.cfg.SMTPAddr, err)
	}
	return nil
}

// converse is smtp.SendMail's conversation on an open client.
func (n *Notifier) converse(c *smtp.Client, host, to string, msg []byte) error {
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return err
		}
	}
	if n.cfg.SMTPUsername != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("the server does not support AUTH")
		}
		if err := c.Auth(smtp.PlainAuth("", n.cfg.SMTPUsername, n.cfg.SMTPPassword, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(n.cfg.SMTPFrom); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
