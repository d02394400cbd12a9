package wire_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// jsStringify returns what JavaScript's JSON.stringify(JSON.parse(in))
// writes, modelled independently of the canonicalizer: encoding/json
// reads the tokens, and the value is written again by ECMAScript's rules
// (object members in insertion order with array-index keys first,
// ascending; the last of duplicate keys wins in the first one's place;
// JSON.stringify's escapes; numbers by Number::toString).
//
// encoding/json turns lone surrogate escapes into U+FFFD where JavaScript
// keeps them, so inputs with surrogate escapes are outside the model:
// ok is false for them.
func jsStringify(in []byte) (out []byte, ok bool, err error) {
	if surrogateEscape.Match(in) {
		return nil, false, nil
	}
	d := json.NewDecoder(bytes.NewReader(in))
	d.UseNumber()
	v, err := jsRead(d)
	if err != nil {
		return nil, false, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, false, fmt.Errorf("data after the value: %v", err)
	}
	var b strings.Builder
	jsWrite(&b, v)
	return []byte(b.String()), true, nil
}

var surrogateEscape = regexp.MustCompile(`(?i)\\u[d][89a-f]`)

// jsObject is a JavaScript object's own properties in enumeration order.
type jsObject struct {
	keys   []string
	values map[string]any
}

func jsRead(d *json.Decoder) (any, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &jsObject{values: map[string]any{}}
			for d.More() {
				k, err := d.Token()
				if err != nil {
					return nil, err
				}
				v, err := jsRead(d)
				if err != nil {
					return nil, err
				}
				key := k.(string)
				if _, dup := o.values[key]; !dup {
					o.keys = append(o.keys, key)
				}
				o.values[key] = v
			}
			_, err := d.Token()
			return o, err
		case '[':
			var a []any
			for d.More() {
				v, err := jsRead(d)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := d.Token()
			return a, err
		}
	}
	return tok, nil
}

func jsWrite(b *strings.Builder, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case string:
		jsWriteString(b, v)
	case json.Number:
		f, _ := strconv.ParseFloat(string(v), 64)
		b.WriteString(jsNumber(f))
	case []any:
		b.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			jsWrite(b, x)
		}
		b.WriteByte(']')
	case *jsObject:
		b.WriteByte('{')
		for i, k := range jsOrder(v.keys) {
			if i > 0 {
				b.WriteByte(',')
			}
			jsWriteString(b, k)
			b.WriteByte(':')
			jsWrite(b, v.values[k])
		}
		b.WriteByte('}')
	}
}

// jsOrder sorts keys as OrdinaryOwnPropertyKeys enumerates them: array
// indexes (canonical integers below 2^32-1) ascending, then the others in
// insertion order.
func jsOrder(keys []string) []string {
	index := func(k string) (uint64, bool) {
		n, err := strconv.ParseUint(k, 10, 64)
		return n, err == nil && strconv.FormatUint(n, 10) == k && n < 1<<32-1
	}
	out := slices.Clone(keys)
	slices.SortStableFunc(out, func(a, b string) int {
		ia, aok := index(a)
		ib, bok := index(b)
		switch {
		case aok && bok:
			return cmpUint(ia, ib)
		case aok:
			return -1
		case bok:
			return 1
		}
		return 0
	})
	return out
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// jsWriteString writes s as JSON.stringify's QuoteJSONString does.
func jsWriteString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// jsNumber is Number::toString: plain decimals from 1e-6 up to 1e21,
// exponent notation (no leading zeros, a sign always) outside.
func jsNumber(f float64) string {
	if f == 0 {
		return "0"
	}
	if a := max(f, -f); a >= 1e-6 && a < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1.5e-07, 1e+21
	mant, exp, _ := strings.Cut(s, "e")
	sign, digits := exp[:1], strings.TrimLeft(exp[1:], "0")
	return mant + "e" + sign + digits
}
