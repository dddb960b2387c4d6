package levelstat

import (
	"fmt"
	"iter"
	"math"
)

// The percentiles every level reports.
const (
	P50 = 0.5
	P90 = 0.9
	P99 = 0.99
)

// Percentile is the p-quantile (0 ≤ p ≤ 1) of sorted values, interpolating linearly between
// closest ranks, numpy's default and v_summary's: h = (n−1)·p, lo = ⌊h⌋, f = h − lo, and
// x[lo]·(1−f) + x[lo+1]·f. NaN for no values. This is tracker's one percentile definition.
func Percentile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	lo, f := rank(n, p)
	if lo+1 >= n {
		return interpolate(sorted[n-1], math.NaN(), f)
	}
	return interpolate(sorted[lo], sorted[lo+1], f)
}

// PercentileLower is the p-quantile (0 ≤ p ≤ 1) of sorted values without interpolation: the
// lower of the two closest ranks that Percentile interpolates between, x[⌊h⌋] with the same
// h = (n−1)·p, so always one of the values (SQLite's percentile_disc; store's SQL function of
// that name calls this). NaN for no values.
func PercentileLower(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	lo, _ := rank(len(sorted), p)
	return sorted[min(lo, len(sorted)-1)]
}

// rank is the lower closest rank of the p-quantile of n values and the fraction past it.
func rank(n int, p float64) (lo int, f float64) {
	h := float64(n-1) * p
	lo = int(h)
	return lo, h - float64(lo)
}

// interpolate is x·(1−f) + next·f, written as v_summary's SQL writes it (a sum of the two
// weighted ranks) so that Go and SQL round alike; next is not read when f is 0 and there is
// no next rank.
func interpolate(x, next, f float64) float64 {
	if math.IsNaN(next) {
		return x * (1 - f)
	}
	return x*(1-f) + next*f
}

// FromSorted returns the ps-quantiles (as Percentile defines them) of the n values that
// sorted yields in ascending order, reading them once and keeping two values per quantile:
// the way to take percentiles of a level too large to hold. It stops reading past the last
// rank it needs (AscendingRows says how many). NaN for each p when n is 0; an error when
// sorted yields fewer values than it needs.
func FromSorted(n int, sorted iter.Seq[float64], ps ...float64) ([]float64, error) {
	return pick(n, sorted, ps, func(k int) int { return k })
}

// FromSortedDesc is FromSorted over the same n values yielded in descending order: high
// percentiles are read from the top, past far fewer values (DescendingRows says how many).
func FromSortedDesc(n int, sortedDesc iter.Seq[float64], ps ...float64) ([]float64, error) {
	return pick(n, sortedDesc, ps, func(k int) int { return n - 1 - k })
}

// AscendingRows is how many of n ascending values FromSorted reads for the p-quantile.
func AscendingRows(n int, p float64) int {
	if n <= 0 {
		return 0
	}
	lo, _ := rank(n, p)
	return min(lo+2, n)
}

// DescendingRows is how many of n descending values FromSortedDesc reads for the p-quantile.
func DescendingRows(n int, p float64) int {
	if n <= 0 {
		return 0
	}
	lo, _ := rank(n, p)
	return n - lo
}

// pick reads the values at the ranks the quantiles need (at, from an ascending rank, gives
// its position in the stream) and interpolates them.
func pick(n int, stream iter.Seq[float64], ps []float64, at func(k int) int) ([]float64, error) {
	out := make([]float64, len(ps))
	if n <= 0 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out, nil
	}
	type need struct{ lo, hi float64 }
	vals := make([]need, len(ps))
	last := 0
	for i, p := range ps {
		lo, _ := rank(n, p)
		last = max(last, at(lo))
		if lo+1 < n {
			last = max(last, at(lo+1))
		}
		vals[i] = need{math.NaN(), math.NaN()}
	}
	read := 0
	for x := range stream {
		for k, p := range ps {
			switch lo, _ := rank(n, p); read {
			case at(lo):
				vals[k].lo = x
			case at(lo + 1):
				if lo+1 < n {
					vals[k].hi = x
				}
			}
		}
		read++
		if read > last {
			break
		}
	}
	if read <= last {
		return nil, fmt.Errorf("percentiles of %d sorted values: only %d were read", n, read)
	}
	for k, p := range ps {
		_, f := rank(n, p)
		out[k] = interpolate(vals[k].lo, vals[k].hi, f)
	}
	return out, nil
}
