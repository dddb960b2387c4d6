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
	xs := d.vals[c]
	if !rs.mapped[c] {
		return medianInPlace(xs)
	}
	if len(xs) == 0 {
		return math.NaN()
	}
	lo, f := medianRank(len(xs))
	v, next := d.rankPairCounted(rs.maps[c], c, lo)
	return medianOfPair(v, next, f)
}

// rankPairCounted is rankPairByBuckets over column c's drawn values, counted by m already:
// the ranges holding ranks k and k+1 from the counts, their values copied out, and the two
// ranks selected among those few.
func (d *rowDraw) rankPairCounted(m bucketMap, c, k int) (kth, next float64) {
	first, last, below := rankBuckets(&d.counts[c], k)
	span := uint(last - first)
	cand := d.cand[:0]
	for _, x := range d.vals[c] {
		if uint(m.of(x)-first) <= span { // first <= range <= last, one comparison
			cand = append(cand, x)
		}
	}
	d.cand = cand
	return rankPairBySelect(cand, k-below)
}
