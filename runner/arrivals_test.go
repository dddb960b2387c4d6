package runner

import (
	"math"
	"testing"
)

// Inter-arrival gaps: mean 1/rate and coefficient of variation 1/sqrt(B) for gamma(B),
// 1 for Poisson, 0 for constant spacing; the same seed gives the same schedule.
func TestArrivalStatistics(t *testing.T) {
	const rate, n = 8.0, 40000
	cases := []struct {
		name   string
		b      float64
		wantCV float64
	}{
		{"poisson", 1, 1},
		{"gamma B=0.5 (bursty)", 0.5, math.Sqrt(2)},
		{"gamma B=4 (smooth)", 4, 0.5},
		{"constant", math.Inf(1), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := newArrivals(rate, tc.b, 42)
			gaps := make([]float64, n)
			for i := range gaps {
				gaps[i] = a.gap()
			}
			mean, sd := meanSD(gaps)
			if math.Abs(mean-1/rate)/(1/rate) > 0.03 {
				t.Errorf("mean gap %.5f s, want %.5f ± 3%%", mean, 1/rate)
			}
			if cv := sd / mean; math.Abs(cv-tc.wantCV) > 0.04 {
				t.Errorf("coefficient of variation %.3f, want %.3f ± 0.04", cv, tc.wantCV)
			}
			b := newArrivals(rate, tc.b, 42)
			c := newArrivals(rate, tc.b, 43)
			same, differ := true, false
			x := newArrivals(rate, tc.b, 42)
			for range 100 {
				g1, g2, g3 := x.next(), b.next(), c.next()
				same = same && g1 == g2
				differ = differ || g1 != g3
			}
			if !same || (tc.wantCV > 0 && !differ) {
				t.Errorf("seeding: same seed equal %v, other seed differs %v", same, differ)
			}
		})
	}
}

func meanSD(xs []float64) (float64, float64) {
	m := 0.0
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	v := 0.0
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return m, math.Sqrt(v / float64(len(xs)-1))
}

func TestParseSLOAndLists(t *testing.T) {
	slo, err := ParseSLO("ttft=500ms, tpot=50ms,e2e=10s")
	if err != nil || slo.TTFT.Milliseconds() != 500 || slo.TPOT.Milliseconds() != 50 || slo.E2E.Seconds() != 10 {
		t.Errorf("%+v %v", slo, err)
	}
	for _, bad := range []string{"ttft", "ttft=fast", "itl=5ms", "e2e=-1s"} {
		if _, err := ParseSLO(bad); err == nil {
			t.Errorf("ParseSLO(%q) accepted", bad)
		}
	}
	if r, err := ParseRates("2, 4.5,8"); err != nil || len(r) != 3 || r[1] != 4.5 {
		t.Errorf("%v %v", r, err)
	}
	for _, bad := range []string{"0", "x", "2,,4", "inf"} {
		if _, err := ParseRates(bad); err == nil {
			t.Errorf("ParseRates(%q) accepted", bad)
		}
	}
}
