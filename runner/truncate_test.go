package runner

import (
	"testing"
	"unicode/utf8"
)

func TestTruncateCutsOnRuneBoundary(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc…"},
		{"aé", 2, "a…"},  // byte 2 is inside é
		{"日本語", 4, "日…"}, // 3-byte runes
		{"日本語", 6, "日本…"},
		{"é", 1, "…"},
		{"x" + "éééé", 4, "xé…"}, // byte 4 is inside the second é
	} {
		got := truncate(c.in, c.n)
		if got != c.want || !utf8.ValidString(got) {
			t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
