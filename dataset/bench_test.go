package dataset

import (
	"context"
	"testing"

	"github.com/trackerbench/tracker/tokens/tokenstest"
)

// BenchmarkScore: one response against three gold answers.
func BenchmarkScore(b *testing.B) {
	gold := []string{"Denver Broncos", "the Denver Broncos", "Broncos"}
	for b.Loop() {
		Score("Answer: The Denver Broncos won Super Bowl 50.", gold)
	}
}

// BenchmarkLongContext128k builds one 128k-token prompt from the real SQuAD set.
func BenchmarkLongContext128k(b *testing.B) {
	src, err := LoadFile(realSquadDir + "/squad_v1.1_validation.jsonl")
	if err != nil {
		b.Skipf("real SQuAD data not available: %v", err)
	}
	tok := tokenstest.Counter(b)
	tmpl, _ := NewTemplate("", "")
	rows := Sample(src.Rows, 1, 3)
	for b.Loop() {
		if _, err := LongContext(context.Background(), rows, src.Rows, []int{128000}, tmpl, tok, 3); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSynthetic4k makes one exact 4096-token prompt.
func BenchmarkSynthetic4k(b *testing.B) {
	tok := tokenstest.Counter(b)
	for b.Loop() {
		if _, err := SyntheticPrompts(Spec{Name: Synthetic, Limit: 1, InputTokens: 4096}, tok); err != nil {
			b.Fatal(err)
		}
	}
}
