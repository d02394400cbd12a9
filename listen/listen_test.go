package listen

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/deliver"
)

func relayed(tb testing.TB, webhookID, body string) *deliver.Relayed {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, "listen:key", strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header["webhook-id"] = []string{"evt_1"}
	return &deliver.Relayed{WebhookID: webhookID, DeliveryID: "dlv_1", EventID: "evt_1", EventType: "invoice.paid", Attempt: 2, Request: req}
}

// answer takes the next request of s and completes it with res. It runs
// on a goroutine of its own, so it reports with Errorf.
func answer(tb testing.TB, h *Hub, s *Session, res Result) *Request {
	select {
	case req := <-s.Requests():
		res.ID = req.ID
		if err := h.Complete(s.webhookID, res); err != nil {
			tb.Errorf("complete: %v", err)
		}
		return req
	case <-time.After(5 * time.Second):
		tb.Error("no request arrived")
		return nil
	}
}

func TestExchangeCarriesTheRequestAndItsAnswer(t *testing.T) {
	t.Parallel()
	var h Hub
	s, err := h.Attach("wh_1")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *Request, 1)
	go func() { got <- answer(t, &h, s, Result{StatusCode: 503, Body: "busy"}) }()
	resp, err := h.Exchange(t.Context(), relayed(t, "wh_1", `{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || string(body) != "busy" {
		t.Errorf("answer %d %q, want 503 busy", resp.StatusCode, body)
	}
	req := <-got
	if req == nil {
		return
	}
	if req.Body != `{"a":1}` || req.Headers["webhook-id"] != "evt_1" || req.EventType != "invoice.paid" || req.Attempt != 2 || req.DeliveryID != "dlv_1" {
		t.Errorf("request %+v does not carry the attempt", req)
	}
}

func TestExchangeReportsTheCLIsError(t *testing.T) {
	t.Parallel()
	var h Hub
	s, _ := h.Attach("wh_1")
	go answer(t, &h, s, Result{Error: "connect: connection refused"})
	_, err := h.Exchange(t.Context(), relayed(t, "wh_1", "{}"))
	if err == nil || err.Error() != "connect: connection refused" {
		t.Errorf("exchange: %v, want the CLI's error", err)
	}
}

func TestExchangeWithoutAnAnswerEndsWithItsContext(t *testing.T) {
	t.Parallel()
	var h Hub
	s, _ := h.Attach("wh_1")
	go func() { <-s.Requests() }() // taken, never answered
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := h.Exchange(ctx, relayed(t, "wh_1", "{}"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("exchange: %v, want the deadline", err)
	}
	if _, err := h.Exchange(t.Context(), relayed(t, "wh_2", "{}")); err == nil {
		t.Error("an exchange with a webhook nobody holds succeeded")
	}
}

func TestANewConnectionReplacesTheOld(t *testing.T) {
	t.Parallel()
	var h Hub
	old, _ := h.Attach("wh_1")
	cur, _ := h.Attach("wh_1")
	select {
	case <-old.Done():
	default:
		t.Error("the replaced session is not done")
	}
	h.Detach(old) // the old stream's handler returning
	if !h.Holds("wh_1") {
		t.Error("detaching the replaced session dropped the new one")
	}
	h.Detach(cur)
	if h.Holds("wh_1") {
		t.Error("the hub still holds a detached session")
	}
	if err := h.Complete("wh_1", Result{ID: "lreq_x"}); hookd.ErrorCode(err) != hookd.ENOTFOUND {
		t.Errorf("complete without a session: %v, want NOT_FOUND", err)
	}
}

func TestCloseEndsEverySession(t *testing.T) {
	t.Parallel()
	var h Hub
	s, _ := h.Attach("wh_1")
	h.Close()
	select {
	case <-s.Done():
	default:
		t.Error("Close left a session open")
	}
	if _, err := h.Attach("wh_2"); err == nil {
		t.Error("a closed hub attached a session")
	}
}

func TestTheCLIsErrorIsMadeStorable(t *testing.T) {
	t.Parallel()
	var h Hub
	s, _ := h.Attach("wh_1")
	go answer(t, &h, s, Result{Error: "bad\x00 \xff" + strings.Repeat("x", 5000)})
	_, err := h.Exchange(t.Context(), relayed(t, "wh_1", "{}"))
	if err == nil {
		t.Fatal("exchange succeeded, want the CLI's error")
	}
	if msg := err.Error(); strings.ContainsRune(msg, 0) || !utf8.ValidString(msg) || len(msg) > maxErrorLen+3 || !strings.HasPrefix(msg, "bad\uFFFD \uFFFD") {
		t.Errorf("error text %.40q... (%d bytes) is not storable", msg, len(msg))
	}
}
