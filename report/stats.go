package report

import (
	"errors"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"

	"github.com/aclements/go-moremath/stats"

	"github.com/trackerbench/tracker/levelstat"
)

// quantileSorted is the p-quantile of sorted data: levelstat.Percentile, tracker's one
// definition (linear between closest ranks, numpy's default, v_summary's). NaN for no data.
func quantileSorted(sorted []float64, p float64) float64 { return levelstat.Percentile(sorted, p) }

// quantile sorts a copy of xs and returns its p-quantile (numpy-linear).
func quantile(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	sortFloats(s)
	return quantileSorted(s, p)
}

// medianInPlace is the numpy-linear median of xs, found by selection in place (xs is
// reordered, never changed otherwise).
func medianInPlace(xs []float64) float64 {
	n := len(xs)
	if n == 0 {
		return math.NaN()
	}
	lo, f := medianRank(n)
	v, next := rankPair(xs, lo)
	return medianOfPair(v, next, f)
}

// medianRank is the lower of the two ranks a median of n values interpolates between, and
// the fraction past it (levelstat's rank at 0.5).
func medianRank(n int) (lo int, f float64) {
	h := float64(n-1) * 0.5
	lo = int(h)
	return lo, h - float64(lo)
}

// medianOfPair is the median of values whose ranks lo and lo+1 (medianRank) hold v and next.
func medianOfPair(v, next, f float64) float64 {
	if f == 0 {
		return v
	}
	return v*(1-f) + next*f
}

// rankPair returns the k-th smallest of xs and the (k+1)-th (NaN when k is the last rank), by
// rankPairByBuckets where it applies, else by selection (xs is reordered).
func rankPair(xs []float64, k int) (kth, next float64) {
	if v, next, ok := rankPairByBuckets(xs, k); ok {
		return v, next
	}
	return rankPairBySelect(xs, k)
}

// percentileInPlace is quantile(xs, p) of values without NaN (levelstat.Percentile of them
// sorted: the same two ranks, interpolated by the same expression), found by selection in
// place instead of a sort of a copy: xs is reordered, never changed otherwise. Of two zeros of
// opposite sign at the ranks read, either may be read (as either may sort first).
func percentileInPlace(xs []float64, p float64) float64 {
	n := len(xs)
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * p
	lo := int(h)
	f := h - float64(lo)
	x, next := rankPair(xs, min(lo, n-1))
	if lo+1 >= n {
		return x * (1 - f)
	}
	return x*(1-f) + next*f
}

// radixMin is the size from which sortFloats sorts by radix rather than by comparison.
const radixMin = 4096

// sortFloats sorts xs ascending, as slices.Sort does: large slices without NaN by an LSD radix
// sort of the values' bits (a monotone map of float64 to uint64), several times faster than
// comparison sorting for the pooled columns of a large history.
func sortFloats(xs []float64) {
	var s floatSorter
	s.sort(xs)
}

// floatSorter sorts as sortFloats does, keeping the radix sort's two buffers of keys for the
// next slice it sorts: sorting several large columns one after another then allocates them
// once (each is the column's size: the garbage of a report over a million requests).
type floatSorter struct {
	keys, buf []uint64
}

// sort sorts xs ascending (sortFloats).
func (s *floatSorter) sort(xs []float64) {
	if len(xs) < radixMin || slices.ContainsFunc(xs, math.IsNaN) {
		slices.Sort(xs) // NaN first, as slices.Sort orders it
		return
	}
	const signBit = 1 << 63
	if cap(s.keys) < len(xs) {
		s.keys, s.buf = make([]uint64, len(xs)), make([]uint64, len(xs))
	}
	keys := s.keys[:len(xs)]
	for i, x := range xs {
		b := math.Float64bits(x)
		if b&signBit != 0 {
			b = ^b
		} else {
			b |= signBit
		}
		keys[i] = b
	}
	keys = radixSort(keys, s.buf[:len(xs)])
	for i, b := range keys {
		if b&signBit != 0 {
			b &^= signBit
		} else {
			b = ^b
		}
		xs[i] = math.Float64frombits(b)
	}
}

// radixSort sorts keys by 16-bit digits, least significant first, through buf (both the same
// length), skipping a digit where every key has the same one; it returns the slice holding
// the result (keys or buf).
func radixSort(keys, buf []uint64) []uint64 {
	const bits, size = 16, 1 << 16
	counts := make([]int, size)
	for shift := uint(0); shift < 64; shift += bits {
		clear(counts)
		for _, k := range keys {
			counts[(k>>shift)&(size-1)]++
		}
		if counts[(keys[0]>>shift)&(size-1)] == len(keys) {
			continue // one digit everywhere: this pass would not move anything
		}
		sum := 0
		for d, c := range counts {
			counts[d] = sum
			sum += c
		}
		for _, k := range keys {
			d := (k >> shift) & (size - 1)
			buf[counts[d]] = k
			counts[d]++
		}
		keys, buf = buf, keys
	}
	return keys
}

// medianSorted is medianInPlace of values already sorted: levelstat's percentile at 0.5, the same
// interpolation of the same two ranks, so the same number.
func medianSorted(sorted []float64) float64 { return quantileSorted(sorted, 0.5) }

// rankPairBySelect returns the k-th smallest of xs and, when k is not the last rank, the
// (k+1)-th (else NaN), by selection (xs is reordered).
func rankPairBySelect(xs []float64, k int) (kth, next float64) {
	kth, next = selectK(xs, k), math.NaN()
	if k+1 < len(xs) {
		// After selection every element right of k is >= xs[k]; the next rank is their minimum.
		next = xs[k+1]
		for _, x := range xs[k+2:] {
			if x < next {
				next = x
			}
		}
	}
	return kth, next
}

// medianBuckets is how many equal-width value ranges rankPairByBuckets counts into.
const medianBuckets = 1024

// rankPairByBuckets is rankPairBySelect for the bootstrap's replicates of thousands of values,
// where selection's unpredictable comparisons cost about 10 ns a value: it counts the values
// into equal-width value ranges (a monotone map, so the ranges are in value order and equal
// values share one), finds the ranges holding ranks k and k+1, moves their values to the
// front of xs (swapping, so xs stays a permutation) and selects among those few. ok is false
// for small or degenerate input (fewer than 256 values, all equal, a NaN or infinite range),
// which rankPairBySelect handles.
func rankPairByBuckets(xs []float64, k int) (kth, next float64, ok bool) {
	if len(xs) < 256 {
		return 0, 0, false
	}
	lo, hi := xs[0], xs[0]
	for _, x := range xs {
		switch { // not the min and max builtins: their NaN and signed-zero handling costs half the time
		case x < lo:
			lo = x
		case x > hi:
			hi = x
		case x != x: // NaN
			return 0, 0, false
		}
	}
	width := hi - lo
	if !(width > 0) || math.IsInf(width, 0) { // all equal, a NaN, or an infinite value
		return 0, 0, false
	}
	scale := medianBuckets / width
	if math.IsInf(scale, 0) { // a subnormal width
		return 0, 0, false
	}
	bucket := func(x float64) int { return min(int((x-lo)*scale), medianBuckets-1) }
	var counts [medianBuckets]int
	for _, x := range xs {
		counts[bucket(x)]++
	}
	first, last, below := rankBuckets(&counts, k)
	w, span := 0, uint(last-first)
	for i, x := range xs {
		if uint(bucket(x)-first) <= span { // first <= bucket <= last, one comparison
			xs[w], xs[i] = xs[i], xs[w]
			w++
		}
	}
	kth, next = rankPairBySelect(xs[:w], k-below)
	return kth, next, true
}

// rankBuckets finds, in counts of values by value range (in value order), the range first
// holding rank k and the range last holding rank k+1 (the last range when there is none), and
// how many values lie below first.
func rankBuckets[T int | int32](counts *[medianBuckets]T, k int) (first, last, below int) {
	first, last = -1, -1
	cum := 0
	for b, c := range counts {
		if first < 0 && cum+int(c) > k {
			first, below = b, cum
		}
		if cum+int(c) > k+1 || b == medianBuckets-1 {
			last = b
			break
		}
		cum += int(c)
	}
	return first, last, below
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

// uTestSortedTwoSided is uTest(a, b, stats.LocationDiffers) of samples already sorted (no NaN),
// the same number without its copies and its sorts: for samples too large for the exact U
// distribution, the normal approximation with tie and continuity correction computed as
// go-moremath computes it (utest.go), in one merge of the two samples; smaller ones go to
// go-moremath itself.
func uTestSortedTwoSided(a, b []float64) (p float64, ok bool) {
	exact := max(stats.MannWhitneyExactLimit, stats.MannWhitneyTiesExactLimit)
	if len(a) <= exact && len(b) <= exact || len(a) == 0 || len(b) == 0 {
		return uTest(a, b, stats.LocationDiffers)
	}
	n1, n2 := len(a), len(b)
	r1, ties := rankSumSorted(a, b)
	u1 := r1 - float64(n1*(n1+1))/2
	t := float64(ties)
	N := float64(n1 + n2)
	mu := float64(n1*n2) / 2
	sigma := math.Sqrt(float64(n1*n2) * ((N + 1) - t/(N*(N-1))) / 12)
	if sigma == 0 {
		return 1, true // every value equal (uTest's ErrSamplesEqual)
	}
	numer := u1 - mu
	switch { // continuity correction: numer -= sign(numer) * 0.5
	case numer > 0:
		numer -= 0.5
	case numer < 0:
		numer += 0.5
	}
	z := numer / sigma
	return 2 * math.Min(stats.StdNormal.CDF(z), 1-stats.StdNormal.CDF(z)), true
}

// rankSumSorted is the rank sum of a in a and b pooled (ties get their average rank, the
// least value rank 1) and the tie correction Σ (t³ − t) over the groups of equal values, of
// two sorted samples, in one merge, adding in go-moremath's order.
func rankSumSorted(a, b []float64) (r1 float64, ties int) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var v float64
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			v = a[i]
		default:
			v = b[j]
		}
		start := i + j
		na := 0
		for ; i < len(a) && a[i] == v; i++ {
			na++
		}
		for ; j < len(b) && b[j] == v; j++ {
		}
		end := i + j
		if na != 0 {
			r1 += float64(end+start+1) / 2 * float64(na)
		}
		g := end - start
		ties += g*g*g - g
	}
	return r1, ties
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
func newRNG(seed uint64, stream uint64) *randStream {
	r := &randStream{pcg: rand.NewPCG(seed, stream*0x9E3779B97F4A7C15+1)}
	r.std = rand.New(r.pcg)
	return r
}

// randStream is a bootstrap's random stream: math/rand/v2's Rand over a PCG source, whose IntN
// the bootstraps call millions of times. IntN draws exactly what rand.Rand.IntN draws, but
// calls the generator directly instead of through the Source interface (TestRNGIsMathRand).
type randStream struct {
	pcg *rand.PCG
	std *rand.Rand // over pcg: the same stream
}

// is32bit: math/rand/v2 draws a small n's numbers otherwise on 32-bit platforms.
const is32bit = ^uint(0)>>32 == 0

// IntN is rand.Rand.IntN over the generator (math/rand/v2's uint64n on 64-bit platforms:
// a power of two masked, else Lemire's multiply with rejection): a number in [0, n).
func (r *randStream) IntN(n int) int {
	if n <= 0 || is32bit {
		return r.std.IntN(n) // panics for n <= 0, as rand.Rand.IntN does
	}
	u := uint64(n)
	if u&(u-1) == 0 {
		return int(r.pcg.Uint64() & (u - 1))
	}
	hi, lo := bits.Mul64(r.pcg.Uint64(), u)
	if lo < u {
		thresh := -u % u
		for lo < thresh {
			hi, lo = bits.Mul64(r.pcg.Uint64(), u)
		}
	}
	return int(hi)
}

// appendIntN appends count numbers base+IntN(n) to dst: what count calls of IntN would draw,
// in one call that keeps the generator's state in registers (the bootstraps draw their
// requests a cluster at a time this way).
func (r *randStream) appendIntN(dst []int, n, base, count int) []int {
	u := uint64(n)
	if n <= 0 || is32bit || u&(u-1) == 0 { // IntN's other cases: a panic, 32 bits, a power of two
		for range count {
			dst = append(dst, base+r.IntN(n))
		}
		return dst
	}
	pcg := *r.pcg
	for range count {
		hi, lo := bits.Mul64(pcg.Uint64(), u)
		if lo < u {
			thresh := -u % u
			for lo < thresh {
				hi, lo = bits.Mul64(pcg.Uint64(), u)
			}
		}
		dst = append(dst, base+int(hi))
	}
	*r.pcg = pcg
	return dst
}
