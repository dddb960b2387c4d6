package report

import (
	"math"
	"math/rand/v2"
)

// reqCols are the request columns the request-level bootstrap draws, side by side in a
// rowCluster: E2E, TTFT, TPOT and per-request tokens/s.
var reqCols = [reqWidth]int{colE2E, colTTFT, colTPOT, colTokS}

const reqWidth = 4

// rowDraw is one side's replicate of the request-level bootstrap: the drawn values of each
// column (NaN skipped) and their sums, added in draw order (so a mean is exactly what
// mean(vals) would return). Its buffers are reused from replicate to replicate.
type rowDraw struct {
	vals [reqWidth][]float64
	sums [reqWidth]float64
}

// newRowDraw sizes the buffers for the most values one replicate of side can draw.
func newRowDraw(side []*rowCluster, budget int) *rowDraw {
	k := len(side)
	per := max(10, budget/max(k, 1))
	// A replicate draws k clusters with replacement: at most k times the largest draw.
	largest := 0
	for _, c := range side {
		largest = max(largest, min(c.n, per))
	}
	most := k * largest
	d := &rowDraw{}
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

// draw is one two-stage bootstrap replicate of one side (see resampleRows, which it
// reproduces draw for draw: the same random numbers in the same order, the same values).
func (d *rowDraw) draw(rng *rand.Rand, side []*rowCluster, budget int) {
	for i := range d.vals {
		d.vals[i] = d.vals[i][:0]
		d.sums[i] = 0
	}
	k := len(side)
	per := max(10, budget/max(k, 1))
	for range k {
		c := side[0]
		if k > 1 {
			c = side[rng.IntN(k)]
		}
		if c.n == 0 {
			continue
		}
		for range min(c.n, per) {
			j := rng.IntN(c.n) * reqWidth
			row := c.rows[j : j+reqWidth : j+reqWidth]
			for ci, v := range row {
				if v == v { // v != v only for NaN
					d.vals[ci] = append(d.vals[ci], v)
					d.sums[ci] += v
				}
			}
		}
	}
}

// rowClusters copies a side's runs row-major (the four request columns of a request side by
// side), which keeps each random draw of the bootstrap to one cache line.
func rowClusters(s *side) []*rowCluster {
	out := make([]*rowCluster, len(s.runs))
	for i, c := range s.runs {
		rc := &rowCluster{n: c.n(), rows: make([]float64, 0, c.n()*reqWidth)}
		for j := range rc.n {
			for _, col := range reqCols {
				rc.rows = append(rc.rows, c.value(col, j))
			}
		}
		out[i] = rc
	}
	return out
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
func requestReplicates(rng *rand.Rand, base, other *side, cfg bootConfig) [numReqReps][]float64 {
	var reps [numReqReps][]float64
	sb, so := rowClusters(base), rowClusters(other)
	if len(sb) == 0 || len(so) == 0 {
		return reps
	}
	for i := range reps {
		reps[i] = make([]float64, 0, cfg.Resamples)
	}
	db, do := newRowDraw(sb, cfg.Budget), newRowDraw(so, cfg.Budget)
	for range cfg.Resamples {
		db.draw(rng, sb, cfg.Budget)
		do.draw(rng, so, cfg.Budget)
		for c := range 3 {
			mb, mo := db.mean(c), do.mean(c)
			medB, medO := medianInPlace(db.vals[c]), medianInPlace(do.vals[c])
			reps[2*c] = append(reps[2*c], medB/medO)
			reps[2*c+1] = append(reps[2*c+1], mb/mo)
		}
		reps[repMeanTokS] = append(reps[repMeanTokS], do.mean(3)/db.mean(3))
	}
	return reps
}
