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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
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

// Notifier sends notices. Close waits for those queued.
type Notifier struct {
	cfg    Config
	client *http.Client
	apps   AppLookup
	log    *slog.Logger
	queue  chan hookd.Notice
	done   sync.WaitGroup
}

// New starts a notifier. client is the guarded egress client.
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
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{cfg: cfg, client: client, apps: apps, log: log, queue: make(chan hookd.Notice, 1024)}
	n.done.Add(1)
	go n.run()
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

// Close sends what is queued and stops.
func (n *Notifier) Close() {
	close(n.queue)
	n.done.Wait()
}

func (n *Notifier) run() {
	defer n.done.Done()
	for notice := range n.queue {
		if n.cfg.WebhookURL != "" {
			n.retry(notice, "operational webhook", func(ctx context.Context) error { return n.postWebhook(ctx, notice) })
		}
		if n.cfg.SMTPAddr != "" && n.apps != nil {
			n.retry(notice, "email", func(ctx context.Context) error { return n.email(ctx, notice) })
		}
	}
}

// sendTimeout bounds one try of sending a notice.
const sendTimeout = 30 * time.Second

// retry sends a notice on one channel, with a few tries. A send that
// panics is logged with its stack and not tried again; the notifier goes
// on with the next channel and notice.
func (n *Notifier) retry(notice hookd.Notice, channel string, send func(ctx context.Context) error) {
	defer func() {
		if v := recover(); v != nil {
			n.log.Error("sending a notice panicked", "channel", channel, "kind", notice.Kind, "panic", v, "stack", string(debug.Stack()))
		}
	}()
	wait := 200 * time.Millisecond
	for i := 1; ; i++ {
		err := n.try(send)
		if err == nil || errors.Is(err, errNoRecipient) {
			return
		}
		if i >= n.cfg.Attempts {
			n.log.Error("notice not sent", "channel", channel, "kind", notice.Kind, "err", err)
			return
		}
		time.Sleep(wait)
		wait *= 2
	}
}

// try makes one try of send, within sendTimeout.
func (n *Notifier) try(send func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
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
	var body strings.Builder
	fmt.Fprintf(&body, "From: %s\r\nTo: %s\r\nSubject: [hookd] %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
		n.cfg.SMTPFrom, app.ContactEmail, subjects[notice.Kind])
	fmt.Fprintf(&body, "App: %s (%s)\r\nNotice: %s\r\n", app.Name, app.ID, notice.Kind)
	for _, kv := range [][2]string{{"Webhook", notice.WebhookID}, {"Delivery", notice.DeliveryID}, {"Event", notice.EventID}, {"Reason", notice.Reason}} {
		if kv[1] != "" {
			fmt.Fprintf(&body, "%s: %s\r\n", kv[0], kv[1])
		}
	}
	fmt.Fprintf(&body, "At: %s\r\n", notice.At.UTC().Format(time.RFC3339))
	var auth smtp.Auth
	if n.cfg.SMTPUsername != "" {
		host, _, _ := strings.Cut(n.cfg.SMTPAddr, ":")
		auth = smtp.PlainAuth("", n.cfg.SMTPUsername, n.cfg.SMTPPassword, host)
	}
	return smtp.SendMail(n.cfg.SMTPAddr, auth, n.cfg.SMTPFrom, []string{app.ContactEmail}, []byte(body.String()))
}
