package textsafe

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"
)

// Redacted replaces a secret wherever it appears.
const Redacted = "[REDACTED]"

// MinSecretLen is the shortest value treated as a secret: shorter header values ("1",
// "true", "json") are not credentials, and redacting them would garble every message.
const MinSecretLen = 8

// Redactor removes known secrets from text. The zero value redacts nothing.
type Redactor struct {
	forms []string // every secret as it may appear: raw, JSON-escaped, URL-escaped
}

// NewRedactor returns a redactor for the given secrets (empty and short ones are ignored).
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	seen := map[string]bool{}
	for _, s := range secrets {
		if len(s) < MinSecretLen {
			continue
		}
		for _, f := range forms(s) {
			if !seen[f] {
				seen[f] = true
				r.forms = append(r.forms, f)
			}
		}
	}
	// Longest first: a secret that contains another is replaced whole.
	sort.Slice(r.forms, func(i, j int) bool { return len(r.forms[i]) > len(r.forms[j]) })
	return r
}

// forms are the spellings in which a server may echo s.
func forms(s string) []string {
	out := []string{s, url.QueryEscape(s), url.PathEscape(s)}
	if b, err := json.Marshal(s); err == nil {
		j := string(b[1 : len(b)-1])
		out = append(out, j, strings.ReplaceAll(j, "/", `\/`)) // some encoders escape '/'

	}
	return out
}

// Redact returns s with every known secret replaced by Redacted.
func (r *Redactor) Redact(s string) string {
	if r == nil {
		return s
	}
	for _, f := range r.forms {
		if strings.Contains(s, f) {
			s = strings.ReplaceAll(s, f, Redacted)
		}
	}
	return r.redactCutTail(s)
}

// redactCutTail redacts a secret cut off by an earlier truncation: a text that ends (before
// an ellipsis) with the first half or more of a secret.
func (r *Redactor) redactCutTail(s string) string {
	body, ell := strings.CutSuffix(s, "…")
	for _, f := range r.forms {
		for k := len(f) - 1; k >= MinSecretLen/2 && k >= len(f)/2; k-- {
			if strings.HasSuffix(body, f[:k]) {
				s = body[:len(body)-k] + Redacted
				if ell {
					s += "…"
				}
				return s
			}
		}
	}
	return s
}

// Terminal returns s with every control character but newline and tab (C0, DEL, C1:
// escape sequences, carriage returns, bells) written as a visible \xNN escape, and
// invalid UTF-8 replaced, so that printing it cannot move the cursor, recolour or retitle
// the terminal.
func Terminal(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unsafe(r) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func unsafe(r rune) bool {
	return (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r <= 0x9f)
}

func isPlain(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unsafe(r) {
			return false
		}
	}
	return true
}
