package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/trackerbench/tracker/bench"
)

// Every sentence here is built from computed numbers, with the figure and its interval beside
// it; nothing is said that the data did not produce.

func (r *Result) speedup(group, endpoint, metric string, stat Stat) *Speedup {
	for i := range r.Speedups {
		s := &r.Speedups[i]
		if s.Group == group && s.Endpoint == endpoint && s.Metric == metric && s.Stat == stat {
			return s
		}
	}
	return nil
}

func (r *Result) group(id string) *Group {
	for _, g := range r.Groups {
		if g.ID == id {
			return g
		}
	}
	return nil
}

func (g *Group) summary(endpoint string) *EndpointSummary {
	for i := range g.Endpoints {
		if g.Endpoints[i].Endpoint == endpoint {
			return &g.Endpoints[i]
		}
	}
	return nil
}

// evidence is the bracket after a claim: values, interval, test and sample sizes.
func evidence(s *Speedup, valueFmt func(Num) string) string {
	return fmt.Sprintf("%s vs %s; 95%% CI %s, %s; %s vs %s successful requests", valueFmt(s.Value), valueFmt(s.BaselineValue),
		fmtCI(s.CI), fmtP(s.P), fmtInt(s.N), fmtInt(s.NBaseline))
}

func valueFormatter(metric string) func(Num) string {
	if metricInfo[metric].LowerBetter {
		return fmtMS
	}
	return fmtTokS
}

// claim is the one-sentence statement of a speedup.
func claim(s *Speedup, g *Group) string {
	info := metricInfo[s.Metric]
	what := string(s.Stat) + " " + info.Name
	if s.Metric == MetricOutTokS {
		what = info.Name
	}
	where := fmt.Sprintf("On %s (%s)", g.ID, g.Fingerprint.LoadText())
	ev := evidence(s, valueFormatter(s.Metric))
	switch s.Verdict() {
	case VerdictTooFew:
		return fmt.Sprintf("%s, only %s vs %s successful requests: too few to support a claim about %s between %s and %s "+
			"(measured %s, 95%% CI %s; with so few requests even the interval is not to be trusted).", where, fmtInt(s.N), fmtInt(s.NBaseline), what, s.Endpoint,
			s.Baseline, fmtRatio(s.Ratio), fmtCI(s.CI))
	case VerdictSame:
		return fmt.Sprintf("%s, no significant difference in %s between %s and %s (%s; %s) — shown as ~.", where, what,
			s.Endpoint, s.Baseline, fmtRatio(s.Ratio), ev)
	}
	better := s.Ratio > 1
	factor := float64(s.Ratio)
	ci := s.CI
	if !better {
		factor = 1 / factor
		ci = Interval{1 / s.CI.Hi, 1 / s.CI.Lo}
	}
	ev = fmt.Sprintf("%s vs %s; 95%% CI %s, %s; %s vs %s successful requests", valueFormatter(s.Metric)(s.Value),
		valueFormatter(s.Metric)(s.BaselineValue), fmtCI(ci), fmtP(s.P), fmtInt(s.N), fmtInt(s.NBaseline))
	if info.LowerBetter {
		adj := "faster"
		if !better {
			adj = "slower"
		}
		return fmt.Sprintf("%s, %s was %s %s than %s in %s (%s).", where, s.Endpoint, fmtRatio(Num(factor)), adj, s.Baseline, what, ev)
	}
	adj := "more"
	if !better {
		adj = "less"
	}
	return fmt.Sprintf("%s, %s delivered %s %s %s than %s (%s).", where, s.Endpoint, fmtRatio(Num(factor)), adj, what, s.Baseline, ev)
}

// gapSentences are the report's "where the gap is" lines, the same in index.html and
// report.md: for each group and each endpoint other than the baseline, where its significant
// E2E gap comes from, then the sentences about input length.
func (r *Result) gapSentences() []string {
	var gaps []string
	for _, g := range r.Groups {
		if g.sides[r.Baseline] == nil {
			continue
		}
		for _, name := range g.endpointNames() {
			if name == r.Baseline {
				continue
			}
			if s := gapSentence(r, g, name); s != "" {
				gaps = append(gaps, s)
			}
		}
	}
	return append(gaps, inputSentences(r)...)
}

// gapSentence splits a significant E2E gap into time to first token and decode.
func gapSentence(r *Result, g *Group, endpoint string) string {
	s := r.speedup(g.ID, endpoint, MetricE2E, StatMedian)
	if s == nil || !s.Verdict().significant() {
		return ""
	}
	b, e := g.summary(r.Baseline), g.summary(endpoint)
	if b == nil || e == nil {
		return ""
	}
	dE2E := float64(b.MeanE2EMS - e.MeanE2EMS)
	dTTFT := float64(b.MeanTTFTMS - e.MeanTTFTMS)
	dDec := float64(b.MeanDecodeMS - e.MeanDecodeMS)
	if math.IsNaN(dTTFT) || math.IsNaN(dDec) || dE2E == 0 {
		return ""
	}
	faster, slower := endpoint, r.Baseline
	if dE2E < 0 {
		faster, slower = slower, faster
		dE2E, dTTFT, dDec = -dE2E, -dTTFT, -dDec
	}
	tpot := r.speedup(g.ID, endpoint, MetricTPOT, StatMedian)
	ttft := r.speedup(g.ID, endpoint, MetricTTFT, StatMedian)
	if tpot == nil || ttft == nil {
		return ""
	}
	detail := fmt.Sprintf("median TTFT %s %s vs %s %s, speedup %s, 95%% CI %s; median TPOT %s %s vs %s %s, speedup %s, 95%% CI %s",
		endpoint, fmtMS(e.P50TTFTMS), r.Baseline, fmtMS(b.P50TTFTMS), fmtRatio(ttft.Ratio), fmtCI(ttft.CI),
		endpoint, fmtMS(e.P50TPOTMS), r.Baseline, fmtMS(b.P50TPOTMS), fmtRatio(tpot.Ratio), fmtCI(tpot.CI))
	var where string
	if dTTFT >= 0 && dDec >= 0 {
		share := dTTFT / (dTTFT + dDec)
		if share >= 0.5 {
			where = fmt.Sprintf("%.0f%% of it is time to first token (prefill, queueing, network) and %.0f%% decode", 100*share, 100*(1-share))
		} else {
			where = fmt.Sprintf("%.0f%% of it is decode (E2E − TTFT) and %.0f%% time to first token (prefill, queueing, network)", 100*(1-share), 100*share)
		}
	} else if dTTFT < 0 {
		where = fmt.Sprintf("all of it is decode: %s is %s slower to the first token but %s faster in decode", faster, fmtMS(Num(-dTTFT)), fmtMS(Num(dDec)))
	} else {
		where = fmt.Sprintf("all of it is time to first token: %s is %s faster to the first token but %s slower in decode", faster, fmtMS(Num(dTTFT)), fmtMS(Num(-dDec)))
	}
	out := fmt.Sprintf("On %s, %s is %s faster than %s in mean E2E; %s (%s) in the mean decomposition E2E = TTFT + (E2E − TTFT).",
		g.ID, faster, fmtMS(Num(dE2E)), slower, where, detail)
	if b.ServerGapMS.Valid() && e.ServerGapMS.Valid() {
		out += fmt.Sprintf(" Servers reported their own TTFT: client minus server TTFT (network, proxies, client) is %s for %s and %s for %s.",
			fmtMS(e.ServerGapMS), endpoint, fmtMS(b.ServerGapMS), r.Baseline)
	}
	return out
}

// findings lists the headline sentences of the report.
func findings(r *Result) []string {
	var out []string
	for _, g := range r.Groups {
		if g.sides[r.Baseline] == nil || len(g.sides) < 2 {
			continue
		}
		for _, name := range g.endpointNames() {
			if name == r.Baseline {
				continue
			}
			if s := r.speedup(g.ID, name, MetricE2E, StatMedian); s != nil {
				out = append(out, claim(s, g))
			}
			if s := r.speedup(g.ID, name, MetricE2E, "paired median"); s != nil {
				out = append(out, pairedClaim(s, g))
			}
			if s := r.speedup(g.ID, name, MetricOutTokS, StatMean); s != nil && len(r.Groups) <= 12 {
				out = append(out, claim(s, g))
			}
		}
	}
	out = append(out, relaySentences(r)...)
	out = append(out, cacheSentences(r)...)
	out = append(out, winsSentences(r)...)
	for _, c := range r.Curves {
		out = append(out, curveSentences(r, &c)...)
	}
	out = append(out, serverSentences(r)...)
	for _, h := range r.History {
		if h.Regression {
			out = append(out, regressionSentence(&h))
		}
	}
	return out
}

// winsSentences says, per endpoint, on how many workloads it is significantly faster in
// median E2E than the baseline.
func winsSentences(r *Result) []string {
	var out []string
	for _, e := range r.Endpoints {
		if e == r.Baseline {
			continue
		}
		var better, worse, same, few []string
		for _, s := range r.Speedups {
			if s.Endpoint != e || s.Metric != MetricE2E || s.Stat != StatMedian {
				continue
			}
			switch s.Verdict() {
			case VerdictBetter:
				better = append(better, s.Group)
			case VerdictWorse:
				worse = append(worse, s.Group)
			case VerdictSame:
				same = append(same, s.Group)
			default:
				few = append(few, s.Group)
			}
		}
		total := len(better) + len(worse) + len(same) + len(few)
		if total < 2 {
			continue
		}
		s := fmt.Sprintf("Across %d comparable workloads, %s was significantly faster than %s in median E2E on %d%s, slower on %d%s, not significantly different on %d%s",
			total, e, r.Baseline, len(better), groupList(better), len(worse), groupList(worse), len(same), groupList(same))
		if len(few) > 0 {
			s += fmt.Sprintf(", and too thinly measured to say on %d%s", len(few), groupList(few))
		}
		out = append(out, s+".")
	}
	return out
}

func groupList(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	if len(ids) > 6 {
		return " (" + strings.Join(ids[:6], ", ") + ", …)"
	}
	return " (" + strings.Join(ids, ", ") + ")"
}

// curveSentences describe saturation, the crossover and how the E2E speedup changes with load.
func curveSentences(r *Result, c *Curve) []string {
	var out []string
	for _, s := range c.Saturation {
		if s.Saturated {
			out = append(out, fmt.Sprintf("On %s, %s's throughput saturates at %s: the next level adds less than %.0f%% (peak %s at %s).",
				c.ID, s.Endpoint, fmtLoad(c.XName, s.At), 100*r.opts.Saturation, fmtTokS(s.PeakTokS), fmtLoad(c.XName, s.PeakAt)))
		} else {
			out = append(out, fmt.Sprintf("On %s, %s's throughput was still rising by %.0f%% or more per level at %s, the highest level measured (%s).",
				c.ID, s.Endpoint, 100*r.opts.Saturation, fmtLoad(c.XName, s.At), fmtTokS(s.PeakTokS)))
		}
	}
	if c.Winner != "" {
		w := c.point(c.Winner, c.WinnerAt)
		if c.Crossover != nil {
			out = append(out, fmt.Sprintf("On %s, %s leads in throughput at %s (%s) but %s overtakes it at %s (%s vs %s).",
				c.ID, c.Winner, fmtLoad(c.XName, c.WinnerAt), fmtTokS(w.OutputTokS), c.Crossover.Endpoint,
				fmtLoad(c.XName, c.Crossover.At), fmtTokS(c.Crossover.Value), fmtTokS(c.Crossover.WinnerValue)))
		} else {
			out = append(out, fmt.Sprintf("On %s, %s leads in throughput at %s (%s) and no other endpoint overtakes it up to %s: no crossover.",
				c.ID, c.Winner, fmtLoad(c.XName, c.WinnerAt), fmtTokS(w.OutputTokS), fmtLoad(c.XName, c.Xs[len(c.Xs)-1])))
		}
	}
	for _, e := range c.Endpoints {
		if e == r.Baseline {
			continue
		}
		var pts []string
		for _, x := range c.Xs {
			p := c.point(e, x)
			if p == nil {
				continue
			}
			if s := r.speedup(p.Group, e, MetricE2E, StatMedian); s != nil {
				pts = append(pts, fmt.Sprintf("%s at %s (%s)", fmtRatio(s.Ratio), fmtLoad(c.XName, x), s.Verdict()))
			}
		}
		if len(pts) >= 2 {
			out = append(out, fmt.Sprintf("On %s, %s's median E2E speedup over %s by load: %s.", c.ID, e, r.Baseline, strings.Join(pts, ", ")))
		}
	}
	return out
}

func regressionSentence(h *HistorySeries) string {
	n := len(h.Points)
	last := h.Points[n-1]
	first := max(0, n-1-5)
	var prev []string
	for _, p := range h.Points[first : n-1] {
		prev = append(prev, fmt.Sprint(p.RunID))
	}
	f := valueFormatter(h.Metric)
	test := ""
	if h.P.Valid() {
		test = ", one-sided U test " + fmtP(h.P)
	}
	what := metricInfo[h.Metric].Name
	if h.Stat == StatMedian {
		what = "median " + what
	}
	return fmt.Sprintf("Regression: %s's %s on %s in run %d (%s) was %s against a median of %s over runs %s (%+.1f%% worse; threshold %s%s).",
		h.Endpoint, what, h.Group, last.RunID, last.StartedAt.UTC().Format("2006-01-02 15:04"),
		f(last.Value), f(h.Previous), strings.Join(prev, ", "), 100*float64(h.Change), f(h.Threshold), test)
}

// notMeasured lists, from the data, what this report cannot speak to.
func notMeasured(r *Result) []string {
	var out []string
	open, quality, cost, server, multiRun := false, false, false, false, false
	for _, g := range r.Groups {
		if g.Fingerprint.LoadMode == bench.LoadOpen {
			open = true
		}
		for _, e := range g.Endpoints {
			quality = quality || e.EM.Valid() || e.F1.Valid()
			cost = cost || e.CostPer1kReqs.Valid()
			server = server || e.ServerGapMS.Valid()
			multiRun = multiRun || e.Runs > 1
		}
	}
	if !open {
		out = append(out, "Open-loop (fixed arrival rate) load was not measured: every latency here comes from a closed loop, which hides queueing from arrival bursts.")
	}
	if len(r.Curves) == 0 {
		out = append(out, "No workload was swept over several load levels, so saturation and crossover points are not measured.")
	}
	if len(r.InputCurves) == 0 {
		out = append(out, "Input length did not vary enough within any workload (longest under twice the shortest) to measure latency against prompt length.")
	}
	if !multiRun {
		out = append(out, "Each workload was measured in a single run per endpoint: run-to-run variation (another day, other tenants on shared hardware) is not inside these intervals.")
	}
	if !quality {
		out = append(out, "Answer quality (EM/F1) was not scored, so speed is not weighed against accuracy.")
	}
	if !cost {
		out = append(out, "Cost was not measured: no endpoint configuration carries prices (input_price_per_mtok and output_price_per_mtok, or price_per_hour and nodes).")
	}
	if !server {
		out = append(out, "No server reported its own TTFT, so the TTFT gap cannot be split into server time and network or queueing.")
	}
	out = append(out, serverNotMeasured(r)...)
	var unfinished []string
	for _, l := range r.Levels {
		if l.LevelStatus != bench.LevelCompleted {
			unfinished = append(unfinished, fmt.Sprintf("%d (%s, %s)", l.LevelID, l.Endpoint, l.LevelStatus))
		}
	}
	if n := len(unfinished); n > 0 {
		if n > 8 {
			unfinished = append(unfinished[:8], "…")
		}
		out = append(out, fmt.Sprintf("%s did not complete; their recorded requests are included as they are: level %s.",
			plural(n, "level", "levels"), strings.Join(unfinished, ", ")))
	}
	out = append(out, "Prefill and decode are separated only as the client saw them (TTFT and E2E − TTFT); no server-side GPU timings were recorded.")
	if len(r.Failures) > 0 {
		n := 0
		for _, f := range r.Failures {
			n += f.Count
		}
		out = append(out, fmt.Sprintf("Latency statistics cover successful requests only; %s failed and are counted in the success rates, not in the latencies.", plural(n, "request", "requests")))
	}
	return out
}

// inputSentences describe latency against input length: per endpoint, on the workload where
// it has the most requests with varied input lengths, and the baseline's slope beside each
// other endpoint's on the same workload.
func inputSentences(r *Result) []string {
	var out []string
	best := map[string]*InputCurve{}
	count := func(ic *InputCurve) int {
		n := 0
		for _, b := range ic.Bins {
			n += b.N
		}
		return n
	}
	var order []string
	for i := range r.InputCurves {
		ic := &r.InputCurves[i]
		if !ic.TTFTSlopePer1k.Valid() || len(ic.Bins) < 2 {
			continue
		}
		if b, ok := best[ic.Endpoint]; !ok || count(ic) > count(b) {
			if !ok {
				order = append(order, ic.Endpoint)
			}
			best[ic.Endpoint] = ic
		}
	}
	for _, e := range order {
		ic := best[e]
		b0, b1 := ic.Bins[0], ic.Bins[len(ic.Bins)-1]
		s := fmt.Sprintf("On %s, %s's median TTFT goes from %s at %s–%s input tokens to %s at %s–%s (least-squares slope %s per 1,000 input tokens over %s requests; E2E slope %s).",
			ic.Group, ic.Endpoint, fmtMS(b0.P50TTFTMS), fmtNum(Num(b0.Lo), 0), fmtNum(Num(b0.Hi), 0), fmtMS(b1.P50TTFTMS),
			fmtNum(Num(b1.Lo), 0), fmtNum(Num(b1.Hi), 0), fmtMS(ic.TTFTSlopePer1k), fmtInt(count(ic)), fmtMS(ic.E2ESlopePer1k))
		if e != r.Baseline {
			for i := range r.InputCurves {
				bc := &r.InputCurves[i]
				if bc.Group == ic.Group && bc.Endpoint == r.Baseline && bc.TTFTSlopePer1k.Valid() && ic.TTFTSlopePer1k > 0 {
					ratio := bc.TTFTSlopePer1k / ic.TTFTSlopePer1k
					if math.Abs(float64(ratio)-1) < 0.2 {
						s += fmt.Sprintf(" %s's TTFT slope on the same workload is about the same (%s per 1,000 tokens, %s as steep): their TTFT difference does not depend on prompt length.",
							r.Baseline, fmtMS(bc.TTFTSlopePer1k), fmtRatio(ratio))
					} else {
						s += fmt.Sprintf(" %s's TTFT grows %s as steeply with input length on the same workload (%s per 1,000 tokens), so their TTFT difference changes with prompt length.",
							r.Baseline, fmtRatio(ratio), fmtMS(bc.TTFTSlopePer1k))
					}
				}
			}
		}
		out = append(out, s)
	}
	return out
}

// relaySentences warns, per workload and endpoint, when most answers arrived in a relay's
// bursts (relay_flag, docs/metrics.md): TTFT, TPOT and ITL then describe the relay.
func relaySentences(r *Result) []string {
	var out []string
	for _, g := range r.Groups {
		for _, name := range g.endpointNames() {
			e := g.summary(name)
			if e == nil || !e.RelayShare.Valid() || float64(e.RelayShare) < RelayWarnShare {
				continue
			}
			out = append(out, fmt.Sprintf("On %s, %.0f%% of %s's %d successful answers arrived in relayed bursts: its TTFT is late by up to one burst and its TPOT and ITL describe the relay, not the decoder; compare it on E2E and server timings.",
				g.ID, 100*float64(e.RelayShare), name, e.OK))
		}
	}
	return out
}

// pairedClaim words a paired-by-prompt E2E comparison: on how many prompts the endpoint was
// faster, the sign test, and the median per-prompt speedup with its interval.
func pairedClaim(s *Speedup, g *Group) string {
	where := fmt.Sprintf("On %s (%s), paired by prompt", g.ID, g.Fingerprint.LoadText())
	counts := fmt.Sprintf("%s was faster than %s on %d of %d prompts (sign test %s)", s.Endpoint, s.Baseline, s.Faster, s.N, fmtP(s.P))
	med := fmt.Sprintf("median per-prompt speedup %s, 95%% CI %s", fmtRatio(s.Ratio), fmtCI(s.CI))
	switch s.Verdict() {
	case VerdictTooFew:
		return fmt.Sprintf("%s, %s; %s, but %d pairs are too few to support a claim.", where, counts, med, s.N)
	case VerdictSame:
		return fmt.Sprintf("%s, %s; %s: no significant difference (~).", where, counts, med)
	}
	return fmt.Sprintf("%s, %s; %s.", where, counts, med)
}

// CacheWarnShare is the share of answers with prompt-cache hits (cached_tokens > 0) from which
// an endpoint is said to have been served by its cache.
const CacheWarnShare = 0.05

// cacheSentences marks, per workload, comparisons where one endpoint's prompt cache served
// its answers and another's did not (or did not say): their TTFT and E2E then compare cache
// hits with prefills (docs/metrics.md, "Prompt caches").
func cacheSentences(r *Result) []string {
	var out []string
	for _, g := range r.Groups {
		var hit, miss []string
		for _, name := range g.endpointNames() {
			e := g.summary(name)
			switch {
			case e == nil || !e.CacheHitShare.Valid():
			case float64(e.CacheHitShare) >= CacheWarnShare:
				hit = append(hit, fmt.Sprintf("%s (%.0f%%)", name, 100*float64(e.CacheHitShare)))
			case e.CacheHitShare == 0:
				miss = append(miss, name)
			}
		}
		if len(hit) > 0 && len(miss) > 0 {
			out = append(out, fmt.Sprintf("On %s the comparison is cache-asymmetric: the prompt cache served part of the prompt for the answers of %s, and for none of %s's (none, or not reported): TTFT and E2E compare cache hits with full prefills; rerun with --cache-bust.",
				g.ID, strings.Join(hit, ", "), strings.Join(miss, ", ")))
		}
	}
	return out
}
