package dashboard

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func ms(v float64) *float64 { return &v }

// pathOf returns the d attribute of the chart's line.
func pathOf(t *testing.T, c *chart) string {
	t.Helper()
	m := regexp.MustCompile(`<path d="([^"]*)"`).FindStringSubmatch(string(c.SVG))
	if m == nil {
		t.Fatalf("no line in %s", c.SVG)
	}
	return m[1]
}

// extent returns the horizontal length the path's segments cover.
func extent(t *testing.T, d string) float64 {
	t.Helper()
	var total, lastX float64
	for _, cmd := range regexp.MustCompile(`([ML])(-?[\d.]+) (-?[\d.]+)`).FindAllStringSubmatch(d, -1) {
		x, err := strconv.ParseFloat(cmd[2], 64)
		if err != nil {
			t.Fatal(err)
		}
		if cmd[1] == "L" {
			total += x - lastX
		}
		lastX = x
	}
	return total
}

func TestLatencyDrawsALoneBucket(t *testing.T) {
	start := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	var pts []point
	for i := range 24 {
		pts = append(pts, point{Start: start.Add(time.Duration(i) * time.Hour)})
	}
	pts[23].P50 = ms(42)
	c := latency(pts, 600, 110)
	if c.Empty {
		t.Fatal("a chart with one bucket of attempts is empty")
	}
	d := pathOf(t, c)
	if got := extent(t, d); got < 600.0/24-0.1 {
		t.Errorf("the lone bucket's stroke covers %.2f of the width, want its bucket's %.2f: %q", got, 600.0/24, d)
	}
	if c.Rate != "42 ms" {
		t.Errorf("peak = %q, want 42 ms", c.Rate)
	}
}

func TestLatencyJoinsNeighbouringBuckets(t *testing.T) {
	pts := []point{{P50: ms(10)}, {P50: ms(20)}, {}, {P50: ms(5)}, {P50: ms(20)}}
	d := pathOf(t, latency(pts, 500, 100))
	if n := strings.Count(d, "M"); n != 2 {
		t.Errorf("path %q has %d runs, want 2 (a gap where a bucket had no attempts)", d, n)
	}
	// Buckets at their middles, 100 wide: 50, 150, then 350, 450.
	if got := extent(t, d); got != 200 {
		t.Errorf("the runs cover %.2f, want 200: %q", got, d)
	}
	if c := latency([]point{{}, {}}, 500, 100); !c.Empty {
		t.Error("a chart without attempts is not empty")
	}
}
