package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of one run: the machine, the sizes, the figures.
type Report struct {
	Machine Machine  `json:"machine"`
	Config  Sizes    `json:"config"`
	Figures []Figure `json:"figures"`
}

// Machine states where the figures were measured.
type Machine struct {
	Cores        int    `json:"cores"`
	CPU          string `json:"cpu"`
	Go           string `json:"go"`
	OSArch       string `json:"os_arch"`
	Store        string `json:"store"`
	HookdVersion string `json:"hookd_version"`
	// Build is the VCS revision the binary was built from, "+dirty" if
	// the tree had changes; "unknown" without build info.
	Build string `json:"build"`
	Date  string `json:"date"`
	// LoadAvgStart and LoadAvgEnd are /proc/loadavg's 1, 5 and 15 minute
	// load averages when the run started and ended: figures from a busy
	// machine say less about hookd.
	LoadAvgStart string `json:"load_avg_start"`
	LoadAvgEnd   string `json:"load_avg_end"`
}

// Figure is one measured value.
type Figure struct {
	Scenario string  `json:"scenario"`
	Name     string  `json:"figure"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
}

// ThisMachine describes the machine the bench runs on.
func ThisMachine(store, hookdVersion string, now time.Time) Machine {
	return Machine{
		Cores:        runtime.NumCPU(),
		CPU:          cpuModel(),
		Go:           runtime.Version(),
		OSArch:       runtime.GOOS + "/" + runtime.GOARCH,
		Store:        store,
		HookdVersion: hookdVersion,
		Build:        buildRevision(),
		Date:         now.UTC().Format(time.RFC3339),
		LoadAvgStart: loadAvg(),
	}
}

func buildRevision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value[:min(len(s.Value), 12)]
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if dirty {
		rev += "+dirty"
	}
	return rev
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(b)); len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func (r *Report) add(scenario, name string, value float64, unit string) {
	r.Figures = append(r.Figures, Figure{Scenario: scenario, Name: name, Value: value, Unit: unit})
}

// Figure returns the value of a figure and whether it was measured.
func (r *Report) Figure(scenario, name string) (float64, bool) {
	for _, f := range r.Figures {
		if f.Scenario == scenario && f.Name == name {
			return f.Value, true
		}
	}
	return 0, false
}

// WriteTable writes the machine and the figures as an aligned table.
func (r *Report) WriteTable(w io.Writer) error {
	m := r.Machine
	fmt.Fprintf(w, "hookd bench — %d cores, %s, %s %s, store %s, hookd %s (build %s), %s\n",
		m.Cores, m.CPU, m.Go, m.OSArch, m.Store, m.HookdVersion, m.Build, m.Date)
	fmt.Fprintf(w, "load average %s at the start, %s at the end\n", m.LoadAvgStart, m.LoadAvgEnd)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tfigure\tvalue\tunit")
	for _, f := range r.Figures {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Scenario, f.Name, formatValue(f.Value), f.Unit)
	}
	return tw.Flush()
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// formatValue prints integers as integers and other values with three
// significant digits or more.
func formatValue(v float64) string {
	switch a := math.Abs(v); {
	case v == math.Trunc(v) && a < 1e15:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

// round keeps d decimals, so that the JSON shows no float noise.
func round(v float64, d int) float64 {
	p := math.Pow(10, float64(d))
	return math.Round(v*p) / p
}
