package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-echarts/go-echarts/v2/render"
)

// chartSet collects index.html's charts, numbering their elements and colouring every
// endpoint from one palette.
type chartSet struct {
	out []htmlChart
	id  int
	pal Palette
}

func (cs *chartSet) next() string {
	cs.id++
	return fmt.Sprintf("chart%d", cs.id)
}

func (cs *chartSet) add(title, caption string, c render.Renderer) {
	el, sc := chartSnippet(c)
	cs.out = append(cs.out, htmlChart{Title: title, Caption: caption, Element: el, Script: sc})
}

// seriesColor colours a series (line, points, boxes) with its endpoint's colour.
func (cs *chartSet) seriesColor(endpoint string, dashed bool) []charts.SeriesOpts {
	ls := opts.LineStyle{Color: cs.pal.Hex(endpoint)}
	if dashed {
		ls.Type = "dashed"
	}
	return []charts.SeriesOpts{charts.WithItemStyleOpts(opts.ItemStyle{Color: cs.pal.Hex(endpoint), BorderColor: cs.pal.Hex(endpoint)}),
		charts.WithLineStyleOpts(ls)}
}

// nLabels shows each point's data name (its n) beside it.
var nLabels = charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Formatter: "{b}", Position: "top"})

func baseOpts(id, yName string) []charts.GlobalOpts {
	return []charts.GlobalOpts{
		charts.WithInitializationOpts(opts.Initialization{Width: "1100px", Height: "420px", ChartID: id}),
		charts.WithAnimation(false),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true)}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "bottom"}),
		charts.WithYAxisOpts(opts.YAxis{Name: yName, Scale: opts.Bool(true)}),
	}
}

// logLoadAxis is a logarithmic x axis for load levels (1, 8, 64, 256 evenly spaced), from the
// lowest level measured to the highest.
func logLoadAxis(name string, xs []float64) charts.GlobalOpts {
	return charts.WithXAxisOpts(opts.XAxis{Name: name + " (log scale)", Type: "log", NameLocation: "middle", NameGap: 28,
		Min: xs[0], Max: xs[len(xs)-1]})
}

func numOrDash(n Num) any {
	if !n.Valid() {
		return "-"
	}
	return float64(n)
}

func (r *Result) charts() []htmlChart {
	cs := &chartSet{pal: NewPalette(r.Endpoints)}
	r.boxCharts(cs)
	r.speedupCharts(cs)
	r.curveCharts(cs)
	r.inputCharts(cs)
	r.historyCharts(cs)
	r.serverCharts(cs) // the servers' own batch, queue and KV use (telemetry_html.go)
	return cs.out
}

// boxCharts: E2E and TTFT box plots per workload and load, one series (colour) per endpoint.
func (r *Result) boxCharts(cs *chartSet) {
	for _, m := range []struct {
		name string
		get  func(*EndpointSummary) [5]Num
	}{{"E2E latency", func(e *EndpointSummary) [5]Num { return e.BoxE2EMS }}, {"TTFT", func(e *EndpointSummary) [5]Num { return e.BoxTTFTMS }}} {
		groups := r.Groups[:min(len(r.Groups), maxBoxGroups)]
		var cats []string
		for _, g := range groups {
			cats = append(cats, g.ID+" "+g.Fingerprint.LoadText()+"\n"+nText(g))
		}
		bp := charts.NewBoxPlot()
		bp.SetGlobalOptions(baseOpts(cs.next(), "ms")...)
		bp.SetXAxis(cats)
		drawn := false
		for _, e := range r.Endpoints {
			var data []opts.BoxPlotData
			has := false
			for _, g := range groups {
				s := g.summary(e)
				if s == nil || !m.get(s)[2].Valid() {
					data = append(data, opts.BoxPlotData{Value: []any{"-", "-", "-", "-", "-"}})
					continue
				}
				b := m.get(s)
				has = true
				data = append(data, opts.BoxPlotData{Name: fmt.Sprintf("n=%d", s.OK), Value: []float64{float64(b[0]), float64(b[1]), float64(b[2]), float64(b[3]), float64(b[4])}})
			}
			if has {
				bp.AddSeries(e, data, cs.seriesColor(e, false)...)
				drawn = true
			}
		}
		if drawn {
			cs.add(m.name+" by endpoint and workload", "Box: quartiles of successful requests; whiskers: minimum and maximum; n: successful requests per box.", bp)
		}
	}
}

// nText is "n=32 each" or "n=32 / 10" (endpoints alphabetically): successful requests per box.
func nText(g *Group) string {
	var ns []string
	for _, e := range g.Endpoints {
		ns = append(ns, fmt.Sprint(e.OK))
	}
	if len(slices.Compact(slices.Clone(ns))) == 1 && len(ns) > 1 {
		return "n=" + ns[0] + " each"
	}
	return "n=" + strings.Join(ns, " / ")
}

// speedupCharts: each non-baseline endpoint's speedups as points with 95% interval whiskers
// on a log axis centred on 1×.
func (r *Result) speedupCharts(cs *chartSet) {
	for _, e := range r.Endpoints {
		if e == r.Baseline {
			continue
		}
		var cats []string
		var pts []opts.ScatterData
		var whisk []opts.BoxPlotData
		var extent []float64
		for _, s := range chartedSpeedups(r, e) {
			g := r.group(s.Group)
			cats = append(cats, fmt.Sprintf("%s %s %s\nn=%d/%d", s.Group, g.Fingerprint.LoadText(), metricInfo[s.Metric].Name, s.N, s.NBaseline))
			pts = append(pts, opts.ScatterData{Value: numOrDash(s.Ratio), Name: string(s.Verdict()), SymbolSize: 10})
			extent = append(extent, float64(s.Ratio), s.CI.Lo, s.CI.Hi)
			if !Num(s.CI.Lo).Valid() || !Num(s.CI.Hi).Valid() {
				whisk = append(whisk, opts.BoxPlotData{Value: []any{"-", "-", "-", "-", "-"}})
				continue
			}
			v := float64(s.Ratio)
			whisk = append(whisk, opts.BoxPlotData{Value: []float64{s.CI.Lo, v, v, v, s.CI.Hi}})
		}
		if len(pts) == 0 {
			continue
		}
		lo, hi := centredLogRange(extent)
		sc := charts.NewScatter()
		sc.SetGlobalOptions(append(baseOpts(cs.next(), "speedup (×, log scale)"),
			charts.WithYAxisOpts(opts.YAxis{Name: "speedup (×, log scale)", Type: "log", Min: lo, Max: hi}),
			charts.WithXAxisOpts(opts.XAxis{AxisLabel: &opts.AxisLabel{Rotate: 30, Interval: "0"}}),
			charts.WithGridOpts(opts.Grid{Bottom: "150px"}))...)
		sc.SetXAxis(cats).AddSeries(e+" ÷ "+r.Baseline, pts, append(cs.seriesColor(e, false),
			charts.WithMarkLineNameYAxisItemOpts(opts.MarkLineNameYAxisItem{Name: "no difference (1×)", YAxis: 1}))...)
		ci := charts.NewBoxPlot()
		ci.SetXAxis(cats).AddSeries("95% CI", whisk, cs.seriesColor(e, false)...)
		sc.Overlap(ci)
		cs.add(fmt.Sprintf("Speedup of %s over %s", e, r.Baseline), "Points: median speedup (throughput: mean); whiskers: 95% bootstrap interval; log axis centred on 1× (above = better than the baseline); n: successful requests, endpoint/baseline.", sc)
	}
}

// chartedSpeedups are the speedups the charts show for one endpoint: median latencies and
// mean output throughput.
func chartedSpeedups(r *Result, endpoint string) []Speedup {
	var out []Speedup
	for _, s := range r.Speedups {
		if s.Endpoint != endpoint || s.Metric == MetricReqTokS || (s.Stat != StatMedian && s.Metric != MetricOutTokS) {
			continue
		}
		out = append(out, s)
	}
	return out
}

// curveMetric is one figure drawn against load.
type curveMetric struct {
	title, unit string
	get         func(*CurvePoint) Num
	dashed      bool
}

// curveCharts: throughput, p50/p99 E2E, p50 TTFT and cost per million output tokens against
// load, on a log load axis.
func (r *Result) curveCharts(cs *chartSet) {
	for _, c := range r.Curves {
		panels := [][]curveMetric{
			{{"output throughput", "tok/s", func(p *CurvePoint) Num { return p.OutputTokS }, false}},
			{{"p50 E2E", "ms", func(p *CurvePoint) Num { return p.P50E2EMS }, false}, {"p99 E2E", "ms", func(p *CurvePoint) Num { return p.P99E2EMS }, true}},
			{{"p50 TTFT", "ms", func(p *CurvePoint) Num { return p.P50TTFTMS }, false}},
		}
		if curveHasCost(&c) {
			panels = append(panels, []curveMetric{{"cost per million output tokens", "USD", func(p *CurvePoint) Num { return p.CostPerMTokOut }, false}})
		}
		for _, ms := range panels {
			line := charts.NewLine()
			line.SetGlobalOptions(append(baseOpts(cs.next(), ms[0].unit), logLoadAxis(c.XName, c.Xs))...)
			var names []string
			for _, m := range ms {
				names = append(names, m.title)
				for _, e := range c.Endpoints {
					var d []opts.LineData
					for _, x := range c.Xs {
						if p := c.point(e, x); p != nil && m.get(p).Valid() {
							d = append(d, opts.LineData{Value: []float64{x, float64(m.get(p))}, Name: fmt.Sprintf("n=%d", p.OK)})
						}
					}
					so := cs.seriesColor(e, m.dashed)
					if !m.dashed {
						so = append(so, nLabels)
					}
					line.AddSeries(e+" "+m.title, d, so...)
				}
			}
			cs.add(fmt.Sprintf("%s against %s (%s)", strings.Join(names, " and "), c.XName, c.ID), c.Workload+". n: successful requests per point.", line)
		}
	}
}

func curveHasCost(c *Curve) bool {
	return slices.ContainsFunc(c.Points, func(p CurvePoint) bool { return p.CostPerMTokOut.Valid() })
}

// inputCharts: median TTFT (solid) and E2E (dashed) against input length, per endpoint.
func (r *Result) inputCharts(cs *chartSet) {
	seen := map[string]bool{}
	for _, ic := range r.InputCurves {
		if seen[ic.Group] || len(seen) >= maxInputCharts {
			continue
		}
		seen[ic.Group] = true
		line := charts.NewLine()
		line.SetGlobalOptions(append(baseOpts(cs.next(), "ms"), charts.WithXAxisOpts(opts.XAxis{Name: "input tokens"}))...)
		var xs []string
		for _, b := range ic.Bins {
			xs = append(xs, fmtNum(Num(b.Lo), 0)+"–"+fmtNum(Num(b.Hi), 0))
		}
		line.SetXAxis(xs)
		for _, jc := range r.InputCurves {
			if jc.Group != ic.Group {
				continue
			}
			var ttft, e2e []opts.LineData
			for _, b := range jc.Bins {
				ttft = append(ttft, opts.LineData{Value: numOrDash(b.P50TTFTMS), Name: fmt.Sprintf("n=%d", b.N)})
				e2e = append(e2e, opts.LineData{Value: numOrDash(b.P50E2EMS), Name: fmt.Sprintf("n=%d", b.N)})
			}
			line.AddSeries(jc.Endpoint+" p50 TTFT", ttft, append(cs.seriesColor(jc.Endpoint, false), nLabels)...).
				AddSeries(jc.Endpoint+" p50 E2E", e2e, cs.seriesColor(jc.Endpoint, true)...)
		}
		g := r.group(ic.Group)
		cs.add(fmt.Sprintf("Latency against input length (%s)", ic.Group), g.Workload+". Solid: p50 TTFT; dashed: p50 E2E; n: requests per bin.", line)
	}
}

// historyCharts: median E2E per run for each workload with history, plus any other metric with
// a flagged regression.
func (r *Result) historyCharts(cs *chartSet) {
	charted := 0
	for _, g := range r.Groups {
		for _, metric := range []string{MetricE2E, MetricTTFT, MetricTPOT, MetricOutTokS} {
			if charted >= maxHistoryCharts {
				return
			}
			var series []HistorySeries
			flaggedAny := false
			for _, h := range r.History {
				if h.Group == g.ID && h.Metric == metric {
					series = append(series, h)
					flaggedAny = flaggedAny || h.Regression
				}
			}
			if len(series) == 0 || metric != MetricE2E && !flaggedAny {
				continue
			}
			charted++
			title, line := r.historyChart(cs, g, series)
			cs.add(title, line.caption, line.chart)
		}
	}
}

type captioned struct {
	chart   render.Renderer
	caption string
}

// historyChart draws one metric of one workload over runs, oldest first, one line per
// endpoint in its colour, with a red marker on each flagged newest run.
func (r *Result) historyChart(cs *chartSet, g *Group, series []HistorySeries) (string, captioned) {
	var runs []HistoryPoint
	seen := map[int64]bool{}
	for _, h := range series {
		for _, p := range h.Points {
			if !seen[p.RunID] {
				seen[p.RunID] = true
				runs = append(runs, p)
			}
		}
	}
	sortPoints(runs)
	index := map[int64]int{}
	var xs []string
	for i, p := range runs {
		index[p.RunID] = i
		xs = append(xs, fmt.Sprintf("run %d %s", p.RunID, p.StartedAt.UTC().Format("01-02")))
	}
	info := metricInfo[series[0].Metric]
	yName := info.Name + " (" + info.Unit + ")"
	if series[0].Stat == StatMedian {
		yName = "median " + yName
	}
	line := charts.NewLine()
	line.SetGlobalOptions(append(baseOpts(cs.next(), yName), charts.WithXAxisOpts(opts.XAxis{Name: "run"}))...)
	line.SetXAxis(xs)
	var flagged []string
	for _, h := range series {
		d := make([]opts.LineData, len(runs))
		for i := range d {
			d[i] = opts.LineData{Value: "-"}
		}
		for _, p := range h.Points {
			d[index[p.RunID]] = opts.LineData{Value: numOrDash(p.Value), Name: fmt.Sprintf("n=%d", p.N)}
		}
		so := append(cs.seriesColor(h.Endpoint, false), nLabels)
		if h.Regression {
			last := h.Points[len(h.Points)-1]
			so = append(so, charts.WithMarkPointNameCoordItemOpts(opts.MarkPointNameCoordItem{Name: "regression",
				Coordinate: []any{xs[index[last.RunID]], float64(last.Value)}, Value: "regression",
				ItemStyle: &opts.ItemStyle{Color: "#d62728"}}))
			flagged = append(flagged, h.Endpoint)
		}
		line.AddSeries(h.Endpoint, d, so...)
	}
	caption := g.Workload + ". Rule: " + r.Method.RegressionRule + ". n: successful requests per run."
	if len(flagged) > 0 {
		caption = "Regression flagged for " + strings.Join(flagged, ", ") + " (red marker). " + caption
	}
	return fmt.Sprintf("History of %s (%s)", yName, g.ID), captioned{line, caption}
}

func sortPoints(ps []HistoryPoint) {
	slices.SortStableFunc(ps, func(a, b HistoryPoint) int {
		if c := a.StartedAt.Compare(b.StartedAt); c != 0 {
			return c
		}
		return int(a.RunID - b.RunID)
	})
}
