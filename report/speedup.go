package report

import (
	"fmt"
	"hash/fnv"
	"math"

	"github.com/aclements/go-moremath/stats"
)

// Metric names, as in v_summary's columns.
const (
	MetricE2E     = "e2e_ms"
	MetricTTFT    = "ttft_ms"
	MetricTPOT    = "tpot_ms"
	MetricOutTokS = "output_tok_s"
	MetricReqTokS = "mean_req_tok_s"
)

// metricInfo says how to name a metric and which direction is better.
var metricInfo = map[string]struct {
	Name        string
	Unit        string
	LowerBetter bool
}{
	MetricE2E:     {"E2E latency", "ms", true},
	MetricTTFT:    {"TTFT", "ms", true},
	MetricTPOT:    {"TPOT", "ms", true},
	MetricOutTokS: {"output throughput", "tok/s", false},
	MetricReqTokS: {"per-request tokens/s", "tok/s", false},
}

// Speedup compares one endpoint with the baseline on one metric in one group. Ratio > 1
// means the endpoint is better: baseline/endpoint for latencies, endpoint/baseline for
// throughputs.
type Speedup struct {
	Group         string   `json:"group"`
	Endpoint      string   `json:"endpoint"`
	Baseline      string   `json:"baseline"`
	Metric        string   `json:"metric"`
	Stat          Stat     `json:"stat"`
	BaselineValue Num      `json:"baseline_value"`
	Value         Num      `json:"value"`
	Ratio         Num      `json:"speedup"`
	CI            Interval `json:"ci95"`
	P             Num      `json:"p"`
	Test          string   `json:"test"`
	NBaseline     int      `json:"n_baseline"`
	N             int      `json:"n"`
	Unit          string   `json:"sample_unit"` // requests or levels
	Significant   bool     `json:"significant"`
	SmallSample   bool     `json:"small_sample"`
	Note          string   `json:"note,omitempty"`
	Faster        int      `json:"pairs_faster,omitempty"` // paired: pairs where the endpoint was faster
}

// Stat is the statistic a speedup compares.
type Stat string

// The statistics.
const (
	StatMedian Stat = "median"
	StatMean   Stat = "mean"
)

// Verdict is what a speedup says, in benchstat's notation: "~" when the difference is not
// significant. Its text is what the report prints.
type Verdict string

// The verdicts.
const (
	VerdictTooFew Verdict = "too few" // too few samples a side to test
	VerdictSame   Verdict = "~"       // no significant difference
	VerdictBetter Verdict = "better"  // significantly better than the baseline
	VerdictWorse  Verdict = "worse"   // significantly worse than the baseline
)

// significant reports whether v is a significant difference, better or worse.
func (v Verdict) significant() bool { return v == VerdictBetter || v == VerdictWorse }

// Verdict is the speedup's verdict.
func (s Speedup) Verdict() Verdict {
	switch {
	case s.SmallSample:
		return VerdictTooFew
	case !s.Significant:
		return VerdictSame
	case s.Ratio > 1:
		return VerdictBetter
	default:
		return VerdictWorse
	}
}

func streamID(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// compareParts are the independent parts of a comparison, in the order their speedups are
// listed: each draws from its own random stream, so they may run in parallel.
var compareParts = [...]func(g *Group, base, other *side, o *Options) []Speedup{
	compareRequests,
	func(g *Group, base, other *side, o *Options) []Speedup {
		if ps, ok := comparePaired(g, base, other, o); ok {
			return []Speedup{ps}
		}
		return nil
	},
	func(g *Group, base, other *side, o *Options) []Speedup {
		return []Speedup{compareThroughput(g, base, other, o)}
	},
}

// compare computes every speedup of other over base within a group.
func compare(g *Group, base, other *side, o *Options) []Speedup {
	var out []Speedup
	for _, part := range compareParts {
		out = append(out, part(g, base, other, o)...)
	}
	return out
}

// compareRequests computes the request-level speedups (E2E, TTFT and TPOT medians and means,
// per-request tokens/s) of other over base.
func compareRequests(g *Group, base, other *side, o *Options) []Speedup {
	var out []Speedup
	cfg := bootConfig{Resamples: o.Resamples, Seed: o.Seed, Budget: o.Budget}

	cols := reqCols
	rng := newRNG(cfg.Seed, streamID(g.ID, base.endpoint, other.endpoint, "requests"))
	reps := requestReplicates(rng, base, other, cfg)
	i := 0
	for ci, metric := range []string{MetricE2E, MetricTTFT, MetricTPOT} {
		// The pooled columns, sorted once per side: the U test's result does not depend on
		// the order of its samples, and the medians are read off the sorted values.
		pb, po := base.pool(cols[ci]), other.pool(cols[ci])
		p, test := requestUTest(po.sorted, pb.sorted)
		mb, mo := pb.mean, po.mean
		medB, medO := medianSorted(pb.sorted), medianSorted(po.sorted)
		nb, no := len(pb.sorted), len(po.sorted)
		out = append(out,
			newSpeedup(g, base, other, metric, StatMedian, medB, medO, medB/medO, reps[i], p, test, nb, no, "requests", o),
			newSpeedup(g, base, other, metric, StatMean, mb, mo, mb/mo, reps[i+1], p, test, nb, no, "requests", o))
		i += 2
	}
	pb, po := base.pool(colTokS), other.pool(colTokS)
	p, test := requestUTest(po.sorted, pb.sorted)
	mb, mo := pb.mean, po.mean
	out = append(out, newSpeedup(g, base, other, MetricReqTokS, StatMean, mb, mo, mo/mb, reps[6], p, test,
		len(pb.sorted), len(po.sorted), "requests", o))
	return out
}

// requestUTest is the two-sided U test of a over b, requests as the samples (each sorted), and
// its name.
func requestUTest(a, b []float64) (p float64, test string) {
	p, ok := uTestSortedTwoSided(a, b)
	if !ok {
		return p, "no test: a side has no values"
	}
	return p, "Mann–Whitney U, two-sided, over requests"
}

// compareThroughput compares output throughput, a per-level figure (v_summary's output_tok_s):
// each side's value is the mean over its levels. The bootstrap resamples levels, then the
// successful requests' output tokens within each level (the level's window held fixed). The U
// test runs over per-level values when each side has at least two levels.
func compareThroughput(g *Group, base, other *side, o *Options) Speedup {
	levelTput := func(s *side) []float64 {
		var v []float64
		for _, d := range s.levels {
			if d.stats.OK > 0 && d.stats.OutputTokS.Valid() {
				v = append(v, float64(d.stats.OutputTokS))
			}
		}
		return v
	}
	tb, to := levelTput(base), levelTput(other)
	cb, co := newTputSide(base), newTputSide(other)
	var reps []float64
	if len(cb.levels) > 0 && len(co.levels) > 0 {
		rng := newRNG(o.Seed, streamID(g.ID, base.endpoint, other.endpoint, "throughput"))
		reps = make([]float64, 0, o.Resamples)
		for range o.Resamples {
			reps = append(reps, co.replicate(rng, o.Budget)/cb.replicate(rng, o.Budget))
		}
	}
	p, test := math.NaN(), "no test: fewer than two levels on a side; the interval reflects request-to-request variation within a level only"
	if len(tb) >= 2 && len(to) >= 2 {
		if pv, ok := uTest(to, tb, stats.LocationDiffers); ok {
			p, test = pv, "Mann–Whitney U, two-sided, over levels"
			if min(len(tb), len(to)) < 4 {
				test += fmt.Sprintf(" (%d vs %d levels: too few for the test to reach p < 0.05 whatever the difference)", len(to), len(tb))
			}
		}
	}
	mb, mo := mean(tb), mean(to)
	nb, no := requestsOK(base), requestsOK(other)
	sp := newSpeedup(g, base, other, MetricOutTokS, StatMean, mb, mo, mo/mb, reps, p, test, nb, no, "requests", o)
	return sp
}

func requestsOK(s *side) int {
	n := 0
	for _, d := range s.levels {
		n += d.stats.OK
	}
	return n
}

func newSpeedup(g *Group, base, other *side, metric string, stat Stat, vb, vo, ratio float64, reps []float64,
	p float64, test string, nb, no int, unit string, o *Options) Speedup {
	s := Speedup{Group: g.ID, Endpoint: other.endpoint, Baseline: base.endpoint, Metric: metric, Stat: stat,
		BaselineValue: Num(vb), Value: Num(vo), Ratio: Num(ratio), CI: percentileInterval(reps, o.Alpha),
		P: Num(p), Test: test, NBaseline: nb, N: no, Unit: unit}
	s.SmallSample = min(nb, no) < o.MinSample
	ciExcludes := s.CI.Lo > 1 || s.CI.Hi < 1
	if math.IsNaN(p) {
		// No test possible: the interval alone decides.
		s.Significant = ciExcludes && s.Ratio.Valid()
	} else {
		s.Significant = p < o.Alpha && ciExcludes && s.Ratio.Valid()
	}
	if s.SmallSample {
		s.Note = "too few requests to support a claim"
	}
	return s
}
