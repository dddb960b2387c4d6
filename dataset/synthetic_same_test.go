package dataset

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/trackerbench/tracker/tokens/tokenstest"
)

// The synthetic prompts are the ones main's generator (c45e056) made for the same specs:
// every prompt's id, messages (their hash), input tokens and max tokens, in order; and each
// recorded count is the tokenizer's. Runs that compare prompt sets by hash, and --resume,
// depend on it.
func TestSyntheticPromptsUnchanged(t *testing.T) {
	tok := tokenstest.Counter(t)
	for _, tc := range []struct {
		name string
		spec Spec
		want string
	}{
		{"the scale benchmark's", Spec{Name: Synthetic, Limit: 100, InputTokens: 32, OutputTokens: 4}, "d00060759238c2a92c11c12d38f6478203197281e7a4e2366879aa8333b4079c"},
		{"seeded, spread, system message", Spec{Name: Synthetic, Limit: 40, Seed: 9, InputTokens: 300, OutputTokens: 100, Spread: 0.25, System: "You are a terse assistant."}, "17e4d9f93b0c006bc87b13348c75106af0f392171eded279b184ef3b1ef6b7d0"},
		{"one long", Spec{Name: Synthetic, Limit: 1, Seed: 3, InputTokens: 4096}, "9918ac3a9049cfd8a36ade2446647ff28e36312c6a96f42b54410115042975b7"},
		{"default count", Spec{Name: Synthetic, Seed: 1, InputTokens: 20}, "a3ada6f73f999241607ca8c890f7719e35e18cad81d050e83c41e5051d0381c5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := Prepare(context.Background(), tc.spec, tok)
			if err != nil {
				t.Fatal(err)
			}
			if got := promptsDigest(ps.Prompts); got != tc.want {
				t.Errorf("prompts digest %s, want %s", got, tc.want)
			}
			for i, p := range ps.Prompts {
				if got := countMsgs(tok, p.Messages); got != p.InputTokens {
					t.Errorf("prompt %d: recorded %d input tokens, counted %d", i, p.InputTokens, got)
				}
			}
		})
	}
}

// promptsDigest is the SHA-256 of every prompt's id, message hash, input and max tokens.
func promptsDigest(ps []Prompt) string {
	h := sha256.New()
	for _, p := range ps {
		fmt.Fprintf(h, "%s %s %d %d\n", p.ID, p.Hash, p.InputTokens, p.MaxTokens)
	}
	return hex.EncodeToString(h.Sum(nil))
}
