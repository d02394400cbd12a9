package bench

import (
	"slices"
	"time"
)

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted, an
// ascending slice, by the nearest-rank method: the smallest sample with at
// least p% of the samples at or below it. It returns 0 for no samples.
func Percentile(sorted []int64, p float64) int64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if p <= 0 {
		return sorted[0]
	}
	// rank = ceil(p/100 × n), computed in integers where p has at most
	// three decimals, so that 99.9 of 1000 is rank 999 and not 1000
	// through a float rounding up.
	milli := int64(p*1000 + 0.5)
	rank := (milli*int64(n) + 100_000 - 1) / 100_000
	rank = min(max(rank, 1), int64(n))
	return sorted[rank-1]
}

// Latency summarises latency samples. Durations are in nanoseconds.
type Latency struct {
	Count int   `json:"count"`
	P50   int64 `json:"p50_ns"`
	P99   int64 `json:"p99_ns"`
	P999  int64 `json:"p999_ns"`
	Max   int64 `json:"max_ns"`
	// WindowP99Median and WindowP99Max are the median and the largest of
	// the p99s of each LatencyWindow samples in arrival order: a steady
	// p99 and the worst stretch, which a whole run's p99 mixes up. Zero
	// with fewer samples than one window.
	WindowP99Median int64 `json:"window_p99_median_ns"`
	WindowP99Max    int64 `json:"window_p99_max_ns"`
}

// LatencyWindow is how many consecutive samples a window holds: a second
// of the latency scenario.
const LatencyWindow = 1000

// Summarize summarises samples (nanoseconds), given in arrival order, and
// sorts them in place.
func Summarize(samples []int64) Latency {
	var windows []int64
	for i := 0; i+LatencyWindow <= len(samples); i += LatencyWindow {
		w := slices.Clone(samples[i : i+LatencyWindow])
		slices.Sort(w)
		windows = append(windows, Percentile(w, 99))
	}
	slices.Sort(samples)
	l := Latency{Count: len(samples)}
	if len(samples) == 0 {
		return l
	}
	if len(windows) > 0 {
		slices.Sort(windows)
		l.WindowP99Median = Percentile(windows, 50)
		l.WindowP99Max = windows[len(windows)-1]
	}
	l.P50 = Percentile(samples, 50)
	l.P99 = Percentile(samples, 99)
	l.P999 = Percentile(samples, 99.9)
	l.Max = samples[len(samples)-1]
	return l
}

// Rate is n per second over d; 0 when d is not positive.
func Rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// ms converts nanoseconds to milliseconds.
func ms(ns int64) float64 { return float64(ns) / 1e6 }
