package report

import (
	"cmp"
	"math"
	"slices"

	"github.com/aclements/go-moremath/stats"
)

// MinPairs is the fewest prompt pairs a paired comparison claims anything from: with 6 pairs
// all in one direction the two-sided sign test reaches p = 0.031.
const MinPairs = 6

// runTrial is a run's trial: every endpoint of a run gets the same prompt at the same run,
// trial and sequence number.
type runTrial struct {
	run   int64
	trial int
}

// seqE2E is one successful request's sequence number and E2E latency.
type seqE2E struct {
	seq, e2e float64
}

// pairIndex lists a side's successful requests with a sequence number and a positive E2E by
// run and trial, each list sorted by sequence number with one request a number: where a side
// holds two, the one read last (as a map from (run, trial, seq) assigned in reading order kept).
func pairIndex(s *side) map[runTrial][]seqE2E {
	m := map[runTrial][]seqE2E{}
	for _, d := range s.levels {
		c := d.ok.cols
		if len(c) <= colSeq || len(c[colSeq]) != len(c[colE2E]) {
			continue // no sequence numbers: nothing to pair by
		}
		k := runTrial{d.lvl.RunID, d.lvl.Trial}
		list := slices.Grow(m[k], len(c[colE2E]))
		for j, e2e := range c[colE2E] {
			seq := c[colSeq][j]
			if math.IsNaN(e2e) || math.IsNaN(seq) || e2e <= 0 {
				continue
			}
			list = append(list, seqE2E{seq, e2e})
		}
		m[k] = list
	}
	bySeq := func(a, b seqE2E) int { return cmp.Compare(a.seq, b.seq) }
	for k, list := range m {
		if !slices.IsSortedFunc(list, bySeq) {
			slices.SortStableFunc(list, bySeq)
		}
		// Keep the last of equal sequence numbers (the sort is stable: reading order).
		out := list[:0]
		for i, r := range list {
			if i+1 < len(list) && list[i+1].seq == r.seq {
				continue
			}
			out = append(out, r)
		}
		m[k] = out
	}
	return m
}

// pairedE2E pairs the two sides' successful requests by prompt within each run and returns,
// per run, the pairs' E2E latencies (baseline, endpoint), each run's pairs sorted.
func pairedE2E(base, other *side) (byRun map[int64][][2]float64, runs []int64) {
	b, o := pairIndex(base), pairIndex(other)
	byRun = map[int64][][2]float64{}
	for k, lb := range b {
		lo, ok := o[k]
		if !ok {
			continue
		}
		for i, j := 0, 0; i < len(lb) && j < len(lo); { // both sorted by sequence number: merge
			switch {
			case lb[i].seq < lo[j].seq:
				i++
			case lb[i].seq > lo[j].seq:
				j++
			default:
				if _, seen := byRun[k.run]; !seen {
					runs = append(runs, k.run)
				}
				byRun[k.run] = append(byRun[k.run], [2]float64{lb[i].e2e, lo[j].e2e})
				i, j = i+1, j+1
			}
		}
	}
	slices.Sort(runs)
	for _, r := range runs { // map order must not reach the bootstrap
		slices.SortFunc(byRun[r], func(x, y [2]float64) int {
			if x[0] != y[0] {
				return cmp.Compare(x[0], y[0])
			}
			return cmp.Compare(x[1], y[1])
		})
	}
	return byRun, runs
}

// signTest is the exact two-sided sign test of "no difference": of n pairs that differ, k
// favour one side; p = 2·min(P(X ≤ k), P(X ≥ k)) for X ~ Binomial(n, ½), at most 1.
func signTest(k, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	d := stats.BinomialDist{N: n, P: 0.5}
	lo := d.CDF(float64(k))
	hi := 1 - d.CDF(float64(k-1))
	return math.Min(1, 2*math.Min(lo, hi))
}

// comparePaired compares E2E latency prompt by prompt: the median over prompts of baseline
// E2E ÷ endpoint E2E, a 95% bootstrap interval (runs resampled, then pairs within runs), and
// the sign test over prompts. Pairing removes the spread between prompts (a long answer is slow
// on every endpoint), so it can support a claim that the unpaired comparison cannot. ok is
// false when the sides share no prompt (different runs).
func comparePaired(g *Group, base, other *side, o *Options) (Speedup, bool) {
	byRun, runs := pairedE2E(base, other)
	total := 0
	for _, r := range runs {
		total += len(byRun[r])
	}
	ratios, vb, vo := make([]float64, 0, total), make([]float64, 0, total), make([]float64, 0, total)
	faster, differ := 0, 0
	for _, r := range runs {
		for _, p := range byRun[r] {
			ratios = append(ratios, p[0]/p[1])
			vb, vo = append(vb, p[0]), append(vo, p[1])
			if p[0] != p[1] {
				differ++
				if p[0] > p[1] {
					faster++
				}
			}
		}
	}
	if len(ratios) == 0 {
		return Speedup{}, false
	}
	// Each run's pair ratios, computed once rather than in every replicate.
	runRatios := make([][]float64, len(runs))
	all := make([]float64, 0, total)
	for i, r := range runs {
		start := len(all)
		for _, p := range byRun[r] {
			all = append(all, p[0]/p[1])
		}
		runRatios[i] = all[start:len(all):len(all)]
	}
	rng := newRNG(o.Seed, streamID(g.ID, base.endpoint, other.endpoint, "paired"))
	reps := pairedReplicates(rng, runRatios, all, o)
	s := Speedup{Group: g.ID, Endpoint: other.endpoint, Baseline: base.endpoint, Metric: MetricE2E,
		Stat: "paired median", BaselineValue: Num(medianInPlace(vb)), Value: Num(medianInPlace(vo)),
		Ratio: Num(medianInPlace(ratios)), CI: percentileInterval(reps, o.Alpha), P: Num(signTest(faster, differ)),
		Test: "sign test over prompts paired within runs", NBaseline: len(ratios), N: len(ratios), Unit: "prompt pairs",
		Faster: faster}
	s.SmallSample = len(ratios) < MinPairs
	ciExcludes := s.CI.Lo > 1 || s.CI.Hi < 1
	s.Significant = !math.IsNaN(float64(s.P)) && float64(s.P) < o.Alpha && ciExcludes
	if s.SmallSample {
		s.Note = "too few prompt pairs to support a claim"
	}
	return s, true
}

// pairedReplicates is comparePaired's bootstrap: each replicate draws runs with replacement,
// then pair ratios with replacement within each drawn run, and takes their median. all is
// every run's ratios (runRatios are slices of it): their range maps the draws, counted as they
// are drawn, for the median (medianCounted).
func pairedReplicates(rng *randStream, runRatios [][]float64, all []float64, o *Options) []float64 {
	reps := make([]float64, 0, o.Resamples)
	buf := make([]float64, 0, len(all))
	lo, hi, ok := valueRange(all)
	m, mapped := newBucketMap(lo, hi)
	mapped = mapped && ok
	var counts [medianBuckets]int32
	var cand []float64
	// Like the unpaired bootstrap, a replicate draws at most about o.Budget pairs (at least 10
	// a run): a subsample can only widen the interval.
	per := max(10, o.Budget/max(len(runRatios), 1))
	idx := make([]int, 0, per) // one run's draws
	for range o.Resamples {
		buf = buf[:0]
		clear(counts[:])
		for range runRatios {
			rs := runRatios[rng.IntN(len(runRatios))]
			idx = rng.appendIntN(idx[:0], len(rs), 0, min(len(rs), per))
			for _, j := range idx {
				v := rs[j]
				buf = append(buf, v)
				counts[m.of(v)]++
			}
		}
		if mapped {
			reps = append(reps, medianCounted(buf, m, &counts, &cand))
		} else {
			reps = append(reps, medianInPlace(buf))
		}
	}
	return reps
}
