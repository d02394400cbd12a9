package wire_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/wire"
)

// canonicalCases are inputs with the exact bytes JSON.stringify(JSON.parse(x))
// gives; the node test replays them too.
var canonicalCases = []struct {
	name, in, want string
}{
	{"empty", `{}`, `{}`},
	{"whitespace", " \t\r\n{ \"a\" : 1 ,\n\"b\":[ 1 , 2 ] , \"c\" : { } , \"d\" : [ ] }\n ", `{"a":1,"b":[1,2],"c":{},"d":[]}`},
	{"literals", `{"t":true,"f":false,"n":null}`, `{"t":true,"f":false,"n":null}`},
	{"input order kept", `{"z":1,"a":2,"m":{"y":1,"b":2}}`, `{"z":1,"a":2,"m":{"y":1,"b":2}}`},
	{"no html escaping", `{"s":"<a href='x'>&amp;</a>"}`, `{"s":"<a href='x'>&amp;</a>"}`},
	{"escaped html unescaped", `{"s":"\u003c\u003E\u0026"}`, `{"s":"<>&"}`},
	{"line separators literal", "{\"s\":\"\\u2028\\u2029\u2028\"}", "{\"s\":\"\u2028\u2029\u2028\"}"},
	{"solidus", `{"s":"a\/b/c"}`, `{"s":"a/b/c"}`},
	{"short escapes", `{"s":"\"\\\b\f\n\r\t"}`, `{"s":"\"\\\b\f\n\r\t"}`},
	{"short escapes from \\u", `{"s":"\u0022\u005c\u0008\u000C\u000a\u000D\u0009"}`, `{"s":"\"\\\b\f\n\r\t"}`},
	{"other controls lowercase", `{"s":"\u0000\u0001\u001F\u000b\u000E"}`, `{"s":"\u0000\u0001\u001f\u000b\u000e"}`},
	{"DEL literal", `{"s":"\u007f"}`, "{\"s\":\"\x7f\"}"},
	{"non-ASCII literal", `{"s":"\u00e9\u4e2d","é":"中"}`, `{"s":"é中","é":"中"}`},
	{"surrogate pair joined", `{"s":"\ud83d\ude00\uD83D\uDE00"}`, `{"s":"😀😀"}`},
	{"lone high", `{"s":"\uD83D"}`, `{"s":"\ud83d"}`},
	{"lone high then text", `{"s":"\ud83dx"}`, `{"s":"\ud83dx"}`},
	{"lone low", `{"s":"\uDE00"}`, `{"s":"\ude00"}`},
	{"low then high", `{"s":"\ude00\ud83d"}`, `{"s":"\ude00\ud83d"}`},
	{"high high low", `{"s":"\ud83d\ud83d\ude00"}`, `{"s":"\ud83d😀"}`},
	{"high then non-surrogate escape", `{"s":"\ud83d\u0041"}`, `{"s":"\ud83dA"}`},
	{"escaped key", `{"\u0061":1}`, `{"a":1}`},
	{"integers", `{"a":0,"b":-0,"c":123,"d":-45,"e":999999999999999}`, `{"a":0,"b":0,"c":123,"d":-45,"e":999999999999999}`},
	{"floats", `{"a":1.0,"b":1.50,"c":-0.0,"d":0.1,"e":-2.5e0}`, `{"a":1,"b":1.5,"c":0,"d":0.1,"e":-2.5}`},
	{"exponents to decimal", `{"a":1e3,"b":1E+2,"c":12e-1,"d":1e20,"e":1e-6}`, `{"a":1000,"b":100,"c":1.2,"d":100000000000000000000,"e":0.000001}`},
	{"exponent form", `{"a":1e21,"b":1e-7,"c":1.5e-7,"d":-1.5e300,"e":123456789012345678901234}`, `{"a":1e+21,"b":1e-7,"c":1.5e-7,"d":-1.5e+300,"e":1.2345678901234569e+23}`},
	{"decimal edges", `{"a":999999999999999999999,"b":0.0000001234,"c":0.000001234}`, `{"a":1e+21,"b":1.234e-7,"c":0.000001234}`},
	{"beyond 2^53", `{"a":9007199254740993,"b":12345678901234567890}`, `{"a":9007199254740992,"b":12345678901234567000}`},
	{"float extremes", `{"a":5e-324,"b":1.7976931348623157e308,"c":2.2250738585072014e-308,"d":1e-400,"e":-1e-400}`, `{"a":5e-324,"b":1.7976931348623157e+308,"c":2.2250738585072014e-308,"d":0,"e":0}`},
	{"shortest digits", `{"a":0.30000000000000004,"b":0.1000000000000000055511151231257827,"c":100.0000000000000001}`, `{"a":0.30000000000000004,"b":0.1,"c":100}`},
	{"index keys first", `{"b":1,"2":2,"1":3,"a":4}`, `{"1":3,"2":2,"b":1,"a":4}`},
	{"index keys sorted numerically", `{"10":1,"9":2,"0":3}`, `{"0":3,"9":2,"10":1}`},
	{"not index keys", `{"x":0,"01":1,"-1":2,"1.0":3,"4294967295":4,"4294967294":5}`, `{"4294967294":5,"x":0,"01":1,"-1":2,"1.0":3,"4294967295":4}`},
	{"nested index keys", `{"a":[{"b":1,"0":2}],"1":{"c":3,"2":4}}`, `{"1":{"2":4,"c":3},"a":[{"0":2,"b":1}]}`},
	{"escaped index key", `{"a":1,"\u0031":2}`, `{"1":2,"a":1}`},
	{"many keys", manyKeys(40, false), manyKeys(40, false)},
	{"proto key", `{"__proto__":{"a":1},"constructor":2}`, `{"__proto__":{"a":1},"constructor":2}`},
	{"empty key", `{"":1}`, `{"":1}`},
	{"nested arrays", `{"a":[[[]],[{}],[1,"x",null]]}`, `{"a":[[[]],[{}],[1,"x",null]]}`},
	{"max depth", nested(wire.MaxDepth), nested(wire.MaxDepth)},
}

// manyKeys returns an object with n keys k0..k{n-1}, the last one repeated
// when dup is set.
func manyKeys(n int, dup bool) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `":1`)
	}
	if dup {
		b.WriteString(`,"kaa":2`)
		if n <= 2 {
			panic("too few keys to repeat")
		}
	}
	b.WriteString("}")
	return b.String()
}

// nested returns an object nested depth levels deep, counting itself.
func nested(depth int) string {
	return strings.Repeat(`{"a":`, depth-1) + "{}" + strings.Repeat("}", depth-1)
}

func TestCanonicalObject(t *testing.T) {
	t.Parallel()
	for _, tt := range canonicalCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := wire.CanonicalObject([]byte(tt.in))
			if err != nil {
				t.Fatalf("CanonicalObject(%s): %v", tt.in, err)
			}
			if string(got) != tt.want {
				t.Fatalf("CanonicalObject(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			}
			again, err := wire.CanonicalObject(got)
			if err != nil || string(again) != string(got) {
				t.Fatalf("not idempotent: %s -> %s, %v", got, again, err)
			}
		})
	}
}

var invalidCases = []struct {
	name, in, msg string // msg: part of the error message
}{
	{"empty", ``, "must be a JSON object"},
	{"blank", " \n", "must be a JSON object"},
	{"array", `[1,2]`, "data must be a JSON object"},
	{"string", `"x"`, "data must be a JSON object"},
	{"number", `1`, "data must be a JSON object"},
	{"null", `null`, "data must be a JSON object"},
	{"two objects", `{}{}`, "not valid JSON"},
	{"trailing garbage", `{"a":1}x`, "not valid JSON"},
	{"duplicate", `{"a":1,"a":2}`, `data has a duplicate key "a"`},
	{"duplicate through escape", `{"a":1,"\u0061":2}`, `data has a duplicate key "a"`},
	{"nested duplicate", `{"x":[{"b":1,"c":2,"b":3}]}`, `data has a duplicate key "b"`},
	{"duplicate in a big object", manyKeys(40, true), `data has a duplicate key "kaa"`},
	{"duplicate index key", `{"1":1,"a":2,"1":3}`, `data has a duplicate key "1"`},
	{"leading zero", `{"a":01}`, "not valid JSON"},
	{"bare dot", `{"a":1.}`, "not valid JSON"},
	{"dot first", `{"a":.5}`, "not valid JSON"},
	{"plus", `{"a":+1}`, "not valid JSON"},
	{"empty exponent", `{"a":1e}`, "not valid JSON"},
	{"minus alone", `{"a":-}`, "not valid JSON"},
	{"NaN", `{"a":NaN}`, "not valid JSON"},
	{"Infinity", `{"a":Infinity}`, "not valid JSON"},
	{"hex", `{"a":0x10}`, "not valid JSON"},
	{"out of range", `{"a":1e400}`, "out of range"},
	{"negative out of range", `{"a":-1.8e308}`, "out of range"},
	{"invalid UTF-8", "{\"a\":\"\xff\"}", "not valid UTF-8"},
	{"invalid UTF-8 key", "{\"\xc3\":1}", "not valid UTF-8"},
	{"encoded surrogate", "{\"a\":\"\xed\xa0\x80\"}", "not valid UTF-8"},
	{"raw newline in string", "{\"a\":\"x\ny\"}", "control character"},
	{"raw tab in string", "{\"a\":\"\t\"}", "control character"},
	{"bad escape", `{"a":"\x"}`, "bad escape"},
	{"short \\u", `{"a":"\u12"}`, "bad \\u escape"},
	{"non-hex \\u", `{"a":"\u12G4"}`, "bad \\u escape"},
	{"unterminated string", `{"a":"abc`, "unterminated string"},
	{"single quotes", `{'a':1}`, "not valid JSON"},
	{"bare key", `{a:1}`, "not valid JSON"},
	{"missing colon", `{"a" 1}`, "not valid JSON"},
	{"trailing comma", `{"a":1,}`, "not valid JSON"},
	{"trailing comma in array", `{"a":[1,]}`, "not valid JSON"},
	{"missing comma", `{"a":1 "b":2}`, "not valid JSON"},
	{"unclosed", `{"a":[1,2}`, "not valid JSON"},
	{"truncated", `{"a":`, "unexpected end of input"},
	{"truncated literal", `{"a":tru}`, "not valid JSON"},
	{"capital literal", `{"a":True}`, "not valid JSON"},
	{"BOM", "\xef\xbb\xbf{}", "not valid JSON"},
	{"comment", `{"a":1 /* no */}`, "not valid JSON"},
	{"too deep", nested(wire.MaxDepth + 1), "nested more than 128 levels"},
	{"too deep arrays", `{"a":` + strings.Repeat("[", wire.MaxDepth) + strings.Repeat("]", wire.MaxDepth) + "}", "nested more than 128 levels"},
	{"very deep", strings.Repeat("[", 100000), "nested more than 128 levels"},
}

func TestCanonicalObjectInvalid(t *testing.T) {
	t.Parallel()
	for _, tt := range invalidCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := wire.CanonicalObject([]byte(tt.in))
			if err == nil {
				t.Fatalf("CanonicalObject(%q) = %s, want an error", tt.in, got)
			}
			var he *hookd.Error
			if !errors.As(err, &he) || he.Code != hookd.EINVALID {
				t.Fatalf("error %v is not a *hookd.Error with code %s", err, hookd.EINVALID)
			}
			if !strings.Contains(he.Message, tt.msg) {
				t.Fatalf("message %q does not say %q", he.Message, tt.msg)
			}
		})
	}
}
