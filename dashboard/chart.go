package dashboard

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// point is one bucket of a chart: successes and failures, and the
// median attempt latency when there were attempts.
type point struct {
	Start     time.Time
	Succeeded int64
	Failed    int64
	P50       *float64
}

// chart is a drawn chart with what its caption says.
type chart struct {
	SVG       template.HTML
	Succeeded int64
	Failed    int64
	Rate      string // success rate over the chart, "" without attempts
	Span      string // "24 hours"
	Empty     bool
}

// sparkline draws successes (accent) and failures (red) as stacked bars,
// small enough to sit in a table row.
func sparkline(pts []point) *chart {
	return bars(pts, 120, 28, false)
}

// bars draws a bar chart of pts, each bar successes stacked on failures.
// It is SVG with presentation attributes only, so the page's CSP needs
// no inline styles.
func bars(pts []point, w, h float64, axis bool) *chart {
	return barsOf(pts, w, h, axis, "succeeded", "failed")
}

// barsOf is bars with what the two stacked counts are called (ok, then
// fail), as their titles and the chart's label say them.
func barsOf(pts []point, w, h float64, axis bool, ok, fail string) *chart {
	c := &chart{}
	if len(pts) == 0 {
		c.Empty = true
		return c
	}
	var peak int64
	for _, p := range pts {
		c.Succeeded += p.Succeeded
		c.Failed += p.Failed
		peak = max(peak, p.Succeeded+p.Failed)
	}
	if total := c.Succeeded + c.Failed; total > 0 {
		c.Rate = fmt.Sprintf("%.1f%%", 100*float64(c.Succeeded)/float64(total))
	}
	c.Empty = peak == 0
	var b strings.Builder
	top := 0.0
	if axis {
		top = 4
	}
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" preserveAspectRatio="none" role="img" aria-label="%d %s, %d %s">`, w, h+top, c.Succeeded, ok, c.Failed, fail)
	fmt.Fprintf(&b, `<line x1="0" y1="%g" x2="%g" y2="%g" class="base"/>`, h+top-0.5, w, h+top-0.5)
	bw := w / float64(len(pts))
	gap := math.Min(1, bw/4)
	for i, p := range pts {
		if peak == 0 {
			break
		}
		x := float64(i)*bw + gap/2
		okH := h * float64(p.Succeeded) / float64(peak)
		failH := h * float64(p.Failed) / float64(peak)
		y := h + top
		if failH > 0 {
			y -= failH
			fmt.Fprintf(&b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" class="fail"><title>%s: %d %s</title></rect>`,
				x, y, bw-gap, failH, p.Start.UTC().Format("Jan 2 15:04 UTC"), p.Failed, fail)
		}
		if okH > 0 {
			y -= okH
			fmt.Fprintf(&b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" class="ok"><title>%s: %d %s</title></rect>`,
				x, y, bw-gap, okH, p.Start.UTC().Format("Jan 2 15:04 UTC"), p.Succeeded, ok)
		}
	}
	b.WriteString(`</svg>`)
	c.SVG = template.HTML(b.String())
	return c
}

// latency draws the median attempt latency of pts as a line, each bucket
// at its middle. A bucket with attempts between two without is drawn as a
// level stroke across its width, which a line of one point would not
// show.
func latency(pts []point, w, h float64) *chart {
	c := &chart{}
	var peak float64
	n := 0
	for _, p := range pts {
		if p.P50 != nil {
			peak = math.Max(peak, *p.P50)
			n++
		}
	}
	if n == 0 {
		c.Empty = true
		return c
	}
	peak = math.Max(peak, 1)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" preserveAspectRatio="none" role="img" aria-label="median attempt latency, at most %.0f ms">`, w, h+4, peak)
	fmt.Fprintf(&b, `<line x1="0" y1="%g" x2="%g" y2="%g" class="base"/>`, h+3.5, w, h+3.5)
	step := w / float64(len(pts))
	has := func(i int) bool { return i >= 0 && i < len(pts) && pts[i].P50 != nil }
	var path strings.Builder
	for i, p := range pts {
		if p.P50 == nil {
			continue
		}
		x, y := (float64(i)+0.5)*step, 4+h-h*(*p.P50/peak)
		switch {
		case has(i - 1):
			fmt.Fprintf(&path, " L%.2f %.2f", x, y)
		case has(i + 1):
			fmt.Fprintf(&path, " M%.2f %.2f", x, y)
		default: // alone
			fmt.Fprintf(&path, " M%.2f %.2f L%.2f %.2f", x-step/2, y, x+step/2, y)
		}
	}
	fmt.Fprintf(&b, `<path d="%s" class="line" vector-effect="non-scaling-stroke"/>`, strings.TrimSpace(path.String()))
	b.WriteString(`</svg>`)
	c.SVG = template.HTML(b.String())
	c.Rate = fmt.Sprintf("%.0f ms", peak)
	return c
}
