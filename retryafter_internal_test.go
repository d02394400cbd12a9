package hookd

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const limit = time.Hour
	for _, tc := range []struct {
		name, value string
		want        time.Duration
		ok          bool
	}{
		{"absent", "", 0, false},
		{"seconds", "120", 2 * time.Minute, true},
		{"padded seconds", " 30 ", 30 * time.Second, true},
		{"zero", "0", 0, true},
		{"at the cap", "3600", time.Hour, true},
		{"past the cap", "3601", time.Hour, true},
		{"overflows a Duration once multiplied", "9300000000", time.Hour, true},
		{"largest int64", "9223372036854775807", time.Hour, true},
		{"past uint64", "99999999999999999999999999", time.Hour, true},
		{"negative", "-5", 0, false},
		{"signed", "+5", 0, false},
		{"fraction", "1.5", 0, false},
		{"garbage", "soon", 0, false},
		{"date in a minute", now.Add(time.Minute).Format(http.TimeFormat), time.Minute, true},
		{"date in the past", now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"date in a year", now.AddDate(1, 0, 0).Format(http.TimeFormat), time.Hour, true},
		{"date at year 9999", "Fri, 31 Dec 9999 23:59:59 GMT", time.Hour, true},
		{"date at year 1", "Mon, 01 Jan 0001 00:00:00 GMT", 0, true},
		{"RFC 850 date", "Sunday, 01-Mar-26 12:00:10 GMT", 10 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := retryAfter(tc.value, now, limit)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("retryAfter(%q) = %v, %v; want %v, %v", tc.value, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// FuzzRetryAfter checks that whatever a receiver writes in Retry-After,
// the wait is between 0 and the cap.
func FuzzRetryAfter(f *testing.F) {
	for _, seed := range []string{"", "0", "120", "9300000000", "18446744073709551616", "-1", "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 0001 00:00:00 GMT"} {
		f.Add(seed, int64(time.Hour))
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, value string, limitNanos int64) {
		limit := time.Duration(limitNanos)
		if limit <= 0 {
			limit = time.Hour // the engine's default replaces a cap of 0 or less
		}
		got, ok := retryAfter(value, now, limit)
		if got < 0 || got > limit {
			t.Fatalf("retryAfter(%q, cap %v) = %v, outside [0, cap]", value, limit, got)
		}
		if !ok && got != 0 {
			t.Fatalf("retryAfter(%q) = %v but not ok", value, got)
		}
	})
}
