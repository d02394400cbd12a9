package bench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestReportFormats(t *testing.T) {
	t.Parallel()
	sizes := Sizes{Quick: true}
	sizes.Defaults()
	r := &Report{Machine: ThisMachine("sqlite", "0.1.0", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)), Config: sizes}
	r.add("ceiling", "requests_per_s", 21000, "req/s")
	r.add("latency", "p99", 3.456, "ms")
	r.add("sustained", "ceiling_ratio", 0.512, "ratio")

	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"store sqlite", "hookd 0.1.0", "2025-01-02T03:04:05Z", "cores",
		"ceiling    requests_per_s  21000  req/s", "latency    p99             3.46   ms", "0.512"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}

	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Machine Machine        `json:"machine"`
		Config  map[string]any `json:"config"`
		Figures []Figure       `json:"figures"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatalf("%v\n%s", err, js.String())
	}
	if back.Machine != r.Machine || len(back.Figures) != 3 || back.Figures[1] != r.Figures[1] {
		t.Errorf("JSON round trip: %+v", back)
	}
	if back.Config["latency_duration"] != "3s" || back.Config["sustained_events"] != float64(2000) {
		t.Errorf("config in JSON: %v", back.Config)
	}
	if v, ok := r.Figure("latency", "p99"); !ok || v != 3.456 {
		t.Errorf("Figure(latency, p99) = %v, %v", v, ok)
	}
}
