package wire

import (
	"bytes"
	"fmt"
	"hash/maphash"
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
	// A guess at the member count that saves most regrowth; each member
	// takes at least 6 bytes ("k":0,) and most far more.
	c := canonicalizer{in: data, out: dst, members: make([]member, 0, min(16+len(data)/32, 1024))}
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
	// table holds the open-addressing hash tables (indexes into members,
	// plus one; 0 is empty) of the objects being read that have more than
	// linearKeys keys, innermost last.
	table   []int32
	seed    maphash.Seed
	seeded  bool
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
	tab := -1 // start of this object's hash table in c.table, once it has one
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

		if n := len(c.members) - first; n < linearKeys {
			for _, o := range c.members[first:] {
				if bytes.Equal(c.key(o), key) {
					return c.duplicate(key)
				}
			}
		} else {
			if tab < 0 || 2*(n+1) > len(c.table)-tab {
				tab = c.rehash(tab, first)
			}
			if !c.insert(c.table[tab:], key, int32(len(c.members))) {
				return c.duplicate(key)
			}
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
			if tab >= 0 {
				c.table = c.table[:tab]
			}
			c.out = append(c.out, '}')
			return nil
		default:
			return c.syntaxError("in an object")
		}
	}
}

// rehash (re)builds the hash table of the object whose members start at
// first, twice as large as before, at the end of c.table (where a table
// being grown always is, since inner objects have released theirs), and
// returns its start.
func (c *canonicalizer) rehash(tab, first int) int {
	if !c.seeded {
		c.seed, c.seeded = maphash.MakeSeed(), true
	}
	size := 4 * linearKeys
	if tab >= 0 {
		size = 2 * (len(c.table) - tab)
		c.table = c.table[:tab]
	}
	tab = len(c.table)
	c.table = append(c.table, make([]int32, size)...)
	for i := first; i < len(c.members); i++ {
		c.insert(c.table[tab:], c.key(c.members[i]), int32(i))
	}
	return tab
}

// insert adds the key of member index i to the hash table t, and reports
// false, adding nothing, when an equal key is there already.
func (c *canonicalizer) insert(t []int32, key []byte, i int32) bool {
	mask := uint64(len(t) - 1)
	for h := maphash.Bytes(c.seed, key) & mask; ; h = (h + 1) & mask {
		switch j := t[h]; {
		case j == 0:
			t[h] = i + 1
			return true
		case bytes.Equal(c.key(c.members[j-1]), key):
			return false
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
	if out, ok := appendShortDecimal(c.out, num); ok {
		c.out = out
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

// appendShortDecimal formats num, a number in JSON's grammar, without
// going through float64 when it has at most 15 significant digits and a
// decimal exponent well inside the normal float64 range. Such a decimal
// survives the round trip through float64, and no shorter digit string
// maps to the same float64 (else two decimals of at most 15 digits would),
// so its own significant digits are the shortest ones ECMAScript prints.
// It reports false, appending nothing, for other numbers.
func appendShortDecimal(dst, num []byte) ([]byte, bool) {
	var digs [15]byte
	nd, zeros, lead, intDigits := 0, 0, 0, 0
	i := 0
	neg := num[0] == '-'
	if neg {
		i++
	}
	inFrac := false
	for ; i < len(num); i++ {
		b := num[i]
		if b == '.' {
			inFrac = true
			continue
		}
		if b < '0' || b > '9' {
			break
		}
		if !inFrac {
			intDigits++
		}
		switch {
		case b == '0' && nd == 0:
			lead++ // a leading zero
		case b == '0':
			zeros++ // trailing, unless a nonzero digit follows
		default:
			if nd+zeros >= len(digs) {
				return dst, false
			}
			for ; zeros > 0; zeros-- {
				digs[nd] = '0'
				nd++
			}
			digs[nd] = b
			nd++
		}
	}
	exp := 0
	if i < len(num) { // e or E
		i++
		expNeg := num[i] == '-'
		if num[i] == '-' || num[i] == '+' {
			i++
		}
		for ; i < len(num); i++ {
			exp = exp*10 + int(num[i]-'0')
			if exp > 1000 {
				return dst, false
			}
		}
		if expNeg {
			exp = -exp
		}
	}
	if nd == 0 {
		return append(dst, '0'), true // both zeros
	}
	// The value is 0.d1...dk × 10^n.
	n := intDigits - lead + exp
	if n <= -300 || n >= 300 {
		return dst, false
	}
	if neg {
		dst = append(dst, '-')
	}
	return appendECMA(dst, digs[:nd], n), true
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
	return appendECMA(dst, d, exp+1)
}

// appendECMA appends the positive number 0.d1d2...dk × 10^n, d being its
// shortest significant digits, as ECMAScript's Number::toString writes it:
// decimal notation from 1e-7 (exclusive) up to 1e21, exponent notation
// outside.
func appendECMA(dst, d []byte, n int) []byte {
	k := len(d)
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
