package runner

import (
	"maps"
	"math"
	"slices"
)

// logHistogram counts values in buckets whose width grows with the value: bucket k > 0 holds
// the values in (histTiny·γ^(k−1), histTiny·γ^k], bucket −k the negatives mirrored, bucket 0
// everything within histTiny of zero. Its size is bounded by the range of the values (a few
// thousand buckets from 1 µs to hours), never by their number, and a quantile read from it is
// within half a bucket (0.5 %) of the exact one.
type logHistogram struct {
	counts map[int32]int64
	n      int64
}

const (
	histGamma = 1.01  // ratio of a bucket's upper bound to its lower bound
	histTiny  = 0.001 // ms: values closer to zero share bucket 0
)

var histLogGamma = math.Log(histGamma)

func newLogHistogram() *logHistogram { return &logHistogram{counts: map[int32]int64{}} }

func histBucket(v float64) int32 {
	a := math.Abs(v)
	if a <= histTiny || math.IsNaN(v) {
		return 0
	}
	k := int32(math.Ceil(math.Log(a/histTiny) / histLogGamma))
	if v < 0 {
		return -k
	}
	return k
}

// histValue is the value a bucket stands for: its geometric centre.
func histValue(k int32) float64 {
	if k == 0 {
		return 0
	}
	v := histTiny * math.Exp((math.Abs(float64(k))-0.5)*histLogGamma)
	if k < 0 {
		return -v
	}
	return v
}

func (h *logHistogram) add(v float64) {
	h.counts[histBucket(v)]++
	h.n++
}

// merge adds o's counts to h.
func (h *logHistogram) merge(o *logHistogram) {
	for k, c := range o.counts {
		h.counts[k] += c
	}
	h.n += o.n
}

// quantile is numpy's default (linear) percentile, p in [0, 1], with each value replaced by
// its bucket's; NaN when empty.
func (h *logHistogram) quantile(p float64) float64 {
	if h.n == 0 {
		return math.NaN()
	}
	keys := slices.Sorted(maps.Keys(h.counts))
	pos := float64(h.n-1) * p
	lo := int64(pos)
	vlo, vhi := h.valueAt(keys, lo), h.valueAt(keys, min(lo+1, h.n-1))
	return vlo + (pos-float64(lo))*(vhi-vlo)
}

// valueAt is the value of rank i (from 0) in sorted order.
func (h *logHistogram) valueAt(keys []int32, i int64) float64 {
	var seen int64
	for _, k := range keys {
		seen += h.counts[k]
		if i < seen {
			return histValue(k)
		}
	}
	return histValue(keys[len(keys)-1])
}

// seqLags keeps an open-loop level's send lags by sequence number in at most maxLagBlocks
// histograms, each covering an equal range of seqs: when a seq falls past the last block, the
// blocks merge in pairs and their width doubles. Memory stays bounded however long the level;
// a quarter of the level is resolved to whole blocks (exact up to maxLagBlocks requests).
type seqLags struct {
	width  int // seqs per block
	blocks []*logHistogram
	n      int64
}

const maxLagBlocks = 64

func (s *seqLags) add(seq int, lag float64) {
	if s.width == 0 {
		s.width = 1
	}
	for seq/s.width >= maxLagBlocks {
		s.coarsen()
	}
	for len(s.blocks) <= seq/s.width {
		s.blocks = append(s.blocks, newLogHistogram())
	}
	s.blocks[seq/s.width].add(lag)
	s.n++
}

func (s *seqLags) coarsen() {
	merged := make([]*logHistogram, 0, maxLagBlocks/2)
	for i := 0; i < len(s.blocks); i += 2 {
		h := s.blocks[i]
		if i+1 < len(s.blocks) {
			h.merge(s.blocks[i+1])
		}
		merged = append(merged, h)
	}
	s.blocks, s.width = merged, s.width*2
}

// quarters returns the lags of the first and of the last quarter of the level by seq: whole
// blocks from each end until each holds at least a quarter of the lags.
func (s *seqLags) quarters() (first, last *logHistogram) {
	q := s.n / 4
	first, last = newLogHistogram(), newLogHistogram()
	for i := 0; i < len(s.blocks) && first.n < q; i++ {
		first.merge(s.blocks[i])
	}
	for i := len(s.blocks) - 1; i >= 0 && last.n < q; i-- {
		last.merge(s.blocks[i])
	}
	return first, last
}
