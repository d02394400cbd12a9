package client_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hookd/hookd/client"
)

// TestDoSendsBodies checks what reaches the server: a value encoded as
// JSON, a json.RawMessage byte for byte (spaces and all), and no body and
// no Content-Type for nil.
func TestDoSendsBodies(t *testing.T) {
	t.Parallel()
	type got struct{ body, contentType string }
	seen := make(chan got, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		seen <- got{string(b), r.Header.Get("Content-Type")}
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	c := client.New(srv.URL, "token", srv.Client())
	for _, tc := range []struct {
		in   any
		want got
	}{
		{map[string]int{"a": 1}, got{`{"a":1}`, "application/json"}},
		{json.RawMessage(`{ "events" : [ ] }`), got{`{ "events" : [ ] }`, "application/json"}},
		{nil, got{"", ""}},
	} {
		var out struct{ OK bool }
		if _, err := c.Do(t.Context(), http.MethodPost, "/x", tc.in, &out); err != nil {
			t.Fatalf("Do(%v): %v", tc.in, err)
		}
		if g := <-seen; g != tc.want {
			t.Errorf("Do(%#v) sent %+v, want %+v", tc.in, g, tc.want)
		}
		if !out.OK {
			t.Errorf("Do(%#v) did not decode the answer", tc.in)
		}
	}
}
