package wire

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/hookd/hookd"
)

// MaxDepth is how deeply objects and arrays may nest in event data.
const MaxDepth = 128

// CanonicalObject checks that data is one JSON object and returns it compact,
// in the form that JavaScript's JSON.stringify(JSON.parse(x)) produces, byte
// for byte:
//
//   - no whitespace between tokens;
//   - object members in input order, except that keys which are array
//     indexes ("0" to "4294967294") come first in ascending numeric order,
//     as JavaScript objects keep them;
//   - strings escaped as JSON.stringify does: \" \\ \b \f \n \r \t, other
//     control characters and lone surrogates as lowercase \u00xx / \udxxx,
//     everything else as literal UTF-8 (<, >, &, U+2028 and U+2029
//     included);
//   - numbers as ECMAScript's Number::toString of their float64 value.
//
// It refuses what JSON.parse would refuse and, beyond that, duplicate keys
// (JavaScript would silently keep the last), invalid UTF-8, numbers beyond
// the float64 range and nesting deeper than MaxDepth. Errors are
// *hookd.Error with code hookd.EINVALID and a message fit for the user.
func CanonicalObject(data []byte) ([]byte, error) {
	return appendCanonical(make([]byte, 0, len(data)+16), data)
}

// appendCanonical appends the canonical form of the object data to dst.
func appendCanonical(dst, data []byte) ([]byte, error) {
	var stack [32]member
	c := canonicalizer{in: data, out: dst, members: stack[:0]}
	c.skipWS()
	if c.pos >= len(c.in) {
		return nil, hookd.Errorf(hookd.EINVALID, "data must be a JSON object, not empty")
	}
	if c.in[c.pos] != '{' {
		// Say "must be an object" for a valid non-object, a syntax error otherwise.
		if err := c.value(0); err != nil {
			return nil, err
		}
		return nil, hookd.Errorf(hookd.EINVALID, "data must be a JSON object")
	}
	if err := c.object(1); err != nil {
		return nil, err
	}
	c.skipWS()
	if c.pos < len(c.in) {
		return nil, c.syntaxError("after the object")
	}
	return c.out, nil
}

// canonicalizer is a recursive-descent scanner that writes the canonical
// form as it reads.
type canonicalizer struct {
	in  []byte
	pos int
	out []byte
	// members holds the members of every object being read, innermost
	// last, for duplicate detection and reordering.
	members []member
	scratch []byte
}

// member locates one object member in out: the key's opening quote, the
// end of the key (after its closing quote) and the end of the value.
type member struct {
	start, keyEnd, end int
}

func (c *canonicalizer) key(m member) []byte { return c.out[m.start+1 : m.keyEnd-1] }

func (c *canonicalizer) skipWS() {
	for c.pos < len(c.in) {
		switch c.in[c.pos] {
		case ' ', '\t', '\n', '\r':
			c.pos++
		default:
			return
		}
	}
}

func (c *canonicalizer) syntaxError(where string) error {
	if c.pos >= len(c.in) {
		return hookd.Errorf(hookd.EINVALID, "data is not valid JSON: unexpected end of input")
	}
	b := c.in[c.pos]
	var what string
	switch {
	case b >= 0x20 && b < 0x7f:
		what = fmt.Sprintf("%q", rune(b))
	default:
		what = fmt.Sprintf("byte 0x%02x", b)
	}
	if where != "" {
		where = " " + where
	}
	return hookd.Errorf(hookd.EINVALID, "data is not valid JSON: unexpected %s at offset %d%s", what, c.pos, where)
}

func (c *canonicalizer) value(depth int) error {
	c.skipWS()
	if c.pos >= len(c.in) {
		return c.syntaxError("")
	}
	switch b := c.in[c.pos]; b {
	case '{':
		return c.object(depth + 1)
	case '[':
		return c.array(depth + 1)
	case '"':
		return c.str()
	case 't':
		return c.literal("true")
	case 'f':
		return c.literal("false")
	case 'n':
		return c.literal("null")
	default:
		if b == '-' || b >= '0' && b <= '9' {
			return c.number()
		}
		return c.syntaxError("")
	}
}

func (c *canonicalizer) literal(lit string) error {
	if !bytes.HasPrefix(c.in[c.pos:], []byte(lit)) {
		return c.syntaxError("")
	}
	c.pos += len(lit)
	c.out = append(c.out, lit...)
	return nil
}

func (c *canonicalizer) depthError() error {
	return hookd.Errorf(hookd.EINVALID, "data is nested more than %d levels deep", MaxDepth)
}

func (c *canonicalizer) array(depth int) error {
	if depth > MaxDepth {
		return c.depthError()
	}
	c.pos++
	c.out = append(c.out, '[')
	c.skipWS()
	if c.pos < len(c.in) && c.in[c.pos] == ']' {
		c.pos++
		c.out = append(c.out, ']')
		return nil
	}
	for {
		if err := c.value(depth); err != nil {
			return err
		}
		c.skipWS()
		if c.pos >= len(c.in) {
			return c.syntaxError("")
		}
		switch c.in[c.pos] {
		case ',':
			c.pos++
			c.out = append(c.out, ',')
		case ']':
			c.pos++
			c.out = append(c.out, ']')
			return nil
		default:
			return c.syntaxError("in an array")
		}
	}
}

// linearKeys is how many keys an object may have before duplicates are
// looked up in a map rather than by comparing with each earlier key.
const linearKeys = 16

func (c *canonicalizer) object(depth int) error {
	if depth > MaxDepth {
		return c.depthError()
	}
	c.pos++
	c.out = append(c.out, '{')
	bodyStart := len(c.out)
	first := len(c.members)
	var seen map[string]struct{}
	// Array-index keys must precede the others, in ascending order; note
	// whether the input already has them so.
	reorder, sawName, lastIndex := false, false, int64(-1)
	c.skipWS()
	if c.pos < len(c.in) && c.in[c.pos] == '}' {
		c.pos++
		c.out = append(c.out, '}')
		return nil
	}
	for {
		c.skipWS()
		if c.pos >= len(c.in) || c.in[c.pos] != '"' {
			return c.syntaxError("where a key was expected")
		}
		m := member{start: len(c.out)}
		if err := c.str(); err != nil {
			return err
		}
		m.keyEnd = len(c.out)
		key := c.key(m)

		n := len(c.members) - first
		switch {
		case n < linearKeys:
			for _, o := range c.members[first:] {
				if bytes.Equal(c.key(o), key) {
					return c.duplicate(key)
				}
			}
		default:
			if seen == nil {
				seen = make(map[string]struct{}, 2*linearKeys)
				for _, o := range c.members[first:] {
					seen[string(c.key(o))] = struct{}{}
				}
			}
			if _, dup := seen[string(key)]; dup {
				return c.duplicate(key)
			}
			seen[string(key)] = struct{}{}
		}
		if i, ok := arrayIndex(key); ok {
			if sawName || i < lastIndex {
				reorder = true
			}
			lastIndex = i
		} else {
			sawName = true
		}

		c.skipWS()
		if c.pos >= len(c.in) || c.in[c.pos] != ':' {
			return c.syntaxError("after a key")
		}
		c.pos++
		c.out = append(c.out, ':')
		if err := c.value(depth); err != nil {
			return err
		}
		m.end = len(c.out)
		c.members = append(c.members, m)

		c.skipWS()
		if c.pos >= len(c.in) {
			return c.syntaxError("")
		}
		switch c.in[c.pos] {
		case ',':
			c.pos++
			c.out = append(c.out, ',')
		case '}':
			c.pos++
			if reorder {
				c.reorder(bodyStart, c.members[first:])
			}
			c.members = c.members[:first]
			c.out = append(c.out, '}')
			return nil
		default:
			return c.syntaxError("in an object")
		}
	}
}

func (c *canonicalizer) duplicate(key []byte) error {
	return hookd.Errorf(hookd.EINVALID, "data has a duplicate key %q", key)
}

// reorder rewrites the members of one object, which start at bodyStart in
// out, with the array-index keys first in ascending order, as JavaScript
// enumerates them. Rare, so it may allocate.
func (c *canonicalizer) reorder(bodyStart int, ms []member) {
	sorted := slices.Clone(ms)
	slices.SortStableFunc(sorted, func(a, b member) int {
		ia, aok := arrayIndex(c.key(a))
		ib, bok := arrayIndex(c.key(b))
		switch {
		case aok && bok:
			return int(ia - ib)
		case aok:
			return -1
		case bok:
			return 1
		}
		return 0
	})
	buf := c.scratch[:0]
	for i, m := range sorted {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, c.out[m.start:m.end]...)
	}
	copy(c.out[bodyStart:], buf)
	c.scratch = buf
}

// arrayIndex reports whether the (canonical) key is an array index in
// ECMAScript's sense, the canonical decimal form of an integer from 0 to
// 2^32-2, and returns it.
func arrayIndex(key []byte) (int64, bool) {
	if len(key) == 0 || len(key) > 10 || (key[0] == '0' && len(key) > 1) {
		return 0, false
	}
	var n int64
	for _, b := range key {
		if b < '0' || b > '9' {
			return 0, false
		}
		n = n*10 + int64(b-'0')
	}
	return n, n <= 1<<32-2
}

// safe marks the ASCII bytes that stand for themselves inside a string.
var safe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// str reads a string at c.pos (on its opening quote) and writes it escaped
// as JSON.stringify escapes.
func (c *canonicalizer) str() error {
	in := c.in
	i := c.pos + 1
	c.out = append(c.out, '"')
	start := i
	for {
		if i >= len(in) {
			c.pos = i
			return hookd.Errorf(hookd.EINVALID, "data is not valid JSON: unterminated string")
		}
		b := in[i]
		if b < utf8.RuneSelf {
			if safe[b] {
				i++
				continue
			}
			c.out = append(c.out, in[start:i]...)
			switch b {
			case '"':
				c.out = append(c.out, '"')
				c.pos = i + 1
				return nil
			case '\\':
				next, err := c.escape(i)
				if err != nil {
					return err
				}
				i = next
				start = i
				continue
			default:
				c.pos = i
				return hookd.Errorf(hookd.EINVALID, "data is not valid JSON: control character 0x%02x in a string at offset %d", b, i)
			}
		}
		r, size := utf8.DecodeRune(in[i:])
		if r == utf8.RuneError && size == 1 {
			return hookd.Errorf(hookd.EINVALID, "data is not valid UTF-8 (offset %d)", i)
		}
		i += size
	}
}

// escape reads the escape sequence at in[i] (a backslash), writes its
// canonical form, and returns the offset after it.
func (c *canonicalizer) escape(i int) (int, error) {
	in := c.in
	if i+1 >= len(in) {
		c.pos = len(in)
		return 0, c.syntaxError("")
	}
	switch in[i+1] {
	case '"':
		c.out = append(c.out, '\\', '"')
	case '\\':
		c.out = append(c.out, '\\', '\\')
	case '/':
		c.out = append(c.out, '/')
	case 'b':
		c.out = append(c.out, '\\', 'b')
	case 'f':
		c.out = append(c.out, '\\', 'f')
	case 'n':
		c.out = append(c.out, '\\', 'n')
	case 'r':
		c.out = append(c.out, '\\', 'r')
	case 't':
		c.out = append(c.out, '\\', 't')
	case 'u':
		r, ok := hex4(in, i+2)
		if !ok {
			return 0, hookd.Errorf(hookd.EINVALID, "data is not valid JSON: bad \\u escape at offset %d", i)
		}
		i += 6
		switch {
		case r >= 0xd800 && r < 0xdc00:
			// A high surrogate makes a character with an escaped low one
			// right after it; alone, it stays escaped.
			if i+1 < len(in) && in[i] == '\\' && in[i+1] == 'u' {
				if lo, ok := hex4(in, i+2); ok && lo >= 0xdc00 && lo < 0xe000 {
					c.out = utf8.AppendRune(c.out, 0x10000+(r-0xd800)<<10+(lo-0xdc00))
					return i + 6, nil
				}
			}
			c.out = appendU(c.out, r)
		case r >= 0xdc00 && r < 0xe000:
			c.out = appendU(c.out, r)
		default:
			c.out = appendRune(c.out, r)
		}
		return i, nil
	default:
		c.pos = i + 1
		return 0, hookd.Errorf(hookd.EINVALID, "data is not valid JSON: bad escape \\%c at offset %d", in[i+1], i)
	}
	return i + 2, nil
}

// hex4 decodes the four hex digits at in[i:].
func hex4(in []byte, i int) (rune, bool) {
	if i+4 > len(in) {
		return 0, false
	}
	var r rune
	for _, b := range in[i : i+4] {
		switch {
		case b >= '0' && b <= '9':
			b -= '0'
		case b >= 'a' && b <= 'f':
			b -= 'a' - 10
		case b >= 'A' && b <= 'F':
			b -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(b)
	}
	return r, true
}

const hexDigits = "0123456789abcdef"

// appendU appends the escape \uXXXX with lowercase hex digits.
func appendU(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// appendRune appends one character (not a surrogate) as JSON.stringify
// writes it inside a string.
func appendRune(dst []byte, r rune) []byte {
	switch r {
	case '"':
		return append(dst, '\\', '"')
	case '\\':
		return append(dst, '\\', '\\')
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	if r < 0x20 {
		return appendU(dst, r)
	}
	return utf8.AppendRune(dst, r)
}

// appendJSString appends s, a Go string, as a JSON string in canonical form.
// It fails on invalid UTF-8.
func appendJSString(dst []byte, s string) ([]byte, bool) {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if safe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = appendRune(dst, rune(b))
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return dst, false
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), true
}

// number reads a JSON number and writes ECMAScript's Number::toString of
// its float64 value.
func (c *canonicalizer) number() error {
	in := c.in
	start := c.pos
	i := start
	if in[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(in) && in[i] == '0':
		i++
	case i < len(in) && in[i] >= '1' && in[i] <= '9':
		digits()
	default:
		c.pos = i
		return c.syntaxError("in a number")
	}
	intDigits := i - start
	if in[start] == '-' {
		intDigits--
	}
	simple := true
	if i < len(in) && in[i] == '.' {
		i++
		simple = false
		if digits() == 0 {
			c.pos = i
			return c.syntaxError("in a number")
		}
	}
	if i < len(in) && (in[i] == 'e' || in[i] == 'E') {
		i++
		simple = false
		if i < len(in) && (in[i] == '+' || in[i] == '-') {
			i++
		}
		if digits() == 0 {
			c.pos = i
			return c.syntaxError("in a number")
		}
	}
	c.pos = i
	num := in[start:i]
	// An integer of up to 15 digits is exactly a float64 and prints as
	// itself; only -0 changes.
	if simple && intDigits <= 15 {
		if len(num) == 2 && num[0] == '-' && num[1] == '0' {
			c.out = append(c.out, '0')
		} else {
			c.out = append(c.out, num...)
		}
		return nil
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		// The grammar is checked above, so this is a range error.
		return hookd.Errorf(hookd.EINVALID, "data has a number out of range: %.40s", num)
	}
	c.out = appendNumber(c.out, f)
	return nil
}

// appendNumber appends ECMAScript's Number::toString(f) for a finite f.
func appendNumber(dst []byte, f float64) []byte {
	if f == 0 {
		return append(dst, '0') // both zeros
	}
	var buf [32]byte
	// Shortest round-trip digits, as d.ddde±x.
	b := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	if b[0] == '-' {
		dst = append(dst, '-')
		b = b[1:]
	}
	e := bytes.IndexByte(b, 'e')
	var digs [24]byte
	d := append(digs[:0], b[0])
	if e > 1 {
		d = append(d, b[2:e]...)
	}
	exp := 0
	neg := b[e+1] == '-'
	for _, x := range b[e+2:] {
		exp = exp*10 + int(x-'0')
	}
	if neg {
		exp = -exp
	}
	// f = 0.d1d2...dk × 10^n in ECMAScript's terms.
	k, n := len(d), exp+1
	switch {
	case k <= n && n <= 21:
		dst = append(dst, d...)
		for range n - k {
			dst = append(dst, '0')
		}
	case 0 < n && n <= 21:
		dst = append(dst, d[:n]...)
		dst = append(dst, '.')
		dst = append(dst, d[n:]...)
	case -6 < n && n <= 0:
		dst = append(dst, '0', '.')
		for range -n {
			dst = append(dst, '0')
		}
		dst = append(dst, d...)
	default:
		dst = append(dst, d[0])
		if k > 1 {
			dst = append(dst, '.')
			dst = append(dst, d[1:]...)
		}
		dst = append(dst, 'e')
		if n-1 >= 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, int64(n-1), 10)
	}
	return dst
}
