package sim

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trackerbench/tracker/tokens/tokenstest"
)

func TestPlanOutput(t *testing.T) {
	tok := tokenstest.Counter(t)
	answer := tok.Count("1889")
	base := testProfile()
	reasoning := base
	reasoning.Output.ReasoningTokens = 10
	fixed := base
	fixed.Output = Output{Length: LengthFixed, Tokens: 40}
	uniform := base
	uniform.Output = Output{Length: LengthUniform, Min: 20, Max: 30}
	for _, tc := range []struct {
		name           string
		p              Profile
		r              genRequest
		tokens, reason int
		finish         string
		text           string // prefix of the content
	}{
		{"answer", base, genRequest{}, answer + 1, 0, "stop", "1889"},
		{"answer cut by max_tokens", base, genRequest{maxTokens: 1}, 1, 0, "length", "18"},
		{"ignore_eos", base, genRequest{maxTokens: 50, ignoreEOS: true}, 50, 0, "length", "1889\n\n"},
		{"min_tokens", base, genRequest{minTokens: 30}, 30, 0, "stop", "1889\n\n"},
		{"reasoning", reasoning, genRequest{reasoning: true}, 10 + answer + 1, 10, "stop", "1889"},
		{"reasoning cut by max_tokens", reasoning, genRequest{reasoning: true, maxTokens: 6}, 6, 6, "length", ""},
		{"no reasoning on /v1/completions", reasoning, genRequest{}, answer + 1, 0, "stop", "1889"},
		{"fixed", fixed, genRequest{}, 40, 0, "stop", "1889"},
		{"fixed over max_tokens", fixed, genRequest{maxTokens: 25}, 25, 0, "length", "1889"},
	} {
		tc.r.text, tc.r.promptTokens = squadPrompt, 80
		o := planOutput(tc.p, tok, 1, tc.r)
		if o.tokens() != tc.tokens || len(o.reasoning) != tc.reason || o.finish != tc.finish || !strings.HasPrefix(o.text(), tc.text) {
			t.Errorf("%s: %d tokens (%d reasoning), finish %s, text %q; want %d (%d), %s, %q...",
				tc.name, o.tokens(), len(o.reasoning), o.finish, o.text(), tc.tokens, tc.reason, tc.finish, tc.text)
		}
		if n := tok.Count(o.text()); n > len(o.content) {
			t.Errorf("%s: content text is %d tokens, more than its %d pieces", tc.name, n, len(o.content))
		}
	}
	seen := map[int]bool{}
	for n := uint64(1); n <= 200; n++ {
		r := genRequest{text: squadPrompt, promptTokens: 80, n: n}
		o := planOutput(uniform, tok, 1, r)
		if o.tokens() < 20 || o.tokens() > 30 || o.tokens() != planOutput(uniform, tok, 1, r).tokens() {
			t.Fatalf("uniform length %d for request %d: want a deterministic length in [20, 30]", o.tokens(), n)
		}
		seen[o.tokens()] = true
	}
	if len(seen) < 8 {
		t.Errorf("uniform lengths cover only %d of 11 values", len(seen))
	}
}

// TestPiecesKeepCharactersWhole: a character split across tokens arrives whole, in one chunk.
func TestPiecesKeepCharactersWhole(t *testing.T) {
	tok := tokenstest.Counter(t)
	text := "Gödel, Escher — 日本語のテキスト 🎉 done"
	ps := pieces(tok, tok.Encode(text))
	if strings.Join(ps, "") != text {
		t.Fatalf("pieces join to %q, want %q", strings.Join(ps, ""), text)
	}
	for i, p := range ps {
		if !utf8.ValidString(p) {
			t.Errorf("piece %d %q is not valid UTF-8", i, p)
		}
	}
}
