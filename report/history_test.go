package report

import (
	"math/rand/v2"
	"testing"
)

func TestRegressionRule(t *testing.T) {
	o := Options{}
	o.defaults()
	rng := rand.New(rand.NewPCG(11, 12))
	series := func(medians ...float64) (*HistorySeries, [][]float64) {
		hs := &HistorySeries{Metric: MetricE2E, Stat: "median"}
		var samples [][]float64
		for i, m := range medians {
			x := lognormal(rng, 200, m)
			samples = append(samples, x)
			hs.Points = append(hs.Points, HistoryPoint{RunID: int64(i + 1), Value: Num(quantile(x, .5))})
		}
		return hs, samples
	}
	for _, c := range []struct {
		name             string
		medians          []float64
		checked, flagged bool
	}{
		{"two runs: not enough history", []float64{1000, 1500}, false, false},
		{"stable", []float64{1000, 1000, 1000, 1000}, true, false},
		{"faster is not a regression", []float64{1000, 1000, 1000, 700}, true, false},
		{"30% slower", []float64{1000, 1000, 1000, 1300}, true, true},
		{"only the last five earlier runs count", []float64{3000, 3000, 1000, 1000, 1000, 1000, 1000, 1300}, true, true},
	} {
		hs, samples := series(c.medians...)
		checkRegression(hs, samples, &o)
		if hs.Checked != c.checked || hs.Regression != c.flagged {
			t.Errorf("%s: checked %v flagged %v (change %v, threshold %v, p %v), want %v %v", c.name, hs.Checked,
				hs.Regression, hs.Change, hs.Threshold, hs.P, c.checked, c.flagged)
		}
	}
	// Beyond the threshold but not beyond noise: a 6% shift on 10 requests a run is not flagged.
	hs := &HistorySeries{Metric: MetricE2E, Stat: "median"}
	var samples [][]float64
	for i, m := range []float64{1000, 1000, 1000, 1060} {
		x := lognormal(rng, 10, m)
		for j := range x {
			x[j] = m * float64(j+1) / 5.5 // identical shapes, scaled: the medians are exactly m
		}
		samples = append(samples, x)
		hs.Points = append(hs.Points, HistoryPoint{RunID: int64(i + 1), Value: Num(quantile(x, .5))})
	}
	checkRegression(hs, samples, &o)
	if !hs.Checked || hs.Regression || float64(hs.Change) < o.HistoryMinRel {
		t.Errorf("noisy 6%% shift: checked %v flagged %v change %v p %v, want checked, beyond 5%% but not flagged", hs.Checked, hs.Regression, hs.Change, hs.P)
	}
}
