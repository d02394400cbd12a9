package cli

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hookd/hookd/client"
)

// ListenUsage is `hookd listen -h`.
const ListenUsage = `Usage: hookd listen --forward-to URL [flags]

Receives an app's deliveries on this machine with no public URL: hookd
registers a temporary webhook in the app, streams its deliveries over a
connection this command opens (server-sent events; ordinary HTTP proxies
pass them), and this command sends each one to --forward-to with exactly
the headers and body a real webhook gets, signed with the secret it prints.
The local answer is recorded as the delivery's attempt; a non-2xx answer
is retried on the app's schedule while this command runs. hookd never
dials the local URL. Ctrl-C deletes the temporary webhook; if this command
is killed, hookd deletes it after its --listen-timeout (default 5m), and
running the same command again before then resumes it, secret and all.

Flags:
  --forward-to URL  where to send the deliveries, e.g. localhost:3000/hooks (required)
  --events TYPES    comma-separated event types, wildcards allowed (job.*); default all
  --server URL      hookd's address (env HOOKD_URL; default http://127.0.0.1:8080)
  --token TOKEN     an app key, or the admin token with --app (env HOOKD_TOKEN)
  --app APP         the app's id or uid; optional with an app key (env HOOKD_APP)

Example:
  HOOKD_TOKEN=hk_... hookd listen --forward-to localhost:3000/hooks --events 'invoice.*'
  Ready! Signing secret whsec_... (webhook wh_...; Ctrl-C to stop)
  2026-12-07 14:03:11  --> invoice.paid [evt_...]
  2026-12-07 14:03:11  <-- [200] POST http://localhost:3000/hooks (12 ms)
`

// listenFlags is what `hookd listen` was told.
type listenFlags struct {
	server, token, app, forwardTo string
	events                        []string
}

// Listen runs `hookd listen`; args follow the command's name. It returns
// when ctx ends (Ctrl-C), having deleted its temporary webhook.
func Listen(ctx context.Context, env Env, args []string) error {
	f, err := parseListen(env, args)
	if errors.Is(err, errHelp) {
		fmt.Fprint(env.Stdout, ListenUsage)
		return nil
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "hookd listen: %v\n\n%s", err, ListenUsage)
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	l := newListener(env, f)
	if err := l.run(ctx); err != nil {
		fmt.Fprintf(env.Stderr, "hookd listen: %v\n", err)
		return fmt.Errorf("%w: %v", ErrFailed, err)
	}
	return nil
}

func parseListen(env Env, args []string) (*listenFlags, error) {
	getenv := env.Getenv
	f := &listenFlags{}
	flags := flag.NewFlagSet("hookd listen", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	flags.StringVar(&f.server, "server", or(getenv("HOOKD_URL"), "http://127.0.0.1:8080"), "")
	flags.StringVar(&f.token, "token", getenv("HOOKD_TOKEN"), "")
	flags.StringVar(&f.app, "app", getenv("HOOKD_APP"), "")
	flags.StringVar(&f.forwardTo, "forward-to", "", "")
	events := flags.String("events", "", "")
	if err := flags.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil, errHelp
	} else if err != nil {
		return nil, err
	}
	if flags.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", flags.Arg(0))
	}
	if f.forwardTo == "" {
		return nil, errors.New("--forward-to is required")
	}
	if !strings.Contains(f.forwardTo, "://") {
		f.forwardTo = "http://" + f.forwardTo
	}
	if f.token == "" {
		return nil, errors.New("--token is required (or HOOKD_TOKEN): an app key, or the admin token with --app")
	}
	for _, e := range strings.Split(*events, ",") {
		if e = strings.TrimSpace(e); e != "" {
			f.events = append(f.events, e)
		}
	}
	return f, nil
}

// listener is one running `hookd listen`.
type listener struct {
	env   Env
	f     *listenFlags
	api   *client.Client
	local *http.Client
	now   func() time.Time

	out sync.Mutex // one line at a time on Stdout
}

func newListener(env Env, f *listenFlags) *listener {
	// The local URL is on this machine: no proxy, no redirects followed,
	// as hookd itself would not follow them.
	local := &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{Proxy: nil, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &listener{env: env, f: f, api: client.New(f.server, f.token, env.HTTPClient), local: local, now: time.Now}
}

// run registers the webhook, holds its stream open until ctx ends,
// reconnecting when it drops, and deletes the webhook at the end.
func (l *listener) run(ctx context.Context) error {
	app, err := l.appRef(ctx)
	if err != nil {
		return err
	}
	hook, err := l.register(ctx, app)
	if err != nil {
		return apiProblem(err)
	}
	l.printf("Ready! Signing secret %s (webhook %s, forwarding to %s; Ctrl-C to stop)\n", hook.Secret, hook.ID, l.f.forwardTo)
	defer func() { l.cleanUp(ctx, app, hook.ID) }()
	backoff := 250 * time.Millisecond
	for {
		opened, err := l.stream(ctx, app, hook.ID)
		if ctx.Err() != nil {
			return nil
		}
		if opened {
			backoff = 250 * time.Millisecond
		}
		fmt.Fprintf(l.env.Stderr, "hookd listen: %v; reconnecting in %s\n", err, backoff)
		if !sleepCtx(ctx, backoff) {
			return nil
		}
		backoff = min(2*backoff, 5*time.Second)
		again, err := l.register(ctx, app)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if refused(err) {
				return apiProblem(err) // retrying cannot help
			}
			fmt.Fprintf(l.env.Stderr, "hookd listen: %v\n", apiProblem(err))
			continue
		}
		if again.ID != hook.ID || again.Secret != hook.Secret {
			l.printf("Ready! Signing secret %s (webhook %s, forwarding to %s; Ctrl-C to stop)\n", again.Secret, again.ID, l.f.forwardTo)
		}
		hook = again
	}
}

// appRef is --app, or the app of an app key.
func (l *listener) appRef(ctx context.Context) (string, error) {
	if l.f.app != "" {
		return l.f.app, nil
	}
	var page struct {
		Apps []struct {
			ID string `json:"id"`
		} `json:"apps"`
		Next *string `json:"next"`
	}
	if _, err := l.api.Do(ctx, http.MethodGet, "/v1/apps?limit=2", nil, &page); err != nil {
		return "", apiProblem(err)
	}
	if len(page.Apps) != 1 || page.Next != nil {
		return "", errors.New("--app is required with the admin token")
	}
	return page.Apps[0].ID, nil
}

// register creates or resumes the webhook. Its key is the same for this
// server, app, local URL and machine, so a restarted command finds it.
func (l *listener) register(ctx context.Context, app string) (*client.ListenWebhook, error) {
	host, _ := os.Hostname()
	sum := sha256.Sum256([]byte(strings.Join([]string{l.f.server, app, l.f.forwardTo, host}, "\n")))
	hook, _, err := l.api.Listen(ctx, app, hex.EncodeToString(sum[:16]), l.f.events)
	if err != nil {
		return nil, err
	}
	return hook, nil
}

// refused reports whether hookd refused a registration for a reason that
// stays: a bad token, an app that is gone, a request it finds wrong.
func refused(err error) bool {
	var apiErr *client.Error
	return errors.As(err, &apiErr) && apiErr.Status >= 400 && apiErr.Status < 500 && apiErr.Status != http.StatusTooManyRequests
}

// cleanUp deletes the temporary webhook, even after Ctrl-C.
func (l *listener) cleanUp(ctx context.Context, app, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := l.api.DeleteWebhook(ctx, app, id); err != nil {
		fmt.Fprintf(l.env.Stderr, "hookd listen: deleting webhook %s: %v\n", id, apiProblem(err))
		return
	}
	fmt.Fprintf(l.env.Stderr, "hookd listen: deleted webhook %s\n", id)
}

// errGone is a stream that the server ended because its webhook is gone.
var errGone = errors.New("the webhook was deleted")

// stream reads the webhook's stream until it ends, forwarding each
// request as it comes. opened reports whether the stream was opened.
func (l *listener) stream(ctx context.Context, app, id string) (opened bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	body, err := l.api.ListenStream(ctx, app, id)
	if err != nil {
		return false, apiProblem(err)
	}
	defer body.Close()
	// A stream silent for longer than the server's keep-alives is dead
	// (a proxy or a network that dropped it without a word).
	silence := time.AfterFunc(client.ListenSilence, cancel)
	defer silence.Stop()
	var inFlight sync.WaitGroup
	defer inFlight.Wait()
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var event, data string
	for sc.Scan() {
		silence.Reset(client.ListenSilence)
		line := sc.Text()
		switch {
		case line == "":
			if event == "gone" {
				return true, errGone
			}
			if event == "request" {
				var req client.ListenRequest
				if err := json.Unmarshal([]byte(data), &req); err != nil {
					fmt.Fprintf(l.env.Stderr, "hookd listen: a request hookd sent is not JSON: %v\n", err)
				} else {
					inFlight.Go(func() { l.forward(ctx, app, id, &req) })
				}
			}
			event, data = "", ""
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			data += strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")
		}
	}
	if err := sc.Err(); err != nil {
		return true, fmt.Errorf("the stream broke: %w", err)
	}
	return true, errors.New("hookd closed the stream")
}

// forward replays one request against the local URL, prints its two
// lines, and reports the answer back as the attempt.
func (l *listener) forward(ctx context.Context, app, id string, req *client.ListenRequest) {
	l.printf("%s  --> %s [%s]\n", l.stamp(), req.EventType, req.EventID)
	res := l.replay(ctx, req)
	if res.Error != "" {
		l.printf("%s  <-- [ERR] POST %s (%d ms): %s\n", l.stamp(), l.f.forwardTo, res.DurationMs, res.Error)
	} else {
		l.printf("%s  <-- [%d] POST %s (%d ms)\n", l.stamp(), res.StatusCode, l.f.forwardTo, res.DurationMs)
	}
	if err := l.api.ListenResult(ctx, app, id, res); err != nil && ctx.Err() == nil {
		fmt.Fprintf(l.env.Stderr, "hookd listen: reporting the answer to %s: %v\n", req.EventID, apiProblem(err))
	}
}

// replay sends the request to the local URL exactly as hookd built it.
func (l *listener) replay(ctx context.Context, req *client.ListenRequest) *client.ListenResult {
	res := &client.ListenResult{ID: req.ID}
	start := l.now()
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, l.f.forwardTo, strings.NewReader(req.Body))
	if err != nil {
		res.Error = err.Error()
		return res
	}
	for k, v := range req.Headers {
		r.Header[k] = []string{v} // as spelled, like hookd's own requests
	}
	resp, err := l.local.Do(r)
	res.DurationMs = l.now().Sub(start).Milliseconds()
	if err != nil {
		res.Error = localError(err)
		return res
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	res.StatusCode, res.Body = resp.StatusCode, strings.ToValidUTF8(string(body), "\uFFFD")
	res.Headers = make(map[string]string, len(resp.Header))
	for k, v := range resp.Header {
		res.Headers[k] = strings.ToValidUTF8(strings.Join(v, ", "), "\uFFFD")
	}
	return res
}

// localError is a failed local request without the method and URL the
// line already shows.
func localError(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "\": "); i >= 0 && strings.HasPrefix(msg, "Post \"") {
		msg = msg[i+3:]
	}
	return msg
}

func (l *listener) stamp() string { return l.now().Format("2006-01-02 15:04:05") }

func (l *listener) printf(format string, args ...any) {
	l.out.Lock()
	defer l.out.Unlock()
	fmt.Fprintf(l.env.Stdout, format, args...)
}

// apiProblem says an API error as its code and message.
func apiProblem(err error) error {
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		return fmt.Errorf("%s: %s", apiErr.Code, apiErr.Message)
	}
	return err
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
