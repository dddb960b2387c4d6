package report

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/aclements/go-moremath/stats"
)

// quantileSorted is the p-quantile of sorted data with linear interpolation between closest
// ranks (numpy's default, the same as v_summary): rank h = (n-1)p, and the value
// v[lo]*(1-f) + v[lo+1]*f with lo = floor(h), f = h - lo. NaN for no data.
func quantileSorted(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * p
	lo := int(h)
	f := h - float64(lo)
	if lo+1 >= n {
		return sorted[n-1] * (1 - f)
	}
	return sorted[lo]*(1-f) + sorted[lo+1]*f
}

// quantile sorts a copy of xs and returns its p-quantile (numpy-linear).
func quantile(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return quantileSorted(s, p)
}

// median is the numpy-linear median of xs, found by selection in place (xs is reordered).
func medianInPlace(xs []float64) float64 {
	n := len(xs)
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * 0.5
	lo := int(h)
	f := h - float64(lo)
	v := selectK(xs, lo)
	if f == 0 {
		return v
	}
	// After selection every element right of lo is >= xs[lo]; the next rank is their minimum.
	next := xs[lo+1]
	for _, x := range xs[lo+2:] {
		if x < next {
			next = x
		}
	}
	return v*(1-f) + next*f
}

// selectK reorders xs so that xs[k] is the k-th smallest, smaller ones before it and larger
// ones after it (Hoare's selection with a median-of-three pivot), and returns xs[k].
func selectK(xs []float64, k int) float64 {
	lo, hi := 0, len(xs)-1
	for hi > lo {
		mid := lo + (hi-lo)/2
		if xs[mid] < xs[lo] {
			xs[mid], xs[lo] = xs[lo], xs[mid]
		}
		if xs[hi] < xs[lo] {
			xs[hi], xs[lo] = xs[lo], xs[hi]
		}
		if xs[hi] < xs[mid] {
			xs[hi], xs[mid] = xs[mid], xs[hi]
		}
		pivot := xs[mid]
		i, j := lo, hi
		for i <= j {
			for xs[i] < pivot {
				i++
			}
			for xs[j] > pivot {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return xs[k]
		}
	}
	return xs[k]
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// uTest is the Mann–Whitney U test of a against b (go-moremath). Identical samples give
// p = 1; ok is false when a side is empty.
func uTest(a, b []float64, alt stats.LocationHypothesis) (p float64, ok bool) {
	if len(a) == 0 || len(b) == 0 {
		return math.NaN(), false
	}
	res, err := stats.MannWhitneyUTest(a, b, alt)
	if errors.Is(err, stats.ErrSamplesEqual) {
		return 1, true
	}
	if err != nil {
		return math.NaN(), false
	}
	return res.P, true
}

// Interval is a two-sided confidence interval.
type Interval struct {
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
}

// Contains reports whether x lies in the closed interval.
func (iv Interval) Contains(x float64) bool { return iv.Lo <= x && x <= iv.Hi }

// cluster is one run's (or one level's) requests on one side of a comparison: parallel
// columns, NaN where a request has no value for that column.
type cluster struct {
	cols [][]float64
	// window and scale for throughput clusters: throughput = Σ col[0] * 1000 / windowMS.
	windowMS float64
}

func (c *cluster) n() int {
	if len(c.cols) == 0 {
		return 0
	}
	return len(c.cols[0])
}

// bootConfig fixes the bootstrap: how many replicates, the seed, and the most requests one
// replicate draws per side (see resample).
type bootConfig struct {
	Resamples int
	Seed      uint64
	Budget    int
}

// percentileInterval is the (alpha/2, 1-alpha/2) percentile interval of replicate values,
// ignoring NaN and infinite replicates.
func percentileInterval(reps []float64, alpha float64) Interval {
	s := make([]float64, 0, len(reps))
	for _, r := range reps {
		if !math.IsNaN(r) && !math.IsInf(r, 0) {
			s = append(s, r)
		}
	}
	if len(s) == 0 {
		return Interval{math.NaN(), math.NaN()}
	}
	slices.Sort(s)
	return Interval{quantileSorted(s, alpha/2), quantileSorted(s, 1-alpha/2)}
}

// newRNG is a PCG generator seeded from the report seed and a stream number, so that every
// comparison has its own reproducible stream whatever order they are computed in.
func newRNG(seed uint64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream*0x9E3779B97F4A7C15+1))
}
