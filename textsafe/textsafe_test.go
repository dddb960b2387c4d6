package textsafe

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	r := NewRedactor("sk-abc/def+123456", "short", "", "sk-abc/def+123456-longer")
	cases := []struct{ in, want string }{
		{"key sk-abc/def+123456 refused", "key [REDACTED] refused"},
		{"key sk-abc/def+123456-longer refused", "key [REDACTED] refused"},
		{`{"k":"sk-abc\/def+123456"}`, `{"k":"[REDACTED]"}`},
		{"url ?key=sk-abc%2Fdef%2B123456", "url ?key=[REDACTED]"},
		{"cut sk-abc/def+1…", "cut [REDACTED]…"},
		{"short stays short", "short stays short"},
		{"nothing here", "nothing here"},
	}
	for _, c := range cases {
		if got := r.Redact(c.in); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	var none *Redactor
	if none.Redact("x") != "x" {
		t.Error("a nil redactor changed the text")
	}
}

func TestTerminal(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain\ttext\nok", "plain\ttext\nok"},
		{"\x1b[2Jclear", `\x1b[2Jclear`},
		{"title\x1b]0;x\x07", `title\x1b]0;x\x07`},
		{"cr\roverwrite", `cr\x0doverwrite`},
		{"c1 \u009b31m", `c1 \x9b31m`},
		{"bad \xff utf8", "bad \uFFFD utf8"},
	}
	for _, c := range cases {
		if got := Terminal(c.in); got != c.want {
			t.Errorf("Terminal(%q) = %q, want %q", c.in, got, c.want)
		}
		if strings.ContainsAny(Terminal(c.in), "\x1b\x07\r") {
			t.Errorf("Terminal(%q) kept a control character", c.in)
		}
	}
}
