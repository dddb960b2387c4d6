package report

import (
	"math"
)

// reqCols are the request columns the request-level bootstrap draws, side by side in a
// rowSide: E2E, TTFT, TPOT and per-request tokens/s.
var reqCols = [reqWidth]int{colE2E, colTTFT, colTPOT, colTokS}

const reqWidth = 4

// rowSide is one side of a comparison for the request-level bootstrap: every run's requests
// row-major in one array (request j's columns are rows[j], NaN where a request has no value),
// and where each run's rows start and how many there are.
type rowSide struct {
	rows     [][reqWidth]float64
	clusters []rowCluster
	// maps are the value ranges each median column's draws are counted into as they are
	// gathered (over the side's least to greatest value); mapped is false for a column whose
	// range cannot be divided, whose medians rankPairByBuckets or selection finds.
	maps   [numMedianCols]bucketMap
	mapped [numMedianCols]bool
}

// numMedianCols: the first three of reqCols (E2E, TTFT, TPOT) have their medians bootstrapped.
const numMedianCols = 3

// rowCluster is one run's rows in a rowSide: n requests from request start on.
type rowCluster struct {
	start, n int
}

// newRowSide copies a side's runs row-major, which keeps each random draw of the bootstrap
// to one cache line.
func newRowSide(s *side) *rowSide {
	total := 0
	for _, c := range s.runs {
		total += c.n()
	}
	rs := &rowSide{rows: make([][reqWidth]float64, 0, total), clusters: make([]rowCluster, len(s.runs))}
	start := 0
	for i, c := range s.runs {
		rs.clusters[i] = rowCluster{start: start, n: c.n()}
		rs.rows = c.appendRows(rs.rows)
		start += c.n()
	}
	for k := range rs.maps {
		// The pool is the column's values over the same runs, NaN dropped, sorted.
		if p := s.pool(reqCols[k]).sorted; len(p) > 0 {
			rs.maps[k], rs.mapped[k] = newBucketMap(p[0], p[len(p)-1])
		}
	}
	return rs
}

// appendRows appends c's requests to rows, each the values of reqCols (cluster.value), a
// column slice at a time rather than a value at a time.
func (c *cluster) appendRows(rows [][reqWidth]float64) [][reqWidth]float64 {
	if c.n() == 0 {
		return rows
	}
	e2e := c.cols[colE2E]
	ttft, tpot, out := c.cols[colTTFT][:len(e2e)], c.cols[colTPOT][:len(e2e)], c.cols[colOut][:len(e2e)]
	for j, e := range e2e {
		rows = append(rows, [reqWidth]float64{e, ttft[j], tpot[j], tokS(e, out[j])})
	}
	return rows
}

// perCluster is how many requests a replicate draws from each cluster it draws: about budget
// in all, at least 10 a cluster.
func perCluster(budget, clusters int) int { return max(10, budget/max(clusters, 1)) }

// rowDraw is one side's replicate of the request-level bootstrap: the drawn values of each
// column (NaN skipped) and their sums, added in draw order (so a mean is exactly what
// mean(vals) would return). Its buffers are reused from replicate to replicate.
type rowDraw struct {
	vals   [reqWidth][]float64
	sums   [reqWidth]float64
	picked []int               // indices in rowSide.rows of the drawn requests, in draw order
	rows   [][reqWidth]float64 // the drawn rows, in draw order (gather's first pass)
	// counts are the drawn values of each median column by value range (rowSide.maps), counted
	// as gather splits the rows; cand holds one median's candidates (rankPairCounted).
	counts [numMedianCols][medianBuckets]int32
	cand   []float64
}

// newRowDraw sizes the buffers for the most requests one replicate of rs can draw: k clusters
// drawn with replacement, at most k times the largest cluster's draw.
func newRowDraw(rs *rowSide, budget int) *rowDraw {
	per := perCluster(budget, len(rs.clusters))
	largest := 0
	for _, c := range rs.clusters {
		largest = max(largest, min(c.n, per))
	}
	most := len(rs.clusters) * largest
	d := &rowDraw{picked: make([]int, 0, most), rows: make([][reqWidth]float64, 0, most)}
	for i := range d.vals {
		d.vals[i] = make([]float64, 0, most)
	}
	return d
}

// mean is the mean of column ci's drawn values, NaN when there are none.
func (d *rowDraw) mean(ci int) float64 {
	if len(d.vals[ci]) == 0 {
		return math.NaN()
	}
	return d.sums[ci] / float64(len(d.vals[ci]))
}

// draw is one two-stage bootstrap replicate of one side: when there are several clusters it
// draws clusters with replacement, then requests with replacement within each drawn cluster.
// Each drawn cluster contributes min(n, max(10, budget/k)) requests, so a replicate holds
// about budget values at most; for a cluster larger than that the replicate is a subsample,
// which widens the interval (the error is on the conservative side). NaN values are skipped
// per column.
func (d *rowDraw) draw(rng *randStream, rs *rowSide, budget int) {
	d.pick(rng, rs, budget)
	d.gather(rs.rows, &rs.maps)
}

// pick draws the replicate's requests before any is read (the random numbers in the order
// drawing and reading in turn would use them), so that gather's reads, cache misses into a
// side's megabytes of rows, do not wait on the generator and overlap one another.
func (d *rowDraw) pick(rng *randStream, rs *rowSide, budget int) {
	picked := d.picked[:0]
	k := len(rs.clusters)
	per := perCluster(budget, k)
	for range k {
		c := rs.clusters[0]
		if k > 1 {
			c = rs.clusters[rng.IntN(k)]
		}
		if c.n == 0 {
			continue
		}
		picked = rng.appendIntN(picked, c.n, c.start, min(c.n, per))
	}
	d.picked = picked
}

// gather copies the picked requests' values into the column buffers, NaN skipped, sums
// each column in draw order and counts each median column's values by value range (maps).
// It copies the drawn rows whole first, then splits them into columns: a row is one copy,
// where four column stores a row waiting on each random read filled the store buffer and left
// fewer reads in flight (twice as slow).
func (d *rowDraw) gather(rows [][reqWidth]float64, maps *[numMedianCols]bucketMap) {
	drawn := d.rows[:len(d.picked)]
	for i, j := range d.picked {
		drawn[i] = rows[j]
	}
	d.rows = drawn
	clear(d.counts[:])
	m0, m1, m2 := maps[0], maps[1], maps[2]
	n0, n1, n2 := &d.counts[0], &d.counts[1], &d.counts[2]
	e2e, ttft := d.vals[0][:len(drawn)], d.vals[1][:len(drawn)]
	tpot, tokS := d.vals[2][:len(drawn)], d.vals[3][:len(drawn)]
	var s0, s1, s2, s3 float64
	k0, k1, k2, k3 := 0, 0, 0, 0
	for _, row := range drawn {
		a, b, c, t := row[0], row[1], row[2], row[3]
		if a == a { // x != x only for NaN
			e2e[k0] = a
			k0++
			s0 += a
			n0[m0.of(a)]++
		}
		if b == b {
			ttft[k1] = b
			k1++
			s1 += b
			n1[m1.of(b)]++
		}
		if c == c {
			tpot[k2] = c
			k2++
			s2 += c
			n2[m2.of(c)]++
		}
		if t == t {
			tokS[k3] = t
			k3++
			s3 += t
		}
	}
	e2e, ttft, tpot, tokS = e2e[:k0], ttft[:k1], tpot[:k2], tokS[:k3]
	d.vals = [reqWidth][]float64{e2e, ttft, tpot, tokS}
	d.sums = [reqWidth]float64{s0, s1, s2, s3}
}

// Replicate statistics of the request-level bootstrap, in this order.
const (
	repMedianE2E = iota
	repMeanE2E
	repMedianTTFT
	repMeanTTFT
	repMedianTPOT
	repMeanTPOT
	repMeanTokS
	numReqReps
)

// requestReplicates runs the request-level bootstrap of base against other: one replicate
// draws the same requests for every column so the replicates stay consistent. Latency
// ratios are base/other, tokens/s other/base.
func requestReplicates(rng *randStream, base, other *side, cfg bootConfig) [numReqReps][]float64 {
	var reps [numReqReps][]float64
	if len(base.runs) == 0 || len(other.runs) == 0 {
		return reps
	}
	sb, so := newRowSide(base), newRowSide(other)
	for i := range reps {
		reps[i] = make([]float64, 0, cfg.Resamples)
	}
	db, do := newRowDraw(sb, cfg.Budget), newRowDraw(so, cfg.Budget)
	for range cfg.Resamples {
		db.draw(rng, sb, cfg.Budget)
		do.draw(rng, so, cfg.Budget)
		for c := range numMedianCols {
			mb, mo := db.mean(c), do.mean(c)
			medB, medO := db.median(sb, c), do.median(so, c)
			reps[2*c] = append(reps[2*c], medB/medO)
			reps[2*c+1] = append(reps[2*c+1], mb/mo)
		}
		reps[repMeanTokS] = append(reps[repMeanTokS], do.mean(3)/db.mean(3))
	}
	return reps
}
