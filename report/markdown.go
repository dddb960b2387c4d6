package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/trackerbench/tracker/textsafe"
)

// headline is the group the summary table shows: the one with the baseline and at least one
// other endpoint that holds the most successful requests (the first such on a tie).
func (r *Result) headline() *Group {
	var best *Group
	bestN := -1
	for _, g := range r.Groups {
		if g.sides[r.Baseline] == nil || len(g.sides) < 2 {
			continue
		}
		n := 0
		for _, e := range g.Endpoints {
			n += e.OK
		}
		if n > bestN {
			best, bestN = g, n
		}
	}
	return best
}

type mdWriter struct {
	w   io.Writer
	err error
}

func (m *mdWriter) printf(format string, args ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, format, args...)
	}
}

func (m *mdWriter) table(header []string, rows [][]string) {
	m.printf("| %s |\n", strings.Join(header, " | "))
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "---"
	}
	m.printf("|%s|\n", strings.Join(seps, "|"))
	for _, r := range rows {
		m.printf("| %s |\n", strings.Join(r, " | "))
	}
	m.printf("\n")
}

// maxGroupsDetailed bounds the per-group sections of the markdown; report.json has them all.
const maxGroupsDetailed = 24

// WriteMarkdown writes report.md: the selection and baseline, then one section after another.
func (r *Result) WriteMarkdown(w io.Writer) error {
	m := &mdWriter{w: w}
	r.writeMarkdownHeader(m)
	figs := r.Figures()
	r.writeFirstStudy(m)
	r.writeSummaryMarkdown(m, figs)
	r.writeGroupsMarkdown(m)
	r.writeSpeedupsMarkdown(m, figs)
	r.writeGapMarkdown(m)
	r.writeLoadMarkdown(m, figs)
	r.writeServerMarkdown(m)
	r.writeInputLengthMarkdown(m)
	r.writeQualityMarkdown(m)
	m.figures(figuresIn(figs, sectionCost))
	m.figures(figuresIn(figs, sectionTelemetry))
	r.writeHistoryMarkdown(m)
	r.writeFailuresMarkdown(m)
	r.writeMethodMarkdown(m)
	return m.err
}

// writeMarkdownHeader writes the title, what the report selected and the baseline.
func (r *Result) writeMarkdownHeader(m *mdWriter) {
	m.printf("# tracker report\n\n")
	first, last := r.Runs[0], r.Runs[len(r.Runs)-1]
	m.printf("**Selection:** %s (ids %s), started %s to %s; endpoints %s; %s measured (warm-ups and superseded retries excluded), %s successful (%s).\n\n",
		plural(len(r.Runs), "run", "runs"), runIDList(r.Runs), first.StartedAt.UTC().Format("2006-01-02 15:04"),
		last.StartedAt.UTC().Format("2006-01-02 15:04"), strings.Join(r.Endpoints, ", "),
		plural(r.Requests, "request", "requests"), fmtInt(r.OK), fmtPct(ratioOrNaN(float64(r.OK), float64(r.Requests))))
	m.printf("**Baseline:** %s (%s). A speedup above 1× means the endpoint is better than the baseline: baseline ÷ endpoint for latencies, endpoint ÷ baseline for throughputs.\n\n", r.Baseline, r.BaselineSource)
}

// writeSummaryMarkdown writes the headline workload's table, the findings and the summary figures.
func (r *Result) writeSummaryMarkdown(m *mdWriter, figs []Figure) {
	m.printf("## Summary\n\n")
	if h := r.headline(); h != nil {
		m.printf("Workload %s: %s; %s.\n\n", h.ID, h.Workload, plural(len(h.Runs), "run", "runs"))
		var rows [][]string
		for _, e := range h.Endpoints {
			rows = append(rows, []string{e.Endpoint, fmtInt(e.N), fmtPct(e.SuccessRate), fmtMS(e.MeanE2EMS), fmtMS(e.P50E2EMS),
				fmtMS(e.P90E2EMS), fmtMS(e.MeanTTFTMS), fmtMS(e.P50TPOTMS), fmtTokS(e.OutputTokS), fmtTokS(e.MeanReqTokS)})
		}
		m.table([]string{"endpoint", "requests", "success", "mean E2E", "p50 E2E", "p90 E2E", "mean TTFT", "p50 TPOT", "output throughput", "tokens/s per request"}, rows)
	} else {
		m.printf("No workload was measured by the baseline and another endpoint, so nothing could be compared; see *Not compared* below.\n\n")
	}
	for _, f := range r.Findings {
		m.printf("- %s\n", f)
	}
	if len(r.Findings) > 0 {
		m.printf("\n")
	}
	m.figures(figuresIn(figs, sectionSummary))
}

// writeGroupsMarkdown lists the comparable workloads and the measurements that could not be compared.
func (r *Result) writeGroupsMarkdown(m *mdWriter) {
	m.printf("## Comparable workloads\n\n")
	m.printf("Measurements are comparable when their prompt set (by hash), max tokens, temperature, streaming mode and load level all match.\n\n")
	var rows [][]string
	for _, g := range r.Groups {
		var eps []string
		n := 0
		for _, e := range g.Endpoints {
			eps = append(eps, e.Endpoint)
			n += e.N
		}
		rows = append(rows, []string{g.ID, mdCell(g.Workload), runIDs64(g.Runs), strings.Join(eps, ", "), fmtInt(n)})
	}
	m.table([]string{"group", "workload", "run ids", "endpoints", "requests"}, rows)
	if len(r.NotCompared) > 0 {
		m.printf("### Not compared\n\n")
		rows = nil
		for i, x := range r.NotCompared {
			if i == 50 {
				rows = append(rows, []string{"…", "", "", "", fmt.Sprintf("%d more in report.json", len(r.NotCompared)-50)})
				break
			}
			rows = append(rows, []string{fmt.Sprint(x.RunID), fmt.Sprint(x.LevelID), mdCell(x.Endpoint), mdCell(x.Workload), mdCell(x.Reason)})
		}
		m.table([]string{"run", "level", "endpoint", "workload", "reason"}, rows)
	}
}

// writeSpeedupsMarkdown writes each group's speedups over the baseline, with intervals and verdicts.
func (r *Result) writeSpeedupsMarkdown(m *mdWriter, figs []Figure) {
	if len(r.Speedups) > 0 {
		m.printf("## Speedups over %s\n\n", r.Baseline)
		m.printf("Each interval is a 95%% bootstrap interval (%d replicates, seed %d; runs resampled, then requests within runs). "+
			"p is a two-sided Mann–Whitney U test. A difference counts only when p < %g and the interval excludes 1×; otherwise it shows as ~. "+
			"Fewer than %d successful requests on a side: too few to claim. "+
			"The *paired median* row pairs the two endpoints' requests by prompt within each run (same run, trial and sequence number: "+
			"the same prompt): its speedup is the median over prompts of baseline E2E ÷ endpoint E2E, its interval resamples runs then pairs, "+
			"and its p is the exact two-sided sign test over prompts (claims need at least %d pairs). Pairing removes the spread between "+
			"prompts, so it can support a claim from fewer requests.\n\n", r.Method.Resamples, r.Method.Seed, r.Method.Alpha, r.Method.MinSample, MinPairs)
		for gi, g := range r.Groups {
			if gi >= maxGroupsDetailed {
				m.printf("(%d more groups in report.json.)\n\n", len(r.Groups)-maxGroupsDetailed)
				break
			}
			var rows [][]string
			for _, s := range r.Speedups {
				if s.Group != g.ID {
					continue
				}
				f := valueFormatter(s.Metric)
				rows = append(rows, []string{s.Endpoint, metricInfo[s.Metric].Name, string(s.Stat), f(s.BaselineValue), f(s.Value),
					fmtRatio(s.Ratio), fmtCI(s.CI), fmtP(s.P), string(s.Verdict())})
			}
			if len(rows) == 0 {
				continue
			}
			m.printf("### %s: %s\n\n", g.ID, mdCell(g.Workload))
			m.table([]string{"endpoint", "metric", "statistic", r.Baseline, "endpoint", "speedup", "95% CI", "p", "verdict"}, rows)
		}
		m.figures(figuresIn(figs, sectionSpeedups))
	}
}

// writeGapMarkdown writes where each endpoint's gap to the baseline comes from.
func (r *Result) writeGapMarkdown(m *mdWriter) {
	gaps := r.gapSentences()
	if len(gaps) > 0 {
		m.printf("## Where the gap is\n\n")
		for _, s := range gaps {
			m.printf("- %s\n", s)
		}
		m.printf("\n")
	}
}

// writeLoadMarkdown writes the load curves and their cost crossovers.
func (r *Result) writeLoadMarkdown(m *mdWriter, figs []Figure) {
	if len(r.Curves) > 0 {
		m.printf("## Load\n\n")
		for _, c := range r.Curves {
			m.printf("### %s: %s\n\n", c.ID, mdCell(c.Workload))
			header := []string{c.XName}
			for _, e := range c.Endpoints {
				header = append(header, e+" tok/s", e+" p50 E2E")
			}
			var rows [][]string
			for _, x := range c.Xs {
				row := []string{fmtX(x)}
				for _, e := range c.Endpoints {
					if p := c.point(e, x); p != nil {
						row = append(row, fmtTokS(p.OutputTokS), fmtMS(p.P50E2EMS))
					} else {
						row = append(row, "–", "–")
					}
				}
				rows = append(rows, row)
			}
			m.table(header, rows)
			if cc := c.CostCrossover; cc != nil {
				m.printf("Cost crossover: %s is cheapest per output token at %s %s (%s per million), and %s is cheaper from %s %s (%s vs %s per million).\n\n",
					cc.Cheapest, c.XName, fmtX(cc.CheapestAt), fmtUSD(cc.CheapestValue), cc.Endpoint, c.XName, fmtX(cc.At), fmtUSD(cc.CostPerMTok), fmtUSD(cc.CheapestValue))
			}
		}
		m.figures(figuresIn(figs, sectionLoad))
	}
}

// writeInputLengthMarkdown writes latency binned by input length.
func (r *Result) writeInputLengthMarkdown(m *mdWriter) {
	if len(r.InputCurves) > 0 {
		m.printf("## Latency against input length\n\n")
		var rows [][]string
		for _, ic := range r.InputCurves {
			for _, b := range ic.Bins {
				rows = append(rows, []string{ic.Group, ic.Endpoint, fmtNum(Num(b.Lo), 0) + "–" + fmtNum(Num(b.Hi), 0), fmtInt(b.N), fmtMS(b.P50TTFTMS), fmtMS(b.P50E2EMS)})
			}
		}
		m.table([]string{"group", "endpoint", "input tokens", "requests", "p50 TTFT", "p50 E2E"}, rows)
	}
}

// writeQualityMarkdown writes answer quality and cost beside speed.
func (r *Result) writeQualityMarkdown(m *mdWriter) {
	var qrows [][]string
	for _, g := range r.Groups {
		for _, e := range g.Endpoints {
			if e.EM.Valid() || e.F1.Valid() || e.CostPer1kReqs.Valid() {
				qrows = append(qrows, []string{g.ID, g.Fingerprint.LoadText(), e.Endpoint, fmtNum(e.EM, 1), fmtNum(e.F1, 1), fmtUSD(e.CostPer1kReqs),
					fmtUSD(e.CostPerMTokOut), correctCost(&e), fmtMS(e.P50E2EMS), fmtTokS(e.OutputTokS)})
			}
		}
	}
	if len(qrows) > 0 {
		m.printf("## Quality and cost beside speed\n\n")
		m.printf("Cost from the endpoint's prices: tokens at input/output_price_per_mtok, and the hours its levels kept it busy at price_per_hour × nodes. " +
			"Cost per million output tokens uses the measured output throughput of that load level; cost per correct answer divides by the answers with EM = 1.\n\n")
		m.table([]string{"group", "load", "endpoint", "EM", "F1", "cost per 1,000 requests", "cost per million output tokens", "cost per correct answer", "p50 E2E", "output throughput"}, qrows)
	}
}

// writeHistoryMarkdown writes each series over runs and its regression verdict.
func (r *Result) writeHistoryMarkdown(m *mdWriter) {
	if len(r.History) > 0 {
		m.printf("## History\n\n")
		m.printf("Rule: %s.\n\n", r.Method.RegressionRule)
		var rows [][]string
		checked, flagged := 0, 0
		for _, h := range r.History {
			f := valueFormatter(h.Metric)
			var vals []string
			pts := h.Points
			if len(pts) > 6 {
				vals = append(vals, "…")
				pts = pts[len(pts)-6:]
			}
			for _, p := range pts {
				vals = append(vals, fmt.Sprintf("%s (run %d)", f(p.Value), p.RunID))
			}
			verdict := "not enough runs"
			if h.Checked {
				checked++
				verdict = "ok"
				if h.Regression {
					flagged++
					verdict = "**regression**"
				}
			}
			change := "–"
			if h.Change.Valid() {
				change = fmt.Sprintf("%+.1f%%", 100*float64(h.Change))
			}
			rows = append(rows, []string{h.Group, h.Endpoint, metricInfo[h.Metric].Name, fmtInt(len(h.Points)), strings.Join(vals, ", "), f(h.Previous), change, fmtP(h.P), verdict})
		}
		m.table([]string{"group", "endpoint", "metric", "runs", "values, oldest first", "previous median", "newest change (+ = worse)", "U test", "verdict"}, rows)
		m.printf("%s checked, %s flagged.\n\n", plural(checked, "series", "series"), fmtInt(flagged))
	}
}

// writeFailuresMarkdown writes failures by endpoint and kind, each with an example message.
func (r *Result) writeFailuresMarkdown(m *mdWriter) {
	if len(r.Failures) > 0 {
		m.printf("## Failures\n\n")
		var rows [][]string
		for _, f := range r.Failures {
			rows = append(rows, []string{mdCell(f.Endpoint), mdCell(f.Kind), fmtInt(f.Count), mdCell(textsafe.Terminal(truncateText(f.Example, 120)))})
		}
		m.table([]string{"endpoint", "kind", "requests", "example message"}, rows)
	}
}

// writeMethodMarkdown writes how every figure in the report was computed.
func (r *Result) writeMethodMarkdown(m *mdWriter) {
	m.printf("## Method\n\n")
	m.printf("Metric definitions are v_summary's (docs/metrics.md): latency statistics over successful requests, warm-ups and superseded retry attempts excluded; "+
		"percentiles interpolate linearly between closest ranks (numpy's default); output throughput of a level = Σ output tokens of successful requests ÷ (last end − first start); "+
		"tokens/s per request = mean over successful requests of output tokens ÷ E2E. A workload's throughput is the mean over its levels. "+
		"Speedups: ratio of medians (and of means, as a first study would quote it); 95%% percentile bootstrap, %d replicates, seed %d, PCG; "+
		"when a workload spans several runs, runs are resampled and then requests within each drawn run (a replicate draws at most about %s requests per side; larger runs are subsampled, which widens the interval). "+
		"Throughput intervals resample levels, then requests' output tokens within a level. Significance: two-sided Mann–Whitney U (go-moremath), p < %g, and the interval excludes 1×. "+
		"Saturation: the first level after which throughput rises by less than %.0f%%. Regression: %s. "+
		"First-study table: success rate with its Wilson interval; mean latency with its t interval over requests (taken as independent); output throughput with the bootstrap interval above.\n",
		r.Method.Resamples, r.Method.Seed, fmtInt(r.Method.Budget), r.Method.Alpha, 100*r.Method.Saturation, r.Method.RegressionRule)
}

// figures references SVG figures written beside report.md, each with its caption.
func (m *mdWriter) figures(figs []Figure) {
	for _, f := range figs {
		if f.failed != "" {
			m.printf("*Figure \"%s\" could not be drawn (%s); its numbers are in report.json.*\n\n", mdCell(f.Title), mdCell(f.failed))
			continue
		}
		m.printf("![%s](%s)\n\n*%s*\n\n", mdCell(f.Title), f.File, mdCell(f.Caption))
	}
}

func runIDList(runs []RunRef) string {
	ids := make([]int64, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	slices.Sort(ids)
	return runIDs64(ids)
}

// runIDs64 lists ids compactly: "1–3, 7".
func runIDs64(ids []int64) string {
	var parts []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d–%d", ids[i], ids[j]))
		} else {
			parts = append(parts, fmt.Sprint(ids[i]))
		}
		i = j + 1
	}
	if len(parts) > 12 {
		parts = append(parts[:12], "…")
	}
	return strings.Join(parts, ", ")
}
