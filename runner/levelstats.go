package runner

import (
	"math"
	"sync"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/levelstat"
)

// levelStats accumulates a level's results as they complete with levelstat, the one
// implementation of v_summary's definitions (docs/metrics.md), for the live view, early stops
// and sweep decisions; the figures stored when the level ends come from the same code. Memory
// is bounded: levelstat's counts and sums, a log histogram for the live p50 TTFT and the send
// lags by sequence range.
type levelStats struct {
	mu    sync.Mutex
	acc   *levelstat.Accumulator
	ttfts *logHistogram // bounded: the live p50 TTFT
	lags  seqLags       // open loop: send lag by sequence number, bounded
}

func newLevelStats(slo SLO) *levelStats {
	return &levelStats{acc: levelstat.NewAccumulator(slo.store()), ttfts: newLogHistogram()}
}

// sampleOf is a record as levelstat sees it.
func sampleOf(r *bench.Request) levelstat.Sample {
	s := levelstat.SampleOf(r.Status, r.ErrorClass)
	s.StartMS, s.ElapsedMS, s.Relayed = r.StartMS, r.ElapsedMS, r.RelayFlag
	s.ScheduledMS, s.TTFTMS, s.E2EMS, s.TPOTMS = nanIfNil(r.ScheduledMS), nanIfNil(r.TTFTMS), nanIfNil(r.E2EMS), nanIfNil(r.TPOTMS)
	s.EM, s.F1 = nanIfNil(r.EM), nanIfNil(r.F1)
	s.OutputTokens = math.NaN()
	if r.OutputTokens != nil {
		s.OutputTokens = float64(*r.OutputTokens)
	}
	return s
}

func nanIfNil(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func (ls *levelStats) add(r *bench.Request) {
	s := sampleOf(r)
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.acc.Add(&s)
	if s.Outcome != bench.OutcomeMeasured {
		return
	}
	if s.OK && !math.IsNaN(s.TTFTMS) {
		ls.ttfts.add(s.TTFTMS)
	}
	if r.ScheduledMS != nil && r.Seq != nil {
		ls.lags.add(*r.Seq, r.StartMS-*r.ScheduledMS)
	}
}

// snapshot is a level's figures so far.
type snapshot struct {
	N, OK, Failed  int
	ClientResource int     // requests that failed for want of a client resource: not in N
	OutputTokS     float64 // Σ ok output tokens / (last end − first start); 0 when unknown
	ReqS           float64 // ok / window
	AchievedRPS    float64 // (n − 1) / (last send − first send)
	SuccessRate    float64
	SLOAttainment  float64
	P50TTFT        float64 // NaN when none; from a log histogram, within 0.5 % (live view only)
}

func (ls *levelStats) snapshot() snapshot {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	st := ls.acc.Stats()
	s := snapshot{N: st.N, OK: st.OK, Failed: st.N - st.OK, ClientResource: st.ClientResource, P50TTFT: math.NaN()}
	if st.N == 0 {
		return s
	}
	s.OutputTokS, s.ReqS, s.AchievedRPS = zeroIfNaN(st.OutputTokS()), zeroIfNaN(st.ReqS()), zeroIfNaN(st.AchievedRPS())
	s.SuccessRate, s.SLOAttainment = st.SuccessRate(), st.SLOAttainment()
	s.P50TTFT = ls.ttfts.quantile(0.5)
	return s
}

// zeroIfNaN keeps the live figures numeric (sweeps compare them): no data is 0 here.
func zeroIfNaN(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return x
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
