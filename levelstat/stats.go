package levelstat

import (
	"math"

	"github.com/trackerbench/tracker/bench"
)

// Sample is one final, measured request as the statistics see it. NaN is a NULL column.
type Sample struct {
	Outcome      bench.Outcome
	OK           bool    // status ok
	StartMS      float64 // t0, ms after the level's start
	ElapsedMS    float64 // t0 to the end of the response or the failure
	ScheduledMS  float64 // open loop: when it was due; NaN in a closed loop
	TTFTMS       float64
	E2EMS        float64
	TPOTMS       float64
	OutputTokens float64 // NaN: no count
	EM, F1       float64 // NaN: not scored
	Relayed      bool    // its stream arrived in a relay's bursts
}

// lag is the send lag (start − scheduled); NaN without a schedule.
func (s *Sample) lag() float64 { return s.StartMS - s.ScheduledMS }

// SampleOf starts a request's sample from its status and error class (the rest is the
// caller's to fill).
func SampleOf(status bench.RequestStatus, class bench.ErrorClass) Sample {
	return Sample{Outcome: bench.OutcomeOf(status, class), OK: status == bench.StatusOK}
}

// Good applies v_requests.good: status ok and every target met, TTFT and E2E counted from the
// scheduled time (a one-token answer has no TPOT and passes).
func Good(o bench.SLO, s *Sample) bool {
	if !s.OK {
		return false
	}
	lag := s.lag()
	if math.IsNaN(lag) {
		lag = 0
	}
	switch {
	case o.TTFTMS != nil && (math.IsNaN(s.TTFTMS) || s.TTFTMS+lag > *o.TTFTMS):
		return false
	case o.TPOTMS != nil && s.TPOTMS > *o.TPOTMS: // false for NaN
		return false
	case o.E2EMS != nil && (math.IsNaN(s.E2EMS) || s.E2EMS+lag > *o.E2EMS):
		return false
	}
	return true
}

// Metric names a latency whose percentiles a level reports.
type Metric int

const (
	E2E Metric = iota
	TTFT
	TPOT
	NumMetrics
)

// mean is a running mean of the non-NaN values added.
type mean struct {
	sum float64
	n   int
}

func (m *mean) add(x float64) {
	if !math.IsNaN(x) {
		m.sum += x
		m.n++
	}
}

func (m *mean) value() float64 {
	if m.n == 0 {
		return math.NaN()
	}
	return m.sum / float64(m.n)
}

// Accumulator counts a level's samples in constant memory: everything but the percentiles,
// which need the values in order (FromSorted, FromSortedDesc, Stats.SetPercentilesOf). Not safe
// for concurrent use.
type Accumulator struct {
	slo                              bench.SLO
	n, ok, good, canceled, clientRes int
	relayed                          int
	lat                              [NumMetrics]mean // ok requests
	reqTokS, em, f1, lag             mean
	maxLag                           float64
	outTok                           float64
	nOut                             int
	minStart, maxStart, maxEnd       float64
}

// NewAccumulator starts a level's statistics under the run's SLO.
func NewAccumulator(slo bench.SLO) *Accumulator {
	return &Accumulator{slo: slo, maxLag: math.NaN(), minStart: math.Inf(1), maxStart: math.Inf(-1), maxEnd: math.Inf(-1)}
}

// Add counts one sample.
func (a *Accumulator) Add(s *Sample) {
	switch s.Outcome {
	case bench.OutcomeCanceled:
		a.canceled++
		return
	case bench.OutcomeClientResource:
		a.clientRes++
		return
	}
	a.n++
	a.minStart = math.Min(a.minStart, s.StartMS)
	a.maxStart = math.Max(a.maxStart, s.StartMS)
	a.maxEnd = math.Max(a.maxEnd, s.StartMS+s.ElapsedMS)
	a.em.add(s.EM)
	a.f1.add(s.F1)
	if lag := s.lag(); !math.IsNaN(lag) {
		a.lag.add(lag)
		if math.IsNaN(a.maxLag) || lag > a.maxLag {
			a.maxLag = lag
		}
	}
	if Good(a.slo, s) {
		a.good++
	}
	if s.OK {
		a.addOK(s)
	}
}

func (a *Accumulator) addOK(s *Sample) {
	a.ok++
	if s.Relayed {
		a.relayed++
	}
	a.lat[E2E].add(s.E2EMS)
	a.lat[TTFT].add(s.TTFTMS)
	a.lat[TPOT].add(s.TPOTMS)
	if !math.IsNaN(s.OutputTokens) {
		a.outTok += s.OutputTokens
		a.nOut++
		if s.E2EMS > 0 {
			a.reqTokS.add(s.OutputTokens * 1000.0 / s.E2EMS)
		}
	}
}

// Count is how many successful samples have a value of metric m: the n of its percentiles.
func (a *Accumulator) Count(m Metric) int { return a.lat[m].n }

// Stats is the level's figures so far, percentiles NaN (FromSorted and FromSortedDesc give them).
func (a *Accumulator) Stats() Stats {
	nan := math.NaN()
	s := Stats{N: a.n, OK: a.ok, Good: a.good, Canceled: a.canceled, ClientResource: a.clientRes,
		Relayed: a.relayed, OutputTokens: nan, WindowMS: nan, SendSpanMS: nan,
		MeanReqTokS: a.reqTokS.value(), MeanSendLagMS: a.lag.value(), MaxSendLagMS: a.maxLag}
	for m := range NumMetrics {
		s.Latency[m] = Latency{Mean: a.lat[m].value(), P50: nan, P90: nan, P99: nan}
	}
	if a.nOut > 0 {
		s.OutputTokens = a.outTok
	}
	if a.n > 0 {
		s.WindowMS = a.maxEnd - a.minStart
		s.SendSpanMS = a.maxStart - a.minStart
	}
	s.EM, s.F1 = 100*a.em.value(), 100*a.f1.value()
	return s
}

// Latency is one metric's mean and percentiles over a level's successful requests (ms).
type Latency struct {
	Mean, P50, P90, P99 float64
}

// Stats are a level's figures as docs/metrics.md defines them (v_summary's columns): counts,
// then the raw figures the derived ones (methods) are computed from. NaN is NULL: no data.
type Stats struct {
	N              int // requests with an outcome
	OK             int
	Good           int // ok and within every SLO target
	Canceled       int // canceled by an interruption: not in N
	ClientResource int // failed for want of a client resource: not in N
	Relayed        int // ok requests whose stream arrived in relayed bursts

	Latency       [NumMetrics]Latency // by Metric
	OutputTokens  float64             // Σ over ok requests with a count; NaN when none has one
	WindowMS      float64             // last end − first start of the measured requests
	SendSpanMS    float64             // last t0 − first t0
	MeanReqTokS   float64             // mean over ok requests of output tokens / E2E
	EM, F1        float64             // 100 × mean of the scored requests' values
	MeanSendLagMS float64
	MaxSendLagMS  float64
}

// SetPercentilesOf sets metric m's p50, p90 and p99 from a sorted slice of its values.
func (s *Stats) SetPercentilesOf(m Metric, sorted []float64) {
	s.Latency[m].P50, s.Latency[m].P90, s.Latency[m].P99 = Percentile(sorted, P50), Percentile(sorted, P90), Percentile(sorted, P99)
}

func ratio(a, b float64) float64 {
	if b == 0 || math.IsNaN(b) {
		return math.NaN()
	}
	return a / b
}

// perSecond is count per second of a window in ms; NaN for an empty or unknown window.
func perSecond(count, windowMS float64) float64 {
	if !(windowMS > 0) {
		return math.NaN()
	}
	return count * 1000.0 / windowMS
}

// SuccessRate is ok / n.
func (s *Stats) SuccessRate() float64 { return ratio(float64(s.OK), float64(s.N)) }

// SLOAttainment is good / n.
func (s *Stats) SLOAttainment() float64 { return ratio(float64(s.Good), float64(s.N)) }

// DurationS is the window in seconds.
func (s *Stats) DurationS() float64 { return s.WindowMS / 1000.0 }

// OutputTokS is Σ ok output tokens / window; NaN when the tokens are unknown.
func (s *Stats) OutputTokS() float64 { return perSecond(s.OutputTokens, s.WindowMS) }

// ReqS is ok requests / window.
func (s *Stats) ReqS() float64 { return perSecond(float64(s.OK), s.WindowMS) }

// GoodputRPS is good requests / window.
func (s *Stats) GoodputRPS() float64 { return perSecond(float64(s.Good), s.WindowMS) }

// AchievedRPS is (n − 1) / (last t0 − first t0).
func (s *Stats) AchievedRPS() float64 { return perSecond(float64(s.N-1), s.SendSpanMS) }

// RelayShare is the share of ok requests that arrived in relayed bursts.
func (s *Stats) RelayShare() float64 { return ratio(float64(s.Relayed), float64(s.OK)) }
