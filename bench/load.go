package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd/webhook"
)

// EventData returns an event's data of exactly size bytes (or the least
// above it that can carry the fields): {"seq":…,"sent_ns":…,"pad":"xx…"}.
// sentNs ≤ 0 leaves sent_ns out. The receiver finds seq and sent_ns
// without parsing, so they come first.
func EventData(dst []byte, seq, sentNs int64, size int) []byte {
	start := len(dst)
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendInt(dst, seq, 10)
	if sentNs > 0 {
		dst = append(dst, `,"sent_ns":`...)
		dst = strconv.AppendInt(dst, sentNs, 10)
	}
	dst = append(dst, `,"pad":"`...)
	for len(dst)-start < size-2 {
		dst = append(dst, 'x')
	}
	return append(dst, `"}`...)
}

// envelope returns a body shaped like a hookd delivery of the default
// profile: {"type":…,"timestamp":…,"data":…}.
func envelope(eventType string, at time.Time, data []byte) []byte {
	b := []byte(`{"type":"` + eventType + `","timestamp":"` + at.UTC().Format("2006-01-02T15:04:05.000Z") + `","data":`)
	b = append(b, data...)
	return append(b, '}')
}

// newTransport returns a keep-alive transport that holds as many idle
// connections per host as there are callers.
func newTransport(conns int) *http.Transport {
	return &http.Transport{
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// CeilingConfig configures Ceiling.
type CeilingConfig struct {
	// URL is where to POST, e.g. the receiver's /ceiling.
	URL string
	// Workers is how many requests are in flight; 0 means 64.
	Workers int
	// Duration is how long to send; 0 means 10s.
	Duration time.Duration
	// EventBytes is the size of each event's data; 0 means 1024.
	EventBytes int
}

// CeilingResult is what Ceiling measured.
type CeilingResult struct {
	Requests int64 // answered 2xx
	Errors   int64
	Elapsed  time.Duration
}

// PerSecond is the rate of 2xx answers.
func (r CeilingResult) PerSecond() float64 { return Rate(r.Requests, r.Elapsed) }

// Ceiling measures the loopback ceiling: Workers keep-alive connections
// POSTing the body of a 1 KiB event, each request freshly Standard
// Webhooks-signed as hookd signs a delivery, for Duration.
func Ceiling(ctx context.Context, cfg CeilingConfig) (CeilingResult, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 64
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 10 * time.Second
	}
	if cfg.EventBytes <= 0 {
		cfg.EventBytes = 1024
	}
	secret, err := webhook.NewSecret()
	if err != nil {
		return CeilingResult{}, err
	}
	tr := newTransport(cfg.Workers)
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	body := envelope("bench.event", time.Now(), EventData(nil, 1, 0, cfg.EventBytes))
	opts := webhook.Options{Scheme: webhook.Standard}

	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var ok, failed atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for w := range cfg.Workers {
		wg.Go(func() {
			prefix := "msg_ceiling_" + strconv.Itoa(w) + "_"
			for n := 0; ctx.Err() == nil; n++ {
				err := postSigned(ctx, hc, cfg.URL, opts, secret, prefix+strconv.Itoa(n), body)
				switch {
				case err == nil:
					ok.Add(1)
				case ctx.Err() != nil:
					// Cut short by the end of the run: not an error.
				default:
					failed.Add(1)
					once.Do(func() { firstErr = err })
				}
			}
		})
	}
	wg.Wait()
	res := CeilingResult{Requests: ok.Load(), Errors: failed.Load(), Elapsed: time.Since(start)}
	if res.Requests == 0 && firstErr != nil {
		return res, fmt.Errorf("ceiling: %w", firstErr)
	}
	return res, nil
}

func postSigned(ctx context.Context, hc *http.Client, url string, opts webhook.Options, secret, id string, body []byte) error {
	headers, err := webhook.Sign(opts, []string{secret}, id, time.Now(), body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for _, h := range headers {
		req.Header[h.Name] = []string{h.Value}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s", url, resp.Status)
	}
	return nil
}

// PaceConfig configures Pace.
type PaceConfig struct {
	// Rate is calls per second. Required.
	Rate int
	// Duration is how long to call; Rate × Duration calls are planned.
	Duration time.Duration
	// MaxInFlight bounds the calls running at once; 0 means 512. A call
	// that must wait for a slot starts late.
	MaxInFlight int
	// LateAfter is how far past its planned time a call may start and
	// still count as on time; 0 means 5ms.
	LateAfter time.Duration
}

// PaceResult is what Pace did.
type PaceResult struct {
	Planned int
	Started int
	Errors  int
	// Late counts calls started more than LateAfter after their plan.
	Late   int
	MaxLag time.Duration
	// Elapsed runs from the first planned start to the last call's end.
	Elapsed  time.Duration
	FirstErr error
}

// Pace is an open-loop load generator: it starts call(ctx, i) for
// i = 0, 1, … at the planned times start + i/Rate, each in a goroutine of
// its own, whatever the earlier calls are doing, so that a slow server
// does not slow the schedule down (coordinated omission). It returns when
// every call has returned.
func Pace(ctx context.Context, cfg PaceConfig, call func(ctx context.Context, i int) error) PaceResult {
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 512
	}
	if cfg.LateAfter <= 0 {
		cfg.LateAfter = 5 * time.Millisecond
	}
	res := PaceResult{Planned: int(float64(cfg.Rate) * cfg.Duration.Seconds())}
	if cfg.Rate <= 0 || res.Planned <= 0 {
		return res
	}
	interval := time.Second / time.Duration(cfg.Rate)
	slots := make(chan struct{}, cfg.MaxInFlight)
	var errs atomic.Int64
	var wg sync.WaitGroup
	timer := time.NewTimer(0)
	<-timer.C
	start := time.Now()
loop:
	for i := range res.Planned {
		planned := start.Add(time.Duration(i) * interval)
		if wait := time.Until(planned); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				break loop
			}
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		lag := time.Since(planned)
		if lag > cfg.LateAfter {
			res.Late++
		}
		res.MaxLag = max(res.MaxLag, lag)
		res.Started++
		wg.Go(func() {
			defer func() { <-slots }()
			if err := call(ctx, i); err != nil {
				if errs.Add(1) == 1 {
					res.FirstErr = err // read after wg.Wait
				}
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Errors = int(errs.Load())
	if res.FirstErr == nil && ctx.Err() != nil {
		res.FirstErr = ctx.Err()
	}
	return res
}

// errStalled is returned when receipts stop arriving.
var errStalled = errors.New("receipts stopped arriving")
