package levelstat

import (
	"math"
	"slices"
	"testing"

	"github.com/trackerbench/tracker/bench"
)

// Percentile follows numpy's default (linear): the expected values are numpy.percentile's.
func TestPercentile(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		p    float64
		want float64
	}{
		{nil, 0.5, math.NaN()},
		{[]float64{7}, 0.5, 7},
		{[]float64{7}, 0.99, 7},
		{[]float64{1, 2}, 0.5, 1.5},
		{[]float64{1, 2, 3}, 0.5, 2},
		{[]float64{1, 2, 3, 4}, 0.9, 3.7},
		{[]float64{10, 20, 30, 40, 50}, 0.99, 49.6},
		{[]float64{10, 20, 30, 40, 50}, 1, 50},
		{[]float64{10, 20, 30, 40, 50}, 0, 10},
	} {
		got := Percentile(c.xs, c.p)
		if !(got == c.want || math.IsNaN(got) && math.IsNaN(c.want)) && math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Percentile(%v, %v) = %v, want %v", c.xs, c.p, got, c.want)
		}
	}
}

// PercentileLower is the lower of the two ranks Percentile interpolates between: never a
// value that is not in the sample, equal to Percentile where the position falls on a rank.
func TestPercentileLower(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		p    float64
		want float64
	}{
		{nil, 0.5, math.NaN()},
		{[]float64{7}, 0.5, 7},
		{[]float64{1, 2}, 0.5, 1},
		{[]float64{1, 2, 3}, 0.5, 2},
		{[]float64{1, 2, 3, 4}, 0.3, 1}, // h = 0.9: x[0] (PostgreSQL's percentile_disc says 2)
		{[]float64{1, 2, 3, 4}, 0.9, 3},
		{[]float64{1, 4, 6, 7, 8, 9, 11, 11, 11}, 0.15, 4},
		{[]float64{10, 20, 30, 40, 50}, 1, 50},
		{[]float64{10, 20, 30, 40, 50}, 0, 10},
	} {
		got := PercentileLower(c.xs, c.p)
		if got != c.want && !(math.IsNaN(got) && math.IsNaN(c.want)) {
			t.Errorf("PercentileLower(%v, %v) = %v, want %v", c.xs, c.p, got, c.want)
		}
		if h := float64(len(c.xs)-1) * c.p; len(c.xs) > 0 && h == math.Trunc(h) && got != Percentile(c.xs, c.p) {
			t.Errorf("PercentileLower(%v, %v) = %v, Percentile %v: they differ on a rank", c.xs, c.p, got, Percentile(c.xs, c.p))
		}
	}
}

// FromSorted, reading the values once in order, gives exactly Percentile's answer, and
// refuses a stream shorter than announced.
func TestFromSortedEqualsPercentile(t *testing.T) {
	for n := range 40 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64((i*7919)%101) / 3
		}
		slices.Sort(xs)
		ps := []float64{0, P50, P90, P99, 1}
		got, err := FromSorted(n, slices.Values(xs), ps...)
		if err != nil {
			t.Fatal(err)
		}
		desc := slices.Clone(xs)
		slices.Reverse(desc)
		for i, p := range ps {
			want := Percentile(xs, p)
			if got[i] != want && !(math.IsNaN(got[i]) && math.IsNaN(want)) {
				t.Errorf("n %d p %v: FromSorted %v, Percentile %v", n, p, got[i], want)
			}
			// Each direction needs only its announced number of rows.
			up, err := FromSorted(n, slices.Values(xs[:AscendingRows(n, p)]), p)
			if err != nil || up[0] != want && !(math.IsNaN(up[0]) && math.IsNaN(want)) {
				t.Errorf("n %d p %v: FromSorted over %d rows %v (%v), Percentile %v", n, p, AscendingRows(n, p), up, err, want)
			}
			down, err := FromSortedDesc(n, slices.Values(desc[:DescendingRows(n, p)]), p)
			if err != nil || down[0] != want && !(math.IsNaN(down[0]) && math.IsNaN(want)) {
				t.Errorf("n %d p %v: FromSortedDesc over %d rows %v (%v), Percentile %v", n, p, DescendingRows(n, p), down, err, want)
			}
		}
	}
	if _, err := FromSorted(5, slices.Values([]float64{1, 2}), P50, P99); err == nil {
		t.Error("FromSorted accepted 2 values for 5")
	}
}

// The accumulator leaves canceled requests and client-resource failures out of n, the
// success rate and the window, counts them apart, and derives the figures from what is left.
func TestAccumulatorOutcomes(t *testing.T) {
	nan := math.NaN()
	a := NewAccumulator(bench.SLO{TTFTMS: ptr(50)})
	add := func(o bench.Outcome, ok bool, start, ttft, out float64) {
		a.Add(&Sample{Outcome: o, OK: ok, StartMS: start, ElapsedMS: 100, ScheduledMS: nan, TTFTMS: ttft,
			E2EMS: 100, TPOTMS: nan, OutputTokens: out, EM: nan, F1: nan})
	}
	add(bench.OutcomeMeasured, true, 0, 40, 10)
	add(bench.OutcomeMeasured, true, 50, 60, nan)
	add(bench.OutcomeMeasured, false, 100, nan, nan)
	add(bench.OutcomeClientResource, false, 5000, nan, nan) // would stretch the window
	add(bench.OutcomeCanceled, false, 6000, nan, nan)
	s := a.Stats()
	if s.N != 3 || s.OK != 2 || s.Good != 1 || s.ClientResource != 1 || s.Canceled != 1 {
		t.Errorf("counts %+v: want n 3, ok 2, good 1, client resource 1, canceled 1", s)
	}
	if s.WindowMS != 200 || s.OutputTokens != 10 || s.OutputTokS() != 50 || s.SuccessRate() != 2.0/3 {
		t.Errorf("window %v tokens %v tok/s %v success %v: want 200, 10, 50, 2/3", s.WindowMS, s.OutputTokens, s.OutputTokS(), s.SuccessRate())
	}
	if m := s.Latency[TTFT].Mean; m != 50 || a.Count(TTFT) != 2 {
		t.Errorf("mean TTFT %v over %d, want 50 over 2", m, a.Count(TTFT))
	}
	if e := NewAccumulator(bench.SLO{}).Stats(); !math.IsNaN(e.OutputTokS()) {
		t.Error("an empty level has an output throughput")
	}
}

func ptr(x float64) *float64 { return &x }
