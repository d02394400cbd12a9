package hookd_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookd/hookd"
)

func TestStorableText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		in    string
		limit int
		want  string
	}{
		{"empty", "", 10, ""},
		{"ascii kept", "connection refused", 0, "connection refused"},
		{"utf-8 kept", "héllo ☃ 𝄞", 0, "héllo ☃ 𝄞"},
		{"U+FFFD kept", "a\uFFFDb", 0, "a\uFFFDb"},
		{"NUL replaced", "a\x00b", 0, "a\uFFFDb"},
		{"NULs replaced each", "\x00\x00", 0, "\uFFFD\uFFFD"},
		{"invalid byte replaced", "a\xffb", 0, "a\uFFFDb"},
		{"truncated rune replaced", "ab\xe2\x98", 0, "ab\uFFFD\uFFFD"},
		{"surrogate replaced", "\xed\xa0\x80", 0, "\uFFFD\uFFFD\uFFFD"},
		{"tls name with NUL", "x509: certificate is valid for evil.com\x00.bank.com", 0, "x509: certificate is valid for evil.com\uFFFD.bank.com"},
		{"cut at the limit", "abcdef", 3, "abc"},
		{"shorter than the limit", "abc", 10, "abc"},
		{"exactly the limit", "abc", 3, "abc"},
		{"cut before a split rune", "ab☃", 4, "ab"},
		{"cut after a whole rune", "ab☃c", 5, "ab☃"},
		{"replacement counts its three bytes", "a\xff", 3, "a"},
		{"replacement fits", "a\xff", 4, "a\uFFFD"},
		{"NUL then cut", "\x00abc", 4, "\uFFFDa"},
		{"negative limit means none", "a\x00", -1, "a\uFFFD"},
	} {
		if got := hookd.StorableText(tc.in, tc.limit); got != tc.want {
			t.Errorf("%s: StorableText(%q, %d) = %q, want %q", tc.name, tc.in, tc.limit, got, tc.want)
		}
	}
}

func TestStorableTextKeepsStorableTextWithoutAllocating(t *testing.T) {
	s := strings.Repeat("an answer body, ünïcödé too; ", 100)
	if n := testing.AllocsPerRun(100, func() {
		if hookd.StorableText(s, 4096) == "" {
			t.Fatal("empty")
		}
	}); n != 0 {
		t.Errorf("StorableText allocates %v times for storable text, want 0", n)
	}
}

func FuzzStorableText(f *testing.F) {
	for _, seed := range []string{"", "ok", "a\x00b", "\xff\xfe", "héllo ☃ 𝄞", "ab\xe2\x98", "\xed\xa0\x80"} {
		f.Add(seed, 0)
		f.Add(seed, 3)
	}
	f.Fuzz(func(t *testing.T, in string, limit int) {
		got := hookd.StorableText(in, limit)
		if !utf8.ValidString(got) {
			t.Errorf("StorableText(%q, %d) = %q, not valid UTF-8", in, limit, got)
		}
		if strings.Contains(got, "\x00") {
			t.Errorf("StorableText(%q, %d) = %q holds NUL", in, limit, got)
		}
		if limit > 0 && len(got) > limit {
			t.Errorf("StorableText(%q, %d) = %q, %d bytes over the limit", in, limit, got, len(got))
		}
		fine := utf8.ValidString(in) && !strings.Contains(in, "\x00")
		if fine && (limit <= 0 || len(in) <= limit) && got != in {
			t.Errorf("StorableText(%q, %d) = %q, want the storable input unchanged", in, limit, got)
		}
		if fine && limit > 0 && len(in) > limit && !strings.HasPrefix(in, got) {
			t.Errorf("StorableText(%q, %d) = %q, want a prefix of the storable input", in, limit, got)
		}
	})
}

func BenchmarkStorableText(b *testing.B) {
	for _, bc := range []struct {
		name string
		in   string
	}{
		{"ascii-error", "dial tcp 127.0.0.1:443: connect: connection refused"},
		{"ascii-body-4KiB", strings.Repeat(`{"ok":true,"id":"evt_01"} `, 4096/26)},
		{"utf8-body-4KiB", strings.Repeat("ok ünïcödé ☃ ", 4096/17)},
		{"nul-body-4KiB", strings.Repeat("ok\x00 ", 4096/4)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.in)))
			b.ReportAllocs()
			for b.Loop() {
				hookd.StorableText(bc.in, 4096)
			}
		})
	}
}
