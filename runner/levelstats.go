package runner

import (
	"math"
	"sort"
	"sync"
	"time"

	"github.com/trackerbench/tracker/store"
)

// levelStats accumulates a level's results as they complete, with the definitions of
// v_summary (docs/metrics.md), for the live view, early stops and sweep decisions.
type levelStats struct {
	mu           sync.Mutex
	slo          SLO
	n, ok, good  int
	failed       int
	outputTokens int
	firstStart   float64
	lastEnd      float64
	firstSend    float64
	lastSend     float64
	ttfts        []float64
	lags         []lagPoint // open loop: send lag by sequence number
	began        time.Time
}

type lagPoint struct {
	seq int
	lag float64
}

func newLevelStats(slo SLO) *levelStats {
	return &levelStats{slo: slo, firstStart: math.Inf(1), lastEnd: math.Inf(-1),
		firstSend: math.Inf(1), lastSend: math.Inf(-1), began: time.Now()}
}

// good applies the SLO rule of v_requests.good to one record.
func (s SLO) good(r *store.Request) bool {
	if r.Status != store.StatusOK {
		return false
	}
	lag := 0.0
	if r.ScheduledMS != nil {
		lag = r.StartMS - *r.ScheduledMS
	}
	if s.TTFT > 0 && (r.TTFTMS == nil || *r.TTFTMS+lag > ms(s.TTFT)) {
		return false
	}
	if s.TPOT > 0 && r.TPOTMS != nil && *r.TPOTMS > ms(s.TPOT) {
		return false
	}
	if s.E2E > 0 && (r.E2EMS == nil || *r.E2EMS+lag > ms(s.E2E)) {
		return false
	}
	return true
}

func (ls *levelStats) add(r *store.Request) {
	if r.Status == store.StatusCanceled {
		return // no outcome: not a success, not a failure (as in v_summary)
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.n++
	ls.firstStart = math.Min(ls.firstStart, r.StartMS)
	ls.lastEnd = math.Max(ls.lastEnd, r.StartMS+r.ElapsedMS)
	ls.firstSend = math.Min(ls.firstSend, r.StartMS)
	ls.lastSend = math.Max(ls.lastSend, r.StartMS)
	if r.Status == store.StatusOK {
		ls.ok++
		if r.OutputTokens != nil {
			ls.outputTokens += *r.OutputTokens
		}
		if r.TTFTMS != nil {
			ls.ttfts = append(ls.ttfts, *r.TTFTMS)
		}
	} else {
		ls.failed++
	}
	if ls.slo.good(r) {
		ls.good++
	}
	if r.ScheduledMS != nil && r.Seq != nil {
		ls.lags = append(ls.lags, lagPoint{*r.Seq, r.StartMS - *r.ScheduledMS})
	}
}

// snapshot is a level's figures so far.
type snapshot struct {
	N, OK, Failed int
	OutputTokS    float64 // Σ ok output tokens / (last end − first start)
	ReqS          float64 // ok / window
	AchievedRPS   float64 // (n − 1) / (last send − first send)
	SuccessRate   float64
	SLOAttainment float64
	P50TTFT       float64 // NaN when none
}

func (ls *levelStats) snapshot() snapshot {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	s := snapshot{N: ls.n, OK: ls.ok, Failed: ls.failed, P50TTFT: math.NaN()}
	if ls.n == 0 {
		return s
	}
	if w := ls.lastEnd - ls.firstStart; w > 0 {
		s.OutputTokS = float64(ls.outputTokens) * 1000 / w
		s.ReqS = float64(ls.ok) * 1000 / w
	}
	if span := ls.lastSend - ls.firstSend; span > 0 {
		s.AchievedRPS = float64(ls.n-1) * 1000 / span
	}
	s.SuccessRate = float64(ls.ok) / float64(ls.n)
	s.SLOAttainment = float64(ls.good) / float64(ls.n)
	if len(ls.ttfts) > 0 {
		s.P50TTFT = percentile(ls.ttfts, 0.5)
	}
	return s
}

// percentile is numpy's default (linear) percentile of xs, p in [0, 1].
func percentile(xs []float64, p float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	h := float64(len(s)-1) * p
	lo := int(h)
	if lo+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

// lagGrew reports whether an open-loop level's send lag grew: the median lag of the last
// quarter of its sends exceeds the first quarter's by more than max(20 ms, one mean gap).
// It returns both medians for the note.
func (ls *levelStats) lagGrew(rate float64) (bool, float64, float64) {
	ls.mu.Lock()
	pts := append([]lagPoint(nil), ls.lags...)
	ls.mu.Unlock()
	if len(pts) < 8 {
		return false, 0, 0
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i].seq < pts[j].seq })
	q := len(pts) / 4
	first, last := make([]float64, q), make([]float64, q)
	for i := range q {
		first[i] = pts[i].lag
		last[i] = pts[len(pts)-q+i].lag
	}
	a, b := percentile(first, 0.5), percentile(last, 0.5)
	threshold := 20.0
	if rate > 0 {
		threshold = math.Max(threshold, 1000/rate)
	}
	return b-a > threshold, a, b
}
