package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The receiver's path prefixes. Every receipt is counted under the first
// prefix its path starts with, or under "/" if none.
const (
	PathCeiling = "/ceiling"
	PathFast    = "/fast"
	PathFan     = "/fan/"
	PathSlow    = "/slow"
	// PathHang never answers: a request waits until its sender gives up.
	PathHang  = "/hang"
	PathOther = "/"
)

var prefixes = [...]string{PathCeiling, PathFast, PathFan, PathSlow, PathHang, PathOther}

// Markers the receiver looks for in a body, with bytes.Index rather than a
// JSON parse, which could not keep up on two cores. An event's data carries
// them first, before its padding.
var (
	seqMarker  = []byte(`"seq":`)
	sentMarker = []byte(`"sent_ns":`)
)

// ReceiverConfig tunes a Receiver. Zero fields take the defaults noted.
type ReceiverConfig struct {
	// SlowDelay is how long /slow waits before answering; 0 means 2s.
	SlowDelay time.Duration
	// MaxSamples is how many latency samples each prefix keeps, allocated
	// up front; later samples are counted as dropped. 0 means 1<<20.
	MaxSamples int
	// MaxKeys bounds the event numbers (the body's "seq", or the index of
	// /fan/<i>) whose repeats are told apart, rounded up to a multiple of
	// 64; 0 means 1<<21.
	MaxKeys int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Receiver is the endpoint every benchmark delivery goes to. It answers
// 200 at once (after SlowDelay on /slow; never on /hang) and keeps, per path prefix, the
// receipt count, the count of distinct events, the first and last receipt
// times and the publish→receipt latencies. GET /stats?path=<prefix>
// returns them as [PathStats] (with latency=0, without the latency
// summary); POST /reset clears them.
//
// Receipts cost no allocation beyond net/http's own: counters are atomic,
// bodies are read into pooled buffers and the latency slices are
// allocated once.
type Receiver struct {
	cfg     ReceiverConfig
	buckets [len(prefixes)]*bucket
	bufs    sync.Pool
}

type bucket struct {
	receipts atomic.Int64
	unique   atomic.Int64
	first    atomic.Int64 // Unix ns
	last     atomic.Int64 // Unix ns
	seen     []atomic.Uint64
	// inFlight and maxInFlight count the requests being answered, kept
	// for PathHang only: what hookd sends to an endpoint that never
	// answers shows its concurrency caps.
	inFlight    atomic.Int64
	maxInFlight atomic.Int64

	mu      sync.Mutex
	lat     []int64
	dropped int64
}

// NewReceiver returns a Receiver.
func NewReceiver(cfg ReceiverConfig) *Receiver {
	if cfg.SlowDelay <= 0 {
		cfg.SlowDelay = 2 * time.Second
	}
	if cfg.MaxSamples <= 0 {
		cfg.MaxSamples = 1 << 20
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 1 << 21
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Receiver{cfg: cfg}
	for i := range r.buckets {
		r.buckets[i] = &bucket{
			seen: make([]atomic.Uint64, (cfg.MaxKeys+63)/64),
			lat:  make([]int64, 0, cfg.MaxSamples),
		}
	}
	r.bufs.New = func() any { b := make([]byte, 16<<10); return &b }
	return r
}

// ServeHTTP implements http.Handler.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	path := req.URL.Path
	switch {
	case path == "/stats" && req.Method == http.MethodGet:
		r.serveStats(w, req)
		return
	case path == "/reset" && req.Method == http.MethodPost:
		r.Reset()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	now := r.cfg.Now().UnixNano()
	i := bucketOf(path)
	b := r.buckets[i]

	bp := r.bufs.Get().(*[]byte)
	body := readBody(req.Body, *bp)
	key := int64(-1)
	if prefixes[i] == PathFan {
		key = parseInt(path[len(PathFan):])
	} else if j := bytes.Index(body, seqMarker); j >= 0 {
		key = parseInt(body[j+len(seqMarker):])
	}
	sent := int64(-1)
	if j := bytes.Index(body, sentMarker); j >= 0 {
		sent = parseInt(body[j+len(sentMarker):])
	}
	r.bufs.Put(bp)

	b.record(now, key, sent)
	if prefixes[i] == PathHang {
		b.hang(req.Context())
		return
	}
	if prefixes[i] == PathSlow {
		t := time.NewTimer(r.cfg.SlowDelay)
		select {
		case <-t.C:
		case <-req.Context().Done():
			t.Stop()
		}
	}
	w.WriteHeader(http.StatusOK)
}

func bucketOf(path string) int {
	for i, p := range prefixes {
		if strings.HasPrefix(path, p) {
			return i
		}
	}
	return len(prefixes) - 1
}

// readBody reads as much of body as fits in buf and discards the rest.
func readBody(body io.Reader, buf []byte) []byte {
	n := 0
	for n < len(buf) {
		m, err := body.Read(buf[n:])
		n += m
		if err != nil {
			return buf[:n]
		}
	}
	io.Copy(io.Discard, body)
	return buf[:n]
}

// parseInt reads the non-negative decimal number at the start of b
// (a string or bytes), or returns -1 if there is none.
func parseInt[T string | []byte](b T) int64 {
	var n int64
	i := 0
	for ; i < len(b) && i < 19 && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int64(b[i]-'0')
	}
	if i == 0 {
		return -1
	}
	return n
}

func (b *bucket) record(now, key, sent int64) {
	b.receipts.Add(1)
	b.first.CompareAndSwap(0, now)
	for {
		last := b.last.Load()
		if now <= last || b.last.CompareAndSwap(last, now) {
			break
		}
	}
	if key >= 0 && key < int64(len(b.seen))*64 {
		bit := uint64(1) << (key % 64)
		if b.seen[key/64].Or(bit)&bit == 0 {
			b.unique.Add(1)
		}
	}
	if sent > 0 {
		b.mu.Lock()
		if len(b.lat) < cap(b.lat) {
			b.lat = append(b.lat, now-sent)
		} else {
			b.dropped++
		}
		b.mu.Unlock()
	}
}

// hang holds a request until its sender gives up, counting it in flight.
func (b *bucket) hang(ctx context.Context) {
	n := b.inFlight.Add(1)
	for {
		most := b.maxInFlight.Load()
		if n <= most || b.maxInFlight.CompareAndSwap(most, n) {
			break
		}
	}
	<-ctx.Done()
	b.inFlight.Add(-1)
}

func (b *bucket) reset() {
	b.receipts.Store(0)
	b.unique.Store(0)
	b.first.Store(0)
	b.last.Store(0)
	b.maxInFlight.Store(b.inFlight.Load())
	for i := range b.seen {
		b.seen[i].Store(0)
	}
	b.mu.Lock()
	b.lat = b.lat[:0]
	b.dropped = 0
	b.mu.Unlock()
}

// PathStats is what the receiver saw under one path prefix.
type PathStats struct {
	Path string `json:"path"`
	// Receipts counts requests, repeats included.
	Receipts int64 `json:"receipts"`
	// Unique counts distinct events: by the body's "seq", or, under
	// /fan/, by the index in the path. Requests with neither are not
	// counted here.
	Unique int64 `json:"unique"`
	// FirstNs and LastNs are the first and last receipt times, Unix ns;
	// 0 before any receipt.
	FirstNs int64 `json:"first_ns"`
	LastNs  int64 `json:"last_ns"`
	// Latency is publish→receipt, from the body's "sent_ns".
	Latency Latency `json:"latency"`
	// SamplesDropped counts latencies not kept for lack of room.
	SamplesDropped int64 `json:"samples_dropped"`
	// MaxInFlight is the most requests held at once under PathHang since
	// the last reset (at least those held then); 0 elsewhere.
	MaxInFlight int64 `json:"max_in_flight"`
}

// Span is the time from the first receipt to the last.
func (s *PathStats) Span() time.Duration { return time.Duration(s.LastNs - s.FirstNs) }

// Stats returns the figures of one prefix (one of the Path constants);
// false if it is not one.
func (r *Receiver) Stats(prefix string) (PathStats, bool) { return r.stats(prefix, true) }

// stats is Stats, leaving the latency summary out unless asked: sorting
// a million samples is work the receiver should not do while it is being
// measured.
func (r *Receiver) stats(prefix string, latency bool) (PathStats, bool) {
	for i, p := range prefixes {
		if p != prefix {
			continue
		}
		b := r.buckets[i]
		st := PathStats{
			Path:     p,
			Receipts: b.receipts.Load(),
			Unique:   b.unique.Load(),
			FirstNs:  b.first.Load(),
			LastNs:   b.last.Load(),

			MaxInFlight: b.maxInFlight.Load(),
		}
		b.mu.Lock()
		var samples []int64
		if latency {
			samples = slices.Clone(b.lat)
		}
		st.SamplesDropped = b.dropped
		b.mu.Unlock()
		if latency {
			st.Latency = Summarize(samples)
		}
		return st, true
	}
	return PathStats{}, false
}

// Reset clears every counter.
func (r *Receiver) Reset() {
	for _, b := range r.buckets {
		b.reset()
	}
}

func (r *Receiver) serveStats(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	st, ok := r.stats(q.Get("path"), q.Get("latency") != "0")
	if !ok {
		http.Error(w, "path must be one of "+strings.Join(prefixes[:], " "), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(st)
}

// ServeReceiver listens on addr, calls ready with the address it got, and
// serves a Receiver until ctx ends. It is `hookd bench-receiver`.
func ServeReceiver(ctx context.Context, addr string, cfg ReceiverConfig, ready func(addr string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: NewReceiver(cfg), ReadHeaderTimeout: 10 * time.Second}
	ready(ln.Addr().String())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return nil
	}
}
