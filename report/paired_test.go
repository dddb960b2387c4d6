package report

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSignTest(t *testing.T) {
	cases := []struct {
		k, n int
		want float64
	}{
		{10, 10, 2 * math.Pow(0.5, 10)}, // 0.00195
		{0, 10, 2 * math.Pow(0.5, 10)},
		{6, 6, 0.03125},
		{5, 10, 1},
		{7, 10, 2 * (120 + 45 + 10 + 1) / 1024.0}, // 2·P(X ≥ 7) = 0.34375
		{1, 1, 1},
	}
	for _, tc := range cases {
		if got := signTest(tc.k, tc.n); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("signTest(%d, %d) = %g, want %g", tc.k, tc.n, got, tc.want)
		}
	}
	if !math.IsNaN(signTest(0, 0)) {
		t.Error("signTest(0, 0) should be NaN: no pair differs")
	}
}

// Prompts whose latencies spread over an order of magnitude, the endpoint 10% faster on each:
// the unpaired test cannot see it in 20 requests a side, the paired one can, with the right ratio.
func TestPairingSeesWhatUnpairedCannot(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	base := make([]float64, 20)
	for i := range base {
		base[i] = 1000 * math.Exp(rng.NormFloat64())
	}
	other := make([]float64, len(base))
	for i, v := range base {
		other[i] = v / 1.1
	}
	got := compareSides(t, testSide("base", base), testSide("other", other))
	unpaired, paired := got[MetricE2E+"/median"], got[MetricE2E+"/paired median"]
	if unpaired.Significant || !(float64(unpaired.P) > 0.05) {
		t.Errorf("unpaired: p %v significant %v; 20 spread requests a side should not show a 10%% gap", unpaired.P, unpaired.Significant)
	}
	if !paired.Significant || paired.Faster != 20 || paired.N != 20 || math.Abs(float64(paired.Ratio)-1.1) > 1e-9 ||
		paired.CI.Lo > 1.1 || paired.CI.Hi < 1.1 {
		t.Errorf("paired: %+v, want 20 of 20 faster, ratio 1.1 inside its interval, significant", paired)
	}
	if paired.Verdict() != VerdictBetter {
		t.Errorf("paired verdict %q", paired.Verdict())
	}
}

// Sides from different runs share no prompt: no paired row.
func TestNoPairsAcrossRuns(t *testing.T) {
	a, b := testSide("a", []float64{1, 2, 3}), testSide("b", []float64{1, 2, 3})
	for _, d := range b.levels {
		d.lvl.RunID += 100
	}
	if _, ok := compareSides(t, a, b)[MetricE2E+"/paired median"]; ok {
		t.Error("requests of different runs were paired")
	}
}
