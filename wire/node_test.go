package wire_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookd/hookd/wire"
)

// nodeScript reads a JSON array of base64 inputs on stdin and prints, for
// each, the base64 of JSON.stringify(JSON.parse(input)), or null when
// JSON.parse throws.
const nodeScript = `
let s = ""; process.stdin.setEncoding("utf8");
process.stdin.on("data", d => s += d);
process.stdin.on("end", () => {
  const out = JSON.parse(s).map(b64 => {
    const x = Buffer.from(b64, "base64").toString("utf8");
    let v;
    try { v = JSON.parse(x); } catch (e) { return null; }
    return Buffer.from(JSON.stringify(v), "utf8").toString("base64");
  });
  process.stdout.write(JSON.stringify(out));
});`

// runNode returns JSON.stringify(JSON.parse(x)) for each input, nil where
// JavaScript refuses the input.
func runNode(tb testing.TB, inputs []string) [][]byte {
	tb.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("node is not on PATH and CI is set: install Node.js to run the JavaScript cross-check")
		}
		tb.Skip("node is not on PATH: skipping the JavaScript cross-check (it is required when CI is set)")
	}
	enc := make([]string, len(inputs))
	for i, in := range inputs {
		enc[i] = base64.StdEncoding.EncodeToString([]byte(in))
	}
	stdin, err := json.Marshal(enc)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(node, "-e", nodeScript)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		tb.Fatalf("node: %v\n%s", err, stderr.Bytes())
	}
	var outs []*string
	if err := json.Unmarshal(stdout, &outs); err != nil {
		tb.Fatalf("node output: %v", err)
	}
	if len(outs) != len(inputs) {
		tb.Fatalf("node answered %d inputs of %d", len(outs), len(inputs))
	}
	res := make([][]byte, len(outs))
	for i, o := range outs {
		if o == nil {
			continue
		}
		if res[i], err = base64.StdEncoding.DecodeString(*o); err != nil {
			tb.Fatal(err)
		}
	}
	return res
}

// TestCanonicalObjectMatchesJavaScript compares CanonicalObject with
// JSON.stringify(JSON.parse(x)) as Node.js computes it, over the table
// cases and a generated corpus heavy in numbers, escapes and index keys.
func TestCanonicalObjectMatchesJavaScript(t *testing.T) {
	t.Parallel()
	var inputs []string
	for _, c := range canonicalCases {
		inputs = append(inputs, c.in)
	}
	for _, c := range invalidCases {
		if utf8.ValidString(c.in) && len(c.in) < 10000 { // node reads UTF-8; skip what it cannot be given
			inputs = append(inputs, c.in)
		}
	}
	inputs = append(inputs, generatedCorpus(rand.New(rand.NewPCG(1, 2)), 3000)...)

	js := runNode(t, inputs)
	compared := 0
	for i, in := range inputs {
		got, err := wire.CanonicalObject([]byte(in))
		want := js[i]
		switch {
		case err == nil && want == nil:
			t.Errorf("JavaScript refuses %q, CanonicalObject gives %s", in, got)
		case err == nil && !bytes.Equal(got, want):
			t.Errorf("input %q\n got %s\nwant %s", in, got, want)
		case err != nil && want != nil && len(want) > 0 && want[0] == '{':
			// Refusals beyond JavaScript's, by design.
			msg := err.Error()
			if !strings.Contains(msg, "duplicate key") && !strings.Contains(msg, "out of range") &&
				!strings.Contains(msg, "nested more than") {
				t.Errorf("CanonicalObject(%q) = %v, but JavaScript accepts it: %s", in, err, want)
			}
		}
		if err == nil {
			compared++
		}
	}
	t.Logf("%d inputs, %d compared byte for byte with Node.js", len(inputs), compared)
}

// generatedCorpus returns n objects built from random numbers, strings and
// keys that stress the canonical form.
func generatedCorpus(r *rand.Rand, n int) []string {
	var out []string
	for i := range n {
		var b strings.Builder
		b.WriteString("{")
		members := 1 + r.IntN(6)
		used := map[string]bool{}
		for m := range members {
			k := randKey(r)
			if used[k] {
				continue
			}
			used[k] = true
			if m > 0 && b.Len() > 1 {
				b.WriteString(",")
			}
			b.WriteString(`"` + k + `":`)
			switch (i + m) % 3 {
			case 0:
				b.WriteString(randNumber(r))
			case 1:
				b.WriteString(randString(r))
			default:
				b.WriteString("[" + randNumber(r) + "," + randString(r) + `,{"` + randKey(r) + `":` + randNumber(r) + "}]")
			}
		}
		b.WriteString("}")
		out = append(out, b.String())
	}
	return out
}

func randKey(r *rand.Rand) string {
	switch r.IntN(6) {
	case 0:
		return strconv.Itoa(r.IntN(20)) // an array index
	case 1:
		return strconv.FormatUint(uint64(r.Uint32()), 10) // an index, or 4294967295
	case 2:
		return "0" + strconv.Itoa(r.IntN(10)) // not an index
	default:
		return strings.Trim(randString(r), `"`)
	}
}

func randNumber(r *rand.Rand) string {
	switch r.IntN(8) {
	case 0: // any finite float64, in Go's shortest form
		for {
			f := math.Float64frombits(r.Uint64())
			if !math.IsNaN(f) && !math.IsInf(f, 0) {
				return strconv.FormatFloat(f, 'g', -1, 64)
			}
		}
	case 1: // a float64 written with too many or too few digits
		f := math.Float64frombits(r.Uint64() >> 2)
		return strconv.FormatFloat(f, 'e', r.IntN(25), 64)
	case 2: // a moderate value in plain decimal notation
		return strconv.FormatFloat((r.Float64()-0.5)*math.Pow(10, float64(r.IntN(40)-15)), 'f', -1, 64)
	case 3: // an integer of 1 to 25 digits
		d := 1 + r.IntN(25)
		s := strconv.Itoa(1 + r.IntN(9))
		for range d - 1 {
			s += strconv.Itoa(r.IntN(10))
		}
		if r.IntN(2) == 0 {
			s = "-" + s
		}
		return s
	case 4: // around the decimal/exponent switch points
		e := []int{-8, -7, -6, -5, 19, 20, 21, 22}[r.IntN(8)]
		return fmt.Sprintf("%d.%de%d", 1+r.IntN(9), r.IntN(1000), e)
	case 5: // small decimals
		return fmt.Sprintf("%d.%0*d", r.IntN(100), 1+r.IntN(5), r.IntN(100000))
	case 6: // exponents near the ends of the range
		return fmt.Sprintf("%d.%dE%+d", 1+r.IntN(9), r.IntN(1e6), []int{-330, -324, -323, -308, -307, 300, 307, 308}[r.IntN(8)])
	default:
		return []string{"0", "-0", "0.0", "-0.0", "0e5", "1E0", "1e+0", "1e-0", "100e-2"}[r.IntN(9)]
	}
}

func randString(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString(`"`)
	for range r.IntN(8) {
		switch r.IntN(9) {
		case 0:
			fmt.Fprintf(&b, `\u%04x`, r.IntN(0x80))
		case 1:
			fmt.Fprintf(&b, `\u%04X`, 0xd800+r.IntN(0x800)) // a surrogate, paired by chance
		case 2:
			fmt.Fprintf(&b, `\ud83d\u%04x`, 0xdc00+r.IntN(0x400))
		case 3:
			b.WriteString([]string{`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`}[r.IntN(8)])
		case 4:
			b.WriteRune([]rune{'<', '>', '&', '\u2028', '\u2029', 0x7f, 'é', '中', '😀', 0xfeff}[r.IntN(10)])
		case 5:
			fmt.Fprintf(&b, `\u%04x`, r.IntN(0x10000))
		default:
			b.WriteByte(byte('a' + r.IntN(26)))
		}
	}
	b.WriteString(`"`)
	return b.String()
}
