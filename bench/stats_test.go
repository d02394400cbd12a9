package bench

import (
	"encoding/json"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	seq := func(n int) []int64 {
		s := make([]int64, n)
		for i := range s {
			s[i] = int64(i + 1)
		}
		return s
	}
	tests := []struct {
		name   string
		sorted []int64
		p      float64
		want   int64
	}{
		{"empty", nil, 50, 0},
		{"one sample", []int64{7}, 99.9, 7},
		{"p0 is the minimum", seq(10), 0, 1},
		{"p100 is the maximum", seq(10), 100, 10},
		{"median of ten", seq(10), 50, 5},
		{"median of eleven", seq(11), 50, 6},
		{"p99 of a hundred", seq(100), 99, 99},
		{"p99 of a thousand", seq(1000), 99, 990},
		{"p99.9 of a thousand is not the max", seq(1000), 99.9, 999},
		{"p99.9 of a hundred rounds up to the max", seq(100), 99.9, 100},
		{"p99.9 of ten thousand", seq(10000), 99.9, 9990},
		{"p50 of two", []int64{3, 9}, 50, 3},
		{"p51 of two", []int64{3, 9}, 51, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(%d samples, %v) = %d, want %d", len(tt.sorted), tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	samples := make([]int64, 0, 1000)
	for i := 1000; i >= 1; i-- { // unsorted on purpose
		samples = append(samples, int64(i)*int64(time.Millisecond))
	}
	got := Summarize(samples)
	want := Latency{Count: 1000, P50: 500e6, P99: 990e6, P999: 999e6, Max: 1000e6, WindowP99Median: 990e6, WindowP99Max: 990e6}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
	if got := Summarize(nil); got != (Latency{}) {
		t.Errorf("Summarize(nil) = %+v, want zero", got)
	}
}

func TestSummarizeWindows(t *testing.T) {
	t.Parallel()
	// Three windows of 1 ms, then one whose last twenty samples took
	// 300 ms (a stall), then half a window that is not counted.
	var samples []int64
	for w := range 4 {
		for i := range LatencyWindow {
			v := int64(time.Millisecond)
			if w == 3 && i >= LatencyWindow-20 {
				v = 300 * int64(time.Millisecond)
			}
			samples = append(samples, v)
		}
	}
	for range LatencyWindow / 2 {
		samples = append(samples, int64(time.Second))
	}
	got := Summarize(samples)
	if got.WindowP99Median != int64(time.Millisecond) || got.WindowP99Max != 300*int64(time.Millisecond) {
		t.Errorf("window p99s: median %v, max %v; want 1ms and 300ms",
			time.Duration(got.WindowP99Median), time.Duration(got.WindowP99Max))
	}
	if got.P99 != int64(time.Second) {
		t.Errorf("p99 of all = %v, want 1s (the trailing samples count there)", time.Duration(got.P99))
	}
}

func TestRate(t *testing.T) {
	t.Parallel()
	if got := Rate(500, 250*time.Millisecond); got != 2000 {
		t.Errorf("Rate(500, 250ms) = %v, want 2000", got)
	}
	if got := Rate(5, 0); got != 0 {
		t.Errorf("Rate(5, 0) = %v, want 0", got)
	}
}

func TestEventData(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1024, 200, 4096} {
		d := EventData(nil, 42, 1_700_000_000_123_456_789, size)
		if len(d) != size {
			t.Errorf("EventData(size %d) has %d bytes", size, len(d))
		}
		if !json.Valid(d) {
			t.Errorf("EventData(size %d) is not JSON: %s", size, d)
		}
	}
	// Too small for its fields: as small as it can be, still JSON.
	if d := EventData(nil, 1, 0, 5); !json.Valid(d) {
		t.Errorf("EventData(size 5) is not JSON: %s", d)
	}
}
