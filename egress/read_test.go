package egress_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookd/hookd/egress"
)

// endless is an infinite stream of 'a' that counts what was read from it.
type endless struct{ read int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	e.read += len(p)
	return len(p), nil
}

func TestReadCapped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		n    int
		want string
	}{
		{"shorter", "hello", 4096, "hello"},
		{"exact", "hello", 5, "hello"},
		{"longer", "hello world", 5, "hello"},
		{"empty", "", 10, ""},
		{"zero", "hello", 0, ""},
		{"negative", "hello", -1, ""},
	}
	for _, tt := range tests {
		got, err := egress.ReadCapped(strings.NewReader(tt.body), tt.n)
		if err != nil || got != tt.want {
			t.Errorf("%s: ReadCapped = %q, %v; want %q, nil", tt.name, got, err, tt.want)
		}
	}
}

func TestReadCappedIsBounded(t *testing.T) {
	t.Parallel()
	var r endless
	got, err := egress.ReadCapped(&r, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4096 {
		t.Fatalf("kept %d bytes, want 4096", len(got))
	}
	if r.read > 4096+egress.MaxDrain {
		t.Fatalf("read %d bytes, want at most %d", r.read, 4096+egress.MaxDrain)
	}
}

func TestReadCappedError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("abc"), &failing{boom})
	got, err := egress.ReadCapped(r, 10)
	if got != "abc" || !errors.Is(err, boom) {
		t.Fatalf("ReadCapped = %q, %v; want %q, %v", got, err, "abc", boom)
	}
}

type failing struct{ err error }

func (f *failing) Read([]byte) (int, error) { return 0, f.err }

// A large response over a real connection: exactly n bytes are kept.
func TestReadCappedLargeBody(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, egress.Config{AllowPrivate: true})
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := egress.ReadCapped(resp.Body, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if got != body[:4096] {
		t.Fatalf("kept %d bytes, want exactly the first 4096", len(got))
	}
}
