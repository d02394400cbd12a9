package hookd_test

import (
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func TestDurationBucket(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d    time.Duration
		want int
	}{
		{0, 0}, {99 * time.Microsecond, 0}, {100 * time.Microsecond, 1}, {149 * time.Microsecond, 1},
		{150 * time.Microsecond, 2}, {time.Millisecond, 6}, {time.Hour, hookd.DurationBuckets - 1}, {-time.Second, 0},
	} {
		if got := hookd.DurationBucket(c.d); got != c.want {
			t.Errorf("DurationBucket(%v) = %d, want %d", c.d, got, c.want)
		}
	}
}

// TestDurationPercentileWithinResolution reads percentiles back from
// histograms of known durations: within a factor of DurationGrowth.
func TestDurationPercentileWithinResolution(t *testing.T) {
	t.Parallel()
	if p := hookd.DurationPercentile(make([]int64, hookd.DurationBuckets), 0.5); p != nil {
		t.Errorf("percentile of nothing: %v, want nil", *p)
	}
	for _, d := range []time.Duration{300 * time.Microsecond, 2 * time.Millisecond, 45 * time.Millisecond, 1200 * time.Millisecond, 14 * time.Second} {
		h := make([]int64, hookd.DurationBuckets)
		h[hookd.DurationBucket(d)] += 99
		h[hookd.DurationBucket(100*d)]++
		ms := float64(d) / float64(time.Millisecond)
		p50, p99 := hookd.DurationPercentile(h, 0.5), hookd.DurationPercentile(h, 0.99)
		if p50 == nil || *p50 < ms/hookd.DurationGrowth || *p50 > ms*hookd.DurationGrowth {
			t.Errorf("p50 of %v: %v ms", d, p50)
		}
		if p99 == nil || *p99 != *p50 {
			t.Errorf("p99 of 99 at %v and one at 100 times that: %v, want the p50 %v", d, p99, *p50)
		}
		// (Past about 8 minutes the last bucket holds everything.)
		if p100 := hookd.DurationPercentile(h, 1); 100*d < 8*time.Minute && (p100 == nil || *p100 < 100*ms/hookd.DurationGrowth) {
			t.Errorf("p100 of %v: %v ms, want about %v", d, p100, 100*ms)
		}
	}
}
