package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// column is one column of a list's table: a header and the item's field.
type column struct{ header, field string }

// cols makes columns from "HEADER:field" pairs.
func cols(specs ...string) []column {
	out := make([]column, len(specs))
	for i, s := range specs {
		h, f, _ := strings.Cut(s, ":")
		out[i] = column{h, f}
	}
	return out
}

// printTable writes an answer as aligned columns: a list as one row per
// item, an object as one row per field, with its lists of objects (a
// delivery's attempts, an event's deliveries) as tables below it.
func (inv *invocation) printTable(answer json.RawMessage) error {
	tw := tabwriter.NewWriter(inv.env.Stdout, 0, 0, 2, ' ', 0)
	if inv.cmd.list != "" {
		var page map[string]json.RawMessage
		if err := json.Unmarshal(answer, &page); err != nil {
			return fmt.Errorf("decode answer: %w", err)
		}
		var items []orderedObject
		if err := json.Unmarshal(page[inv.cmd.list], &items); err != nil {
			return fmt.Errorf("decode answer: %w", err)
		}
		if len(items) == 0 {
			fmt.Fprintf(inv.env.Stdout, "No %s.\n", strings.ReplaceAll(inv.cmd.list, "_", " "))
			return nil
		}
		writeRows(tw, inv.cmd.columns, items)
		if err := tw.Flush(); err != nil {
			return err
		}
		if next := cell(page["next"]); next != "-" {
			fmt.Fprintf(inv.env.Stdout, "\nMore: --limit N --all, or the next page's cursor %s\n", next)
		}
		return nil
	}
	var obj orderedObject
	if err := json.Unmarshal(answer, &obj); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	var nested []string
	for _, k := range obj.keys {
		v := obj.values[k]
		if isObjectList(v) {
			nested = append(nested, k)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\n", strings.ToUpper(strings.ReplaceAll(k, "_", " ")), cell(v))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, k := range nested {
		var items []orderedObject
		if err := json.Unmarshal(obj.values[k], &items); err != nil {
			return fmt.Errorf("decode %s: %w", k, err)
		}
		fmt.Fprintf(inv.env.Stdout, "\n%s\n", strings.ToUpper(strings.ReplaceAll(k, "_", " ")))
		var columns []column
		for _, f := range items[0].keys {
			if v := items[0].values[f]; !isObjectList(v) && !isObject(v) {
				columns = append(columns, column{strings.ToUpper(strings.ReplaceAll(f, "_", " ")), f})
			}
		}
		tw := tabwriter.NewWriter(inv.env.Stdout, 0, 0, 2, ' ', 0)
		writeRows(tw, columns, items)
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func writeRows(w io.Writer, columns []column, items []orderedObject) {
	headers := make([]string, len(columns))
	for i, c := range columns {
		headers[i] = c.header
	}
	fmt.Fprintln(w, strings.Join(headers, "\t"))
	for _, it := range items {
		cells := make([]string, len(columns))
		for i, c := range columns {
			cells[i] = cell(it.values[c.field])
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
}

// cell renders one JSON value in a table cell: text as it is, null as -,
// a list of words joined by commas, a list of objects by its length, any
// other structure as compact JSON; never a line break or a tab.
func cell(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return "-"
	}
	switch v[0] {
	case '"':
		var s string
		if json.Unmarshal(v, &s) == nil {
			return oneLine(s)
		}
	case '[':
		if isObjectList(v) {
			var items []json.RawMessage
			json.Unmarshal(v, &items)
			return strconv.Itoa(len(items))
		}
		var words []string
		if json.Unmarshal(v, &words) == nil {
			if len(words) == 0 {
				return "-"
			}
			return oneLine(strings.Join(words, ","))
		}
	}
	var b bytes.Buffer
	if json.Compact(&b, v) == nil {
		return oneLine(b.String())
	}
	return oneLine(string(v))
}

func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(s)
}

func isObject(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && v[0] == '{'
}

func isObjectList(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	if len(v) < 2 || v[0] != '[' {
		return false
	}
	rest := bytes.TrimSpace(v[1:])
	return len(rest) > 0 && rest[0] == '{'
}

// orderedObject is a JSON object that remembers the order of its keys,
// so tables list fields as the API does.
type orderedObject struct {
	keys   []string
	values map[string]json.RawMessage
}

func (o *orderedObject) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("not a JSON object")
	}
	o.values = map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		if _, dup := o.values[key]; !dup {
			o.keys = append(o.keys, key)
		}
		o.values[key] = v
	}
	return nil
}
