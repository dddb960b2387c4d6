package report

import (
	"math"
)

// tputSide is one side's levels for the throughput bootstrap: the successful requests'
// output tokens of every level with a window, in one array, and where each level's start.
type tputSide struct {
	out    []float64
	levels []tputLevel
	picked []int // offsets in out of one replicate's drawn requests, in draw order
	drawn  []int // the levels one replicate drew, in draw order (indices in levels)
}

// tputLevel is one level of a tputSide: n requests from start on, and its window.
type tputLevel struct {
	start, n int
	windowMS float64
}

// newTputSide gathers the levels of s that have a window (the output tokens of ok requests).
func newTputSide(s *side) *tputSide {
	n := 0
	for _, c := range s.levelCl {
		if c.windowMS > 0 {
			n += len(c.cols[colOut])
		}
	}
	t := &tputSide{out: make([]float64, 0, n)} // sized once: a side can hold a million requests
	for _, c := range s.levelCl {
		if c.windowMS > 0 {
			col := c.cols[colOut]
			t.levels = append(t.levels, tputLevel{start: len(t.out), n: len(col), windowMS: c.windowMS})
			t.out = append(t.out, col...)
		}
	}
	return t
}

// replicate is one bootstrap replicate of the side's mean level throughput: levels drawn
// with replacement, then min(n, max(10, budget/k)) output-token counts with replacement
// within each drawn level, scaled to the level's size, over its window held fixed. The
// random numbers are drawn before the values are read, so the reads overlap.
func (t *tputSide) replicate(rng *randStream, budget int) float64 {
	k := len(t.levels)
	per := perCluster(budget, k)
	t.picked, t.drawn = t.picked[:0], t.drawn[:0]
	for range k {
		li := 0
		if k > 1 {
			li = rng.IntN(k)
		}
		l := t.levels[li]
		if l.n == 0 {
			continue
		}
		t.drawn = append(t.drawn, li)
		t.picked = rng.appendIntN(t.picked, l.n, l.start, min(l.n, per))
	}
	var total float64
	next := 0
	for _, li := range t.drawn {
		l := t.levels[li]
		m := min(l.n, per)
		var sum float64
		for _, j := range t.picked[next : next+m] {
			if v := t.out[j]; !math.IsNaN(v) {
				sum += v
			}
		}
		next += m
		total += sum * float64(l.n) / float64(m) * 1000 / l.windowMS
	}
	return total / float64(k)
}
