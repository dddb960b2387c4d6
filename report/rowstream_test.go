package report

import (
	"bytes"
	"strings"
	"testing"
)

// A stored answer holding a server's escape sequences is printed harmlessly in the formats
// read on a terminal (table, markdown) and kept exact in the machine formats (CSV; JSON
// escapes control characters itself).
func TestRowWriterTerminalSafety(t *testing.T) {
	const hostile = "\x1b[2J\x1b]0;owned\x07red\r"
	for _, tc := range []struct {
		format string
		exact  bool
	}{{"table", false}, {"markdown", false}, {"csv", true}, {"json", false}} {
		t.Run(tc.format, func(t *testing.T) {
			var buf bytes.Buffer
			rw, err := NewRowWriter(&buf, tc.format, []string{"response_text"})
			if err != nil {
				t.Fatal(err)
			}
			if err := rw.WriteRow([]any{hostile}); err != nil {
				t.Fatal(err)
			}
			if err := rw.WriteRow([]any{[]byte(hostile)}); err != nil {
				t.Fatal(err)
			}
			if err := rw.Close(); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if got := strings.Contains(out, "\x1b"); got != tc.exact {
				t.Errorf("%s output holds a raw ESC: %v, want %v: %q", tc.format, got, tc.exact, out)
			}
			if !tc.exact && tc.format != "json" && !strings.Contains(out, `\x1b[2J`) {
				t.Errorf("%s output does not show the escape visibly: %q", tc.format, out)
			}
		})
	}
}
