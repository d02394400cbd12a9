package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hookd/hookd/api"
)

// ListenWebhook is a `hookd listen` webhook as POST .../listen answers it,
// secret included.
type ListenWebhook = api.ListenWebhook

// ListenRequest is one signed request a listen stream hands over, to be
// replayed against the local URL.
type ListenRequest = api.ListenRequest

// ListenResult reports what the local URL answered to a ListenRequest, or
// the error that kept it from answering.
type ListenResult = api.ListenResult

// Listen registers the app's listen webhook for key (created is true) or
// resumes the one key registered before, subscribed to events (nil: all).
func (c *Client) Listen(ctx context.Context, app, key string, events []string) (w *ListenWebhook, created bool, err error) {
	in := map[string]any{"key": key}
	if events != nil {
		in["events"] = events
	}
	status, err := c.Do(ctx, http.MethodPost, "/v1/apps/"+esc(app)+"/listen", in, &w)
	return w, status == http.StatusCreated, err
}

// ListenStream opens the listen webhook's server-sent event stream. It
// stays open until ctx ends or the server closes it, whatever the
// client's timeout; the caller closes the body.
func (c *Client) ListenStream(ctx context.Context, app, id string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+"/v1/apps/"+esc(app)+"/listen/"+esc(id)+"/stream", nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+c.token)
	streaming := *c.http
	streaming.Timeout = 0 // the stream lives as long as ctx
	resp, err := streaming.Do(req)
	if err != nil {
		return nil, fmt.Errorf("open the listen stream: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return nil, errorOf(resp.StatusCode, raw)
	}
	return resp.Body, nil
}

// ListenResult reports a local answer back as the request's attempt.
func (c *Client) ListenResult(ctx context.Context, app, id string, res *ListenResult) error {
	_, err := c.Do(ctx, http.MethodPost, "/v1/apps/"+esc(app)+"/listen/"+esc(id)+"/results", res, nil)
	return err
}

// DeleteWebhook deletes a webhook.
func (c *Client) DeleteWebhook(ctx context.Context, app, id string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/v1/apps/"+esc(app)+"/webhooks/"+esc(id), nil, nil)
	return err
}

// listenHeartbeat is the longest a healthy stream stays silent: the
// server sends a comment every 15 s.
const listenHeartbeat = 15 * time.Second

// ListenSilence is how long a listen stream may stay silent before the
// CLI takes it for dead and reconnects.
const ListenSilence = 3 * listenHeartbeat
