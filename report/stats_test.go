package report

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestQuantileNumpyLinear(t *testing.T) {
	// Values from numpy.percentile(x, q) with the default (linear) method.
	x := []float64{1, 2, 3, 4}
	for _, c := range []struct{ p, want float64 }{{0, 1}, {0.5, 2.5}, {0.9, 3.7}, {0.99, 3.97}, {1, 4}} {
		if got := quantile(x, c.p); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("quantile(%v, %g) = %g, want %g", x, c.p, got, c.want)
		}
	}
	if got := quantile([]float64{7}, 0.99); got != 7 {
		t.Errorf("quantile of one value = %g, want 7", got)
	}
	if !math.IsNaN(quantile(nil, 0.5)) {
		t.Error("quantile of nothing is not NaN")
	}
}

func TestMedianInPlaceMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n < 200; n++ {
		x := make([]float64, n)
		for i := range x {
			x[i] = math.Round(rng.NormFloat64() * 10) // ties on purpose
		}
		want := quantile(x, 0.5)
		if got := medianInPlace(slices.Clone(x)); got != want {
			t.Fatalf("n=%d: medianInPlace %g, sorted median %g", n, got, want)
		}
	}
}

// testSide builds one side of a comparison from per-run E2E samples (TTFT a tenth of E2E).
func testSide(name string, runs ...[]float64) *side {
	s := &side{endpoint: name}
	for ri, vals := range runs {
		d := &levelData{}
		d.lvl.Endpoint, d.lvl.RunID, d.lvl.ID = name, int64(ri+1), int64(ri+1)
		d.ok.cols = make([][]float64, numCols)
		var tokens float64
		for j, v := range vals {
			d.ok.cols[colSeq] = append(d.ok.cols[colSeq], float64(j))
			d.ok.cols[colE2E] = append(d.ok.cols[colE2E], v)
			d.ok.cols[colTTFT] = append(d.ok.cols[colTTFT], v/10)
			d.ok.cols[colTPOT] = append(d.ok.cols[colTPOT], v/100)
			d.ok.cols[colOut] = append(d.ok.cols[colOut], 100)
			d.ok.cols[colIn] = append(d.ok.cols[colIn], 500)
			tokens += 100
		}
		d.stats.N, d.stats.OK = len(vals), len(vals)
		d.win = mean(vals) * float64(len(vals))
		d.ok.windowMS = d.win
		d.stats.OutputTokS = Num(tokens * 1000 / d.win)
		s.levels = append(s.levels, d)
	}
	s.build()
	return s
}

func lognormal(rng *rand.Rand, n int, median float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = median * math.Exp(0.3*rng.NormFloat64())
	}
	return x
}

func compareSides(t *testing.T, base, other *side) map[string]Speedup {
	t.Helper()
	o := Options{}
	o.defaults()
	g := &Group{ID: "G1", sides: map[string]*side{base.endpoint: base, other.endpoint: other}}
	out := map[string]Speedup{}
	for _, s := range compare(g, base, other, &o) {
		out[s.Metric+"/"+string(s.Stat)] = s
	}
	return out
}

func TestIdenticalSamplesAreNotDifferent(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := lognormal(rng, 200, 1000)
	got := compareSides(t, testSide("a", x), testSide("b", slices.Clone(x)))
	for k, s := range got {
		if math.Abs(float64(s.Ratio)-1) > 1e-12 {
			t.Errorf("%s: speedup %v, want exactly 1", k, s.Ratio)
		}
		if s.Significant || s.Verdict() != VerdictSame {
			t.Errorf("%s: verdict %q (p %v, CI %v), want ~", k, s.Verdict(), s.P, s.CI)
		}
		if !s.CI.Contains(1) {
			t.Errorf("%s: CI %v excludes 1", k, s.CI)
		}
	}
}

func TestShiftedDistributionRatioInsideCI(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	// Three runs a side; the other endpoint's latencies are the baseline's scaled by 1/2.5.
	var base, other [][]float64
	for range 3 {
		base = append(base, lognormal(rng, 150, 1000))
		other = append(other, lognormal(rng, 150, 400))
	}
	got := compareSides(t, testSide("base", base...), testSide("fast", other...))
	for _, k := range []string{"e2e_ms/median", "e2e_ms/mean", "ttft_ms/median", "tpot_ms/median", "mean_req_tok_s/mean", "output_tok_s/mean"} {
		s := got[k]
		if !s.CI.Contains(2.5) {
			t.Errorf("%s: true ratio 2.5 outside CI %v (estimate %v)", k, s.CI, s.Ratio)
		}
		if math.Abs(float64(s.Ratio)-2.5) > 0.35 {
			t.Errorf("%s: estimate %v far from 2.5", k, s.Ratio)
		}
		if k == "output_tok_s/mean" {
			// Three levels a side: the U test over levels cannot reach p < 0.05, so it must say ~.
			if s.Verdict() != VerdictSame || !strings.Contains(s.Test, "too few") {
				t.Errorf("%s: verdict %q test %q, want ~ with the reason", k, s.Verdict(), s.Test)
			}
			continue
		}
		if s.Verdict() != VerdictBetter {
			t.Errorf("%s: verdict %q, want better (p %v)", k, s.Verdict(), s.P)
		}
	}
	// Swapping sides inverts the verdict.
	rev := compareSides(t, testSide("fast", other...), testSide("base", base...))
	if s := rev["e2e_ms/median"]; s.Verdict() != VerdictWorse || math.Abs(float64(s.Ratio)*float64(got["e2e_ms/median"].Ratio)-1) > 1e-9 {
		t.Errorf("reversed: verdict %q ratio %v", s.Verdict(), s.Ratio)
	}
}

func TestSmallSampleSaysSo(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	got := compareSides(t, testSide("a", lognormal(rng, 10, 1000)), testSide("b", lognormal(rng, 10, 300)))
	s := got["e2e_ms/median"]
	if !s.SmallSample || s.Verdict() != VerdictTooFew {
		t.Fatalf("10 requests a side: small %v verdict %q", s.SmallSample, s.Verdict())
	}
	g := &Group{ID: "G1"}
	if txt := claim(&s, g); !strings.Contains(txt, "too few to support a claim") {
		t.Errorf("claim does not say the sample is too small: %s", txt)
	}
}

func TestBootstrapIsReproducible(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	a, b := lognormal(rng, 100, 1000), lognormal(rng, 100, 900)
	x := compareSides(t, testSide("a", a), testSide("b", b))
	y := compareSides(t, testSide("a", a), testSide("b", b))
	for k := range x {
		if x[k].CI != y[k].CI {
			t.Errorf("%s: CI %v then %v with the same seed", k, x[k].CI, y[k].CI)
		}
	}
}

// TestRNGIsMathRand: the bootstraps' IntN draws exactly what math/rand/v2's Rand.IntN draws
// over the same PCG stream, for powers of two, small and large bounds and bounds near 2^63
// (where the rejection step runs often).
func TestRNGIsMathRand(t *testing.T) {
	bounds := []int{1, 2, 3, 7, 64, 100, 250, 1000, 1 << 20, 1<<20 + 1, 999_983, 1<<62 + 1, 3 << 61, math.MaxInt}
	for _, n := range bounds {
		r := newRNG(7, uint64(n))
		want := rand.New(rand.NewPCG(7, uint64(n)*0x9E3779B97F4A7C15+1))
		for i := range 20000 {
			if got, w := r.IntN(n), want.IntN(n); got != w {
				t.Fatalf("IntN(%d), draw %d: %d, math/rand/v2 %d", n, i, got, w)
			}
		}
	}
}

// TestPercentileInPlaceIsQuantile: the percentile found by selection is bit for bit quantile's
// (a sort of a copy), at the sizes of both selections, with ties and infinite values.
func TestPercentileInPlaceIsQuantile(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, n := range []int{1, 2, 3, 10, 255, 256, 257, 1000, 5000} {
		for _, kind := range []string{"spread", "ties", "inf"} {
			x := make([]float64, n)
			for i := range x {
				x[i] = rng.ExpFloat64() * 100
				switch {
				case kind == "ties":
					x[i] = math.Round(x[i] / 20)
				case kind == "inf" && rng.IntN(3) == 0:
					x[i] = math.Inf(1 - 2*rng.IntN(2))
				}
			}
			for _, p := range []float64{0, .25, .5, .9, .99, 1} {
				want := quantile(x, p)
				got := percentileInPlace(slices.Clone(x), p)
				if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
					t.Fatalf("n=%d %s p=%g: percentileInPlace %v, quantile %v", n, kind, p, got, want)
				}
			}
		}
	}
	if !math.IsNaN(percentileInPlace(nil, .5)) {
		t.Error("the percentile of nothing is not NaN")
	}
}

// TestAppendIntNIsIntN: appendIntN draws what as many calls of IntN draw, and leaves the
// stream where they leave it, for bounds of every kind (powers of two, rejection-prone).
func TestAppendIntNIsIntN(t *testing.T) {
	bounds := []int{1, 2, 3, 7, 64, 250, 999_983, 1<<62 + 1, 3 << 61, math.MaxInt}
	for _, n := range bounds {
		a, b := newRNG(9, uint64(n)), newRNG(9, uint64(n))
		var got, want []int
		for _, count := range []int{0, 1, 10, 1000} {
			got = a.appendIntN(got, n, 5, count)
			for range count {
				want = append(want, 5+b.IntN(n))
			}
			if !slices.Equal(got, want) {
				t.Fatalf("IntN(%d), %d draws: appendIntN differs", n, count)
			}
		}
		if x, y := a.IntN(n), b.IntN(n); x != y {
			t.Fatalf("IntN(%d) after appendIntN: %d, after IntN %d", n, x, y)
		}
	}
}
