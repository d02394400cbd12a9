// Package client is a Go client for hookd's HTTP API. The hookd CLI and
// the end-to-end tests use it; so can an operator's backend.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls one hookd server with one token.
type Client struct {
	baseURL string
	token   string
	http    *http.Client
}

// New returns a client for the server at baseURL (e.g.
// http://127.0.0.1:8080) that authenticates with token. A nil httpClient
// means one with a 30-second timeout.
func New(baseURL, token string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{baseURL: strings.TrimSuffix(baseURL, "/"), token: token, http: httpClient}
}

// WithToken returns a client for the same server with another token.
func (c *Client) WithToken(token string) *Client {
	cp := *c
	cp.token = token
	return &cp
}

// Error is an error answer of the API.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("hookd: %d %s: %s", e.Status, e.Code, e.Message)
}

// Do sends a request with in as its JSON body (nil for none) and decodes
// the answer into out (nil to discard it). It returns the HTTP status, and
// an *Error for answers outside 2xx. A json.RawMessage goes as it is,
// unchecked (the server checks it): encoding/json would scan and copy it
// whole, which for a 1,000-event batch costs more than building it.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) (int, error) {
	var body io.Reader
	switch in := in.(type) {
	case nil:
	case json.RawMessage:
		body = bytes.NewReader(in)
	default:
		b, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, body)
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, errorOf(resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// errorOf reads an error answer.
func errorOf(status int, raw []byte) *Error {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Error.Code == "" {
		return &Error{Status: status, Code: "UNKNOWN", Message: strings.TrimSpace(string(raw))}
	}
	return &Error{Status: status, Code: e.Error.Code, Message: e.Error.Message}
}

func esc(s string) string { return url.PathEscape(s) }

// ListOptions page a list.
type ListOptions struct {
	Limit  int
	After  string
	Status string // deliveries only
}

func (o *ListOptions) query() string {
	if o == nil {
		return ""
	}
	q := url.Values{}
	if o.Limit > 0 {
		q.Set("limit", fmt.Sprint(o.Limit))
	}
	if o.After != "" {
		q.Set("after", o.After)
	}
	if o.Status != "" {
		q.Set("status", o.Status)
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}
