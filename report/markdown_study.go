package report

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"
)

// writeFirstStudy writes the top of report.md: the table a first study writes for the
// headline workload (each figure with its 95% interval and n), the one-paragraph verdict, and
// what this does not show.
func (r *Result) writeFirstStudy(m *mdWriter) {
	h := r.headline()
	if h == nil {
		return
	}
	m.printf("## First study: %s\n\n", h.ID)
	m.printf("Workload %s: %s; %s. Each figure has its 95%% interval in brackets and n (successful requests, of requests sent) beside it.\n\n",
		h.ID, mdCell(h.Workload), plural(len(h.Runs), "run", "runs"))
	var rows [][]string
	for _, e := range h.Endpoints {
		rows = append(rows, r.studyRow(h, &e))
	}
	m.table([]string{"endpoint", "requests", "success rate", "mean latency (E2E)", "output tokens/s", "speedup vs " + r.Baseline + " (mean E2E)"}, rows)
	m.printf("**Verdict.** %s\n\n", r.verdict(h))
	m.printf("**What this does not show.**\n\n")
	for _, s := range notMeasured(r) {
		m.printf("- %s\n", s)
	}
	m.printf("\n")
}

// studyRow is one endpoint's row of the first-study table.
func (r *Result) studyRow(g *Group, e *EndpointSummary) []string {
	lo, hi := wilson(e.OK, e.N, r.Method.Alpha)
	succ := fmt.Sprintf("%s [%s, %s] (%d of %d)", fmtPct(e.SuccessRate), fmtPct(Num(lo)), fmtPct(Num(hi)), e.OK, e.N)
	s := g.sides[e.Endpoint]
	e2e := s.pooled(colE2E)
	mlo, mhi := meanInterval(e2e, r.Method.Alpha)
	lat := fmt.Sprintf("%s [%s, %s] (n=%d)", fmtMS(e.MeanE2EMS), fmtMS(Num(mlo)), fmtMS(Num(mhi)), len(e2e))
	tlo, thi := r.throughputInterval(g, s)
	tput := fmt.Sprintf("%s [%s, %s] (n=%d)", fmtTokS(e.OutputTokS), fmtTokS(Num(tlo)), fmtTokS(Num(thi)), e.OK)
	speed := "1× (baseline)"
	if e.Endpoint != r.Baseline {
		speed = "–"
		if sp := r.speedup(g.ID, e.Endpoint, MetricE2E, StatMean); sp != nil {
			speed = fmt.Sprintf("%s [%s] (n=%d/%d) %s", fmtRatio(sp.Ratio), fmtCI(sp.CI), sp.N, sp.NBaseline, sp.Verdict())
		}
	}
	return []string{mdCell(e.Endpoint), fmt.Sprint(e.N), succ, lat, tput, speed}
}

// verdict is the one paragraph after the table: the claims on the headline workload.
func (r *Result) verdict(g *Group) string {
	var parts []string
	for _, e := range g.Endpoints {
		if e.Endpoint == r.Baseline {
			continue
		}
		for _, metric := range []string{MetricE2E, MetricOutTokS} {
			if sp := r.speedup(g.ID, e.Endpoint, metric, StatMean); sp != nil {
				parts = append(parts, claim(sp, g))
			}
		}
		if sp := r.speedup(g.ID, e.Endpoint, MetricE2E, "paired median"); sp != nil {
			parts = append(parts, pairedClaim(sp, g))
		}
	}
	if len(parts) == 0 {
		return "No endpoint was compared with the baseline on this workload."
	}
	return strings.Join(parts, " ")
}

// wilson is the Wilson score interval of a proportion k/n.
func wilson(k, n int, alpha float64) (float64, float64) {
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	z := distuv.UnitNormal.Quantile(1 - alpha/2)
	p, nf := float64(k)/float64(n), float64(n)
	den := 1 + z*z/nf
	mid := (p + z*z/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	return max(0, mid-half), min(1, mid+half)
}

// meanInterval is the t interval of the mean of xs (requests taken as independent).
func meanInterval(xs []float64, alpha float64) (float64, float64) {
	if len(xs) < 2 {
		return math.NaN(), math.NaN()
	}
	m := mean(xs)
	var ss float64
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	se := math.Sqrt(ss / float64(len(xs)-1) / float64(len(xs)))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(len(xs) - 1)}.Quantile(1 - alpha/2)
	return m - t*se, m + t*se
}

// throughputInterval is the 95% bootstrap interval of a side's output throughput, resampled
// as the throughput speedups are (levels, then output tokens within a level, window fixed).
func (r *Result) throughputInterval(g *Group, s *side) (float64, float64) {
	if iv, ok := r.studyTput[s.endpoint]; ok && g == r.headline() {
		return iv[0], iv[1]
	}
	return throughputInterval(g, s, &r.Method)
}

// studyIntervals is throughputInterval of every endpoint of the headline workload.
func (r *Result) studyIntervals() map[string][2]float64 {
	h := r.headline()
	if h == nil {
		return nil
	}
	out := make(map[string][2]float64, len(h.sides))
	for name, s := range h.sides {
		lo, hi := throughputInterval(h, s, &r.Method)
		out[name] = [2]float64{lo, hi}
	}
	return out
}

// throughputInterval is the 95% bootstrap interval of a side's output throughput (see
// Result.throughputInterval), with its own random stream.
func throughputInterval(g *Group, s *side, m *Method) (float64, float64) {
	t := newTputSide(s)
	if len(t.levels) == 0 {
		return math.NaN(), math.NaN()
	}
	rng := newRNG(m.Seed, streamID(g.ID, s.endpoint, "study-throughput"))
	reps := make([]float64, 0, m.Resamples)
	for range m.Resamples {
		reps = append(reps, t.replicate(rng, m.Budget))
	}
	iv := percentileInterval(reps, m.Alpha)
	return iv.Lo, iv.Hi
}
