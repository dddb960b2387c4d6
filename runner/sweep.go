package runner

import (
	"context"
	"fmt"

	"github.com/trackerbench/tracker/bench"
)

// sweepConcurrency doubles each endpoint's concurrency from 1 until its output throughput
// rises by less than MinGain, its error rate passes MaxErrorRate, its SLO attainment falls
// below the target, or MaxConcurrency is reached. Where and why it stopped is recorded in
// the level's stop_reason. run measures a group of levels: ex.runGroup, or in a test a model
// of a server, so that the stopping decision can be checked on throughputs no scheduling
// noise can move.
func (ex *executor) sweepConcurrency(ctx context.Context, run groupRunner) error {
	p := ex.plan
	sw := p.Sweep
	type state struct {
		prev    float64
		stopped bool
	}
	st := make([]state, len(p.Endpoints))
	endpoints := make([][]int, 0)
	if p.Order == bench.OrderSequential {
		for e := range p.Endpoints {
			endpoints = append(endpoints, []int{e})
		}
	} else {
		all := make([]int, len(p.Endpoints))
		for e := range all {
			all[e] = e
		}
		endpoints = append(endpoints, all)
	}
	for _, eps := range endpoints {
		for c := 1; c <= sw.MaxConcurrency; c *= 2 {
			var group []levelRun
			for _, e := range eps {
				if !st[e].stopped {
					group = append(group, levelRun{e, Load{Concurrency: c}, 1, sweepMinPerStream * c})
				}
			}
			if len(group) == 0 {
				break
			}
			results, err := run(ctx, group)
			if err != nil {
				return err
			}
			for i, lr := range group {
				res := results[i]
				reason := ex.sweepStop(res, st[lr.ep].prev, c)
				if reason == "" && c*2 > sw.MaxConcurrency {
					reason = fmt.Sprintf("reached the sweep's highest concurrency %d", sw.MaxConcurrency)
				}
				if reason != "" {
					st[lr.ep].stopped = true
					if err := ex.r.DB.SetStopReason(ctx, res.id, "sweep stopped: "+reason); err != nil {
						return err
					}
				}
				st[lr.ep].prev = res.snap.OutputTokS
			}
		}
	}
	return nil
}

// groupRunner runs a group of levels and returns their results in the group's order.
type groupRunner func(ctx context.Context, group []levelRun) ([]levelResult, error)

// sweepMinPerStream: a sweep level at concurrency c sends at least this many requests per
// stream in flight (prompts cycle), so that it reaches and holds c; with fewer, throughput would
// stop rising because the workload ran out, not because the server saturated.
const sweepMinPerStream = 4

// sweepStop says why a sweep stops after a level, or "" to go on.
func (ex *executor) sweepStop(res levelResult, prev float64, c int) string {
	p := ex.plan
	s := res.snap
	switch {
	case res.stopReason != "":
		return res.stopReason
	case s.N == 0:
		return "no request completed"
	case p.MaxErrorRate > 0 && 1-s.SuccessRate > p.MaxErrorRate:
		return fmt.Sprintf("error rate %.1f%% > %.1f%%", 100*(1-s.SuccessRate), 100*p.MaxErrorRate)
	case p.SLO.set() && p.Sweep.SLOTarget > 0 && s.SLOAttainment < p.Sweep.SLOTarget:
		return fmt.Sprintf("SLO attainment %.1f%% < target %.1f%%", 100*s.SLOAttainment, 100*p.Sweep.SLOTarget)
	case c > 1 && prev > 0 && (s.OutputTokS-prev)/prev < p.Sweep.MinGain:
		return fmt.Sprintf("output throughput rose %.1f%% (%.1f → %.1f tok/s), less than %.0f%%",
			100*(s.OutputTokS-prev)/prev, prev, s.OutputTokS, 100*p.Sweep.MinGain)
	}
	return ""
}

// sweepRate measures each endpoint's single-stream and saturated request throughput (closed
// loop at 1 and at MaxConcurrency), then runs Steps open-loop rates evenly spaced strictly
// between them, the way GuideLLM sweeps. Rates are each endpoint's own.
func (ex *executor) sweepRate(ctx context.Context) error {
	p := ex.plan
	sw := p.Sweep
	n := len(p.Endpoints)
	all := make([]levelRun, n)
	for e := range all {
		all[e] = levelRun{e, Load{Concurrency: 1}, 1, 0}
	}
	single, err := ex.runGroup(ctx, all)
	if err != nil {
		return err
	}
	for e := range all {
		all[e] = levelRun{e, Load{Concurrency: sw.MaxConcurrency}, 1, sweepMinPerStream * sw.MaxConcurrency}
	}
	saturated, err := ex.runGroup(ctx, all)
	if err != nil {
		return err
	}
	lo, hi := make([]float64, n), make([]float64, n)
	for e := range n {
		lo[e], hi[e] = single[e].snap.ReqS, saturated[e].snap.ReqS
	}
	for k := 1; k <= sw.Steps; k++ {
		var group []levelRun
		for e := range n {
			if lo[e] <= 0 || hi[e] <= lo[e] {
				continue // no room between single-stream and saturated throughput
			}
			rate := lo[e] + (hi[e]-lo[e])*float64(k)/float64(sw.Steps+1)
			group = append(group, levelRun{e, Load{Rate: rate}, 1, 0})
		}
		if len(group) == 0 {
			break
		}
		if _, err := ex.runGroup(ctx, group); err != nil {
			return err
		}
	}
	return nil
}
