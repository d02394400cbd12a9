package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"time": func(t time.Time) template.HTML {
		if t.IsZero() {
			return "—"
		}
		return template.HTML(fmt.Sprintf(`<time datetime="%s">%s</time>`, t.UTC().Format(time.RFC3339), t.UTC().Format("Jan 2, 15:04:05 UTC")))
	},
	"timep": func(t *time.Time) template.HTML {
		if t == nil || t.IsZero() {
			return "—"
		}
		return template.HTML(fmt.Sprintf(`<time datetime="%s">%s</time>`, t.UTC().Format(time.RFC3339), t.UTC().Format("Jan 2, 15:04:05 UTC")))
	},
	"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"pct": func(f *float64) string {
		if f == nil {
			return "—"
		}
		return fmt.Sprintf("%.1f%%", 100**f)
	},
	"rateClass": func(f *float64) string {
		switch {
		case f == nil:
			return "muted"
		case *f >= 0.99:
			return "good"
		case *f >= 0.9:
			return "warn"
		}
		return "bad"
	},
	"ms": func(d time.Duration) string {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	},
	"code": func(c int) string {
		if c == 0 {
			return "—"
		}
		return fmt.Sprint(c)
	},
	"codeClass": func(c int) string {
		switch {
		case c == 0:
			return "muted"
		case c >= 200 && c < 300:
			return "good"
		case c >= 500 || c == 429:
			return "bad"
		}
		return "warn"
	},
	"join":   strings.Join,
	"sorted": sortedHeaders,
	"has":    func(m map[string]bool, k string) bool { return m[k] },
	"short":  shorten,
	"initial": func(s string) string {
		r, _ := utf8.DecodeRuneInString(strings.TrimSpace(s))
		return strings.ToUpper(string(r))
	},
	"eq2": func(a, b string) bool { return a == b },
	"add": func(a, b int) int { return a + b },
	"secs": func(f float64) string {
		d := time.Duration(f * float64(time.Second)).Round(time.Second)
		if d == 0 {
			return "none"
		}
		return d.String()
	},
}

func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func sortedHeaders(h map[string]string) []string {
	out := make([]string, 0, len(h))
	for k, v := range h {
		out = append(out, k+": "+v)
	}
	slices.Sort(out)
	return out
}

// prettyJSON indents b when it is JSON, and shows it as text otherwise.
func prettyJSON(b []byte) string {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return strings.ToValidUTF8(string(b), "�")
	}
	return out.String()
}

// sampleOf makes a sample payload from a JSON Schema: the schema's own
// examples where it has them, else a value of each property's type.
func sampleOf(schema []byte) []byte {
	var s any
	if err := json.Unmarshal(schema, &s); err != nil {
		return nil
	}
	b, _ := json.Marshal(sampleValue(s, 0))
	return b
}

func sampleValue(s any, depth int) any {
	m, ok := s.(map[string]any)
	if !ok || depth > 6 {
		return nil
	}
	if ex, ok := m["examples"].([]any); ok && len(ex) > 0 {
		return ex[0]
	}
	for _, k := range []string{"example", "default", "const"} {
		if v, ok := m[k]; ok {
			return v
		}
	}
	if e, ok := m["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	typ, _ := m["type"].(string)
	if ts, ok := m["type"].([]any); ok && len(ts) > 0 {
		typ, _ = ts[0].(string)
	}
	switch typ {
	case "string":
		switch m["format"] {
		case "date-time":
			return "2030-01-01T00:00:00Z"
		case "email":
			return "user@example.com"
		case "uri":
			return "https://example.com"
		}
		return "string"
	case "integer":
		return 0
	case "number":
		return 0.5
	case "boolean":
		return true
	case "array":
		if v := sampleValue(m["items"], depth+1); v != nil {
			return []any{v}
		}
		return []any{}
	}
	props, _ := m["properties"].(map[string]any)
	out := map[string]any{}
	for k, p := range props {
		out[k] = sampleValue(p, depth+1)
	}
	return out
}
