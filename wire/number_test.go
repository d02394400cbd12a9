package wire

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// appendShortDecimal must print exactly what the float64 path prints.
func TestShortDecimalMatchesFloatPath(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	fast := 0
	for i := range 200000 {
		var num string
		switch i % 4 {
		case 0: // up to 17 significant digits, some trailing or leading zeros
			num = fmt.Sprintf("%d.%s", r.IntN(1000), strings.Repeat("0", r.IntN(4))+strconv.Itoa(r.IntN(1e9))+strings.Repeat("0", r.IntN(3)))
		case 1:
			num = fmt.Sprintf("%d.%de%d", r.IntN(100), r.IntN(1e8), r.IntN(640)-320)
		case 2:
			num = fmt.Sprintf("0.%s%d", strings.Repeat("0", r.IntN(12)), r.Int64N(1e16))
		default:
			num = strconv.Itoa(r.IntN(1e6)) + strings.Repeat("0", r.IntN(25)) + []string{"", "e-30", "E+2", "e0", ".0"}[r.IntN(5)]
		}
		if r.IntN(2) == 0 {
			num = "-" + num
		}
		got, ok := appendShortDecimal(nil, []byte(num))
		if !ok {
			continue
		}
		fast++
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			t.Fatalf("%s: %v", num, err)
		}
		if want := appendNumber(nil, f); string(got) != string(want) {
			t.Fatalf("%s: short path %s, float path %s", num, got, want)
		}
	}
	if fast < 100000 {
		t.Fatalf("only %d numbers took the short path", fast)
	}
}
