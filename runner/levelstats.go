package runner

import (
	"math"
	"sync"

	"github.com/trackerbench/tracker/bench"
)

// levelStats accumulates a level's results as they complete, with the definitions of
// v_summary (docs/metrics.md), for the live view, early stops and sweep decisions.
type levelStats struct {
	mu           sync.Mutex
	slo          SLO
	n, ok, good  int
	failed       int
	clientRes    int // failed for want of a client resource: not in n (bench.OutcomeClientResource)
	outputTokens int
	firstStart   float64
	lastEnd      float64
	firstSend    float64
	lastSend     float64
	ttfts        *logHistogram // bounded: the live p50 TTFT
	lags         seqLags       // open loop: send lag by sequence number, bounded
}

func newLevelStats(slo SLO) *levelStats {
	return &levelStats{slo: slo, firstStart: math.Inf(1), lastEnd: math.Inf(-1),
		firstSend: math.Inf(1), lastSend: math.Inf(-1), ttfts: newLogHistogram()}
}

// good applies the SLO rule of v_requests.good to one record.
func (s SLO) good(r *bench.Request) bool {
	if r.Status != bench.StatusOK {
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

func (ls *levelStats) add(r *bench.Request) {
	outcome := bench.OutcomeOf(r.Status, r.ErrorClass)
	if outcome == bench.OutcomeCanceled {
		return // no outcome: not a success, not a failure (as in v_summary)
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if outcome == bench.OutcomeClientResource {
		ls.clientRes++ // the client's failure, not the endpoint's: counted apart, as in v_summary
		return
	}
	ls.n++
	ls.firstStart = math.Min(ls.firstStart, r.StartMS)
	ls.lastEnd = math.Max(ls.lastEnd, r.StartMS+r.ElapsedMS)
	ls.firstSend = math.Min(ls.firstSend, r.StartMS)
	ls.lastSend = math.Max(ls.lastSend, r.StartMS)
	if r.Status == bench.StatusOK {
		ls.ok++
		if r.OutputTokens != nil {
			ls.outputTokens += *r.OutputTokens
		}
		if r.TTFTMS != nil {
			ls.ttfts.add(*r.TTFTMS)
		}
	} else {
		ls.failed++
	}
	if ls.slo.good(r) {
		ls.good++
	}
	if r.ScheduledMS != nil && r.Seq != nil {
		ls.lags.add(*r.Seq, r.StartMS-*r.ScheduledMS)
	}
}

// snapshot is a level's figures so far.
type snapshot struct {
	N, OK, Failed  int
	ClientResource int     // requests that failed for want of a client resource: not in N
	OutputTokS     float64 // Σ ok output tokens / (last end − first start)
	ReqS           float64 // ok / window
	AchievedRPS    float64 // (n − 1) / (last send − first send)
	SuccessRate    float64
	SLOAttainment  float64
	P50TTFT        float64 // NaN when none; from a log histogram, within 0.5 % (live view only)
}

func (ls *levelStats) snapshot() snapshot {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	s := snapshot{N: ls.n, OK: ls.ok, Failed: ls.failed, ClientResource: ls.clientRes, P50TTFT: math.NaN()}
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
	s.P50TTFT = ls.ttfts.quantile(0.5)
	return s
}

// lagGrew reports whether an open-loop level's send lag grew: the median lag of the last
// quarter of its sends exceeds the first quarter's by more than max(20 ms, one mean gap).
// It returns both medians for the note.
func (ls *levelStats) lagGrew(rate float64) (bool, float64, float64) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.lags.n < 8 {
		return false, 0, 0
	}
	first, last := ls.lags.quarters()
	a, b := first.quantile(0.5), last.quantile(0.5)
	threshold := 20.0
	if rate > 0 {
		threshold = math.Max(threshold, 1000/rate)
	}
	return b-a > threshold, a, b
}
