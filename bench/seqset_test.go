package bench_test

import (
	"testing"

	"github.com/trackerbench/tracker/bench"
)

// TestSeqSet: membership, duplicates, negative numbers and growth.
func TestSeqSet(t *testing.T) {
	var s bench.SeqSet
	for _, seq := range []int{0, 63, 64, 1_000_000, 64, -1} {
		s.Add(seq)
	}
	if s.Len() != 4 {
		t.Errorf("Len = %d, want 4", s.Len())
	}
	for seq, want := range map[int]bool{0: true, 1: false, 63: true, 64: true, 65: false, 1_000_000: true, 999_999: false, -1: false, 2_000_000: false} {
		if s.Has(seq) != want {
			t.Errorf("Has(%d) = %v, want %v", seq, !want, want)
		}
	}
}
