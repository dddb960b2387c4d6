package report

import "math"

// bucketMap maps values to medianBuckets equal-width value ranges of [lo, lo + medianBuckets/scale]:
// monotone, so that the ranges are in value order and equal values share one.
type bucketMap struct {
	lo, scale float64
}

// newBucketMap is the map of the values from lo to hi; ok is false when that range cannot be
// divided (no width, an infinite or NaN bound, a subnormal width).
func newBucketMap(lo, hi float64) (m bucketMap, ok bool) {
	width := hi - lo
	if !(width > 0) || math.IsInf(width, 0) {
		return bucketMap{}, false
	}
	scale := medianBuckets / width
	if math.IsInf(scale, 0) {
		return bucketMap{}, false
	}
	return bucketMap{lo: lo, scale: scale}, true
}

// of is x's range, in [0, medianBuckets): monotone in x over the map's range, which holds
// every value counted with it (a column's draws, from its pool: its least to greatest value).
// Int arithmetic clamps it (a float min and max cost twice as much): a NaN or an infinite
// value (a column not mapped, whose counts are never read) lands in a range, never outside.
func (m bucketMap) of(x float64) int {
	return max(min(int((x-m.lo)*m.scale), medianBuckets-1), 0)
}

// median is the median of column c's drawn values (medianInPlace's number): from the counts
// gather made where rs maps the column, else by medianInPlace. The values are not reordered.
func (d *rowDraw) median(rs *rowSide, c int) float64 {
	if !rs.mapped[c] {
		return medianInPlace(d.vals[c])
	}
	return medianCounted(d.vals[c], rs.maps[c], &d.counts[c], &d.cand)
}

// medianCounted is medianInPlace(xs) (the same number; xs is not reordered) for values that m
// maps and counts holds counted by range: rankPairByBuckets without its passes to find the
// range and count, the ranges holding the two middle ranks from the counts, their values
// copied out (into cand, reused) and the two ranks selected among those few.
func medianCounted(xs []float64, m bucketMap, counts *[medianBuckets]int32, cand *[]float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	k, f := medianRank(len(xs))
	first, last, below := rankBuckets(counts, k)
	span := uint(last - first)
	c := (*cand)[:0]
	for _, x := range xs {
		if uint(m.of(x)-first) <= span { // first <= range <= last, one comparison
			c = append(c, x)
		}
	}
	*cand = c
	v, next := rankPairBySelect(c, k-below)
	return medianOfPair(v, next, f)
}

// valueRange is the least and the greatest of xs; ok is false when xs is empty or holds a NaN.
func valueRange(xs []float64) (lo, hi float64, ok bool) {
	if len(xs) == 0 {
		return 0, 0, false
	}
	lo, hi = xs[0], xs[0]
	for _, x := range xs {
		switch {
		case x < lo:
			lo = x
		case x > hi:
			hi = x
		case x != x:
			return 0, 0, false
		}
	}
	return lo, hi, true
}
