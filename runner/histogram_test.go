package runner

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLogHistogramQuantile: quantiles from the histogram are within half a bucket of numpy's
// linear percentile of the same values, for spread, constant, negative and tiny values.
func TestLogHistogramQuantile(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := map[string][]float64{"one": {42}, "constant": {7, 7, 7, 7}, "mixed sign": {-30, -5, 0, 0.0001, 3, 12, 400}}
	var spread []float64
	for range 10_000 {
		spread = append(spread, math.Exp(rng.NormFloat64()*2+4))
	}
	cases["lognormal"] = spread
	for name, xs := range cases {
		h := newLogHistogram()
		for _, x := range xs {
			h.add(x)
		}
		for _, p := range []float64{0, 0.25, 0.5, 0.9, 0.99, 1} {
			want, got := percentile(xs, p), h.quantile(p)
			if math.Abs(got-want) > 0.006*math.Abs(want)+histTiny {
				t.Errorf("%s p%v = %v, want %v within 0.6%%", name, p, got, want)
			}
		}
	}
	if !math.IsNaN(newLogHistogram().quantile(0.5)) {
		t.Error("empty histogram: want NaN")
	}
}

// TestSeqLagsBounded: a million lags by seq keep at most maxLagBlocks blocks, the first and
// last quarters hold a quarter each to within one block, and their medians are right.
func TestSeqLagsBounded(t *testing.T) {
	var s seqLags
	const n = 1_000_000
	for seq := range n {
		s.add(seq, float64(seq)/1000) // lag grows with seq: 0 to 1000 ms
	}
	if len(s.blocks) > maxLagBlocks {
		t.Fatalf("%d blocks, want at most %d", len(s.blocks), maxLagBlocks)
	}
	first, last := s.quarters()
	block := int64(s.width)
	for name, h := range map[string]*logHistogram{"first": first, "last": last} {
		if h.n < n/4 || h.n > n/4+block {
			t.Errorf("%s quarter holds %d lags, want %d to %d", name, h.n, n/4, n/4+block)
		}
	}
	if a, b := first.quantile(0.5), last.quantile(0.5); math.Abs(a-125) > 10 || math.Abs(b-875) > 10 {
		t.Errorf("quarter medians %v and %v ms, want about 125 and 875", a, b)
	}
}

// TestSeqLagsExactWhenShort: up to maxLagBlocks requests the quarters are exact.
func TestSeqLagsExactWhenShort(t *testing.T) {
	var s seqLags
	for seq := range 40 {
		s.add(seq, float64(seq))
	}
	first, last := s.quarters()
	if first.n != 10 || last.n != 10 {
		t.Fatalf("quarters of %d and %d, want 10 each", first.n, last.n)
	}
	if a, b := first.quantile(0.5), last.quantile(0.5); math.Abs(a-4.5) > 0.05 || math.Abs(b-34.5) > 0.2 {
		t.Errorf("medians %v and %v, want 4.5 and 34.5", a, b)
	}
}
