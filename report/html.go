package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-echarts/go-echarts/v2/render"
)

// EChartsCDN is where the page loads ECharts 5 from when no local copy is inlined: go-echarts'
// asset host, the default of go-echarts v2.
const EChartsCDN = "https://go-echarts.github.io/go-echarts-assets/assets/echarts.min.js"

// Bounds on how much the page draws; report.json has everything.
const (
	maxBoxGroups     = 12
	maxHistoryCharts = 10
	maxInputCharts   = 4
)

type htmlChart struct {
	Title   string
	Caption string
	Element template.HTML
	Script  template.HTML
}

type htmlPage struct {
	Title     string
	InlineJS  template.JS
	CDN       string
	R         *Result
	Headline  *Group
	Findings  []string
	Gaps      []string
	Missing   []string
	Charts    []htmlChart
	Failures  []FailureSummary
	FirstRun  string
	LastRun   string
	Verdicts  [][]string
	SpeedHead []string
}

var pageTpl = template.Must(template.New("page").Funcs(tplFuncs).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
{{if .InlineJS}}<script>{{.InlineJS}}</script>{{else}}<script src="{{.CDN}}"></script>{{end}}
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1180px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.text { text-align: left; font-family: monospace; white-space: pre-wrap; max-width: 40em; }
.chart { margin: 2em 0; }
.caption { color: #555; font-size: 0.9em; }
li { margin: 0.3em 0; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>{{len .R.Runs}} {{if eq (len .R.Runs) 1}}run{{else}}runs{{end}} ({{.FirstRun}} to {{.LastRun}}), endpoints {{range $i, $e := .R.Endpoints}}{{if $i}}, {{end}}{{$e}}{{end}};
{{.R.Requests}} measured requests, {{.R.OK}} successful. Baseline: <b>{{.R.Baseline}}</b> ({{.R.BaselineSource}}).
Speedup &gt; 1× means better than the baseline. Full numbers: <a href="report.json">report.json</a>, analysis: <a href="report.md">report.md</a>.</p>
{{with .Headline}}<h2>Summary: {{.ID}}</h2>
<p>{{.Workload}}</p>
<table><tr><th>endpoint</th><th>requests</th><th>success</th><th>mean E2E (ms)</th><th>p50 E2E (ms)</th><th>mean TTFT (ms)</th><th>p50 TPOT (ms)</th><th>output tok/s</th></tr>
{{range .Endpoints}}<tr><td>{{.Endpoint}}</td><td>{{.N}}</td><td>{{printf "%.1f%%" (pct .SuccessRate)}}</td><td>{{num .MeanE2EMS}}</td><td>{{num .P50E2EMS}}</td><td>{{num .MeanTTFTMS}}</td><td>{{num .P50TPOTMS}}</td><td>{{num .OutputTokS}}</td></tr>
{{end}}</table>{{end}}
{{if .Findings}}<h2>Findings</h2><ul>{{range .Findings}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Gaps}}<h2>Where the gap is</h2><ul>{{range .Gaps}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Verdicts}}<h2>Speedups over {{.R.Baseline}}</h2>
<table><tr>{{range .SpeedHead}}<th>{{.}}</th>{{end}}</tr>
{{range .Verdicts}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</table>{{end}}
{{range .Charts}}<div class="chart"><h3>{{.Title}}</h3>{{if .Caption}}<p class="caption">{{.Caption}}</p>{{end}}
{{.Element}}
{{.Script}}
</div>
{{end}}
{{if .Failures}}<h2>Failures</h2>
<table><tr><th>endpoint</th><th>kind</th><th>requests</th><th>example message</th></tr>
{{range .Failures}}<tr><td>{{.Endpoint}}</td><td>{{.Kind}}</td><td>{{.Count}}</td><td class="text">{{.Example}}</td></tr>
{{end}}</table>{{end}}
{{if .Missing}}<h2>What was not measured</h2><ul>{{range .Missing}}<li>{{.}}</li>{{end}}</ul>{{end}}
</body>
</html>
`))

// WriteHTML writes index.html: the summary and findings as text (escaped) and the charts.
func (r *Result) WriteHTML(w io.Writer, fo FileOptions) error {
	p := htmlPage{Title: "tracker report", CDN: EChartsCDN, R: r, Headline: r.headline(), Findings: r.Findings,
		Missing: notMeasured(r), Failures: r.Failures}
	if fo.EChartsJS != "" {
		p.InlineJS = template.JS(safeInlineScript(fo.EChartsJS))
	}
	if len(r.Runs) > 0 {
		p.FirstRun = r.Runs[0].StartedAt.UTC().Format("2006-01-02")
		p.LastRun = r.Runs[len(r.Runs)-1].StartedAt.UTC().Format("2006-01-02")
	}
	for _, g := range r.Groups {
		if g.sides[r.Baseline] == nil {
			continue
		}
		for _, name := range g.endpointNames() {
			if name != r.Baseline {
				if s := gapSentence(r, g, name); s != "" {
					p.Gaps = append(p.Gaps, s)
				}
			}
		}
	}
	p.Gaps = append(p.Gaps, inputSentences(r)...)
	p.SpeedHead = []string{"group", "load", "endpoint", "metric", "speedup", "95% CI", "p", "verdict"}
	for _, s := range r.Speedups {
		if s.Stat == "mean" && s.Metric != MetricOutTokS {
			continue
		}
		g := r.group(s.Group)
		p.Verdicts = append(p.Verdicts, []string{s.Group, g.Fingerprint.LoadText(), s.Endpoint,
			s.Stat + " " + metricInfo[s.Metric].Name, fmtRatio(s.Ratio), fmtCI(s.CI), fmtP(s.P), s.Verdict()})
	}
	p.Charts = r.charts()
	var buf bytes.Buffer
	if err := pageTpl.Execute(&buf, p); err != nil {
		return fmt.Errorf("writing index.html: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

var tplFuncs = template.FuncMap{
	"num": func(n Num) string { return fmtNum(n, 1) },
	"pct": func(n Num) float64 { return 100 * float64(n) },
}

// safeInlineScript keeps a script's text from closing the <script> element it is inlined in.
func safeInlineScript(js string) string {
	js = strings.ReplaceAll(js, "</script", `<\/script`)
	return strings.ReplaceAll(js, "<!--", `<\!--`)
}

// chartSnippet renders a chart's element and script. go-echarts writes option JSON into the
// script without HTML escaping, so every "<" in the script body (only ever inside JSON
// strings: names, titles) becomes the JS escape \u003c, which no HTML parser can read as a tag.
func chartSnippet(c render.Renderer) (template.HTML, template.HTML) {
	sn := c.RenderSnippet()
	script := sn.Script
	open := strings.Index(script, ">")
	end := strings.LastIndex(script, "</script>")
	if open >= 0 && end > open {
		script = script[:open+1] + strings.ReplaceAll(script[open+1:end], "<", `\u003c`) + script[end:]
	}
	return template.HTML(sn.Element), template.HTML(script)
}

func baseOpts(id, yName string) []charts.GlobalOpts {
	return []charts.GlobalOpts{
		charts.WithInitializationOpts(opts.Initialization{Width: "1100px", Height: "420px", ChartID: id}),
		charts.WithAnimation(false),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true)}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Top: "bottom"}),
		charts.WithYAxisOpts(opts.YAxis{Name: yName, Scale: opts.Bool(true)}),
	}
}

func numOrDash(n Num) any {
	if !n.Valid() {
		return "-"
	}
	return float64(n)
}

func (r *Result) charts() []htmlChart {
	var out []htmlChart
	id := 0
	next := func() string { id++; return fmt.Sprintf("chart%d", id) }
	add := func(title, caption string, c render.Renderer) {
		el, sc := chartSnippet(c)
		out = append(out, htmlChart{Title: title, Caption: caption, Element: el, Script: sc})
	}

	// Distributions: box plots of E2E and TTFT per endpoint and workload.
	for _, m := range []struct {
		name string
		get  func(*EndpointSummary) [5]Num
	}{{"E2E latency", func(e *EndpointSummary) [5]Num { return e.BoxE2EMS }}, {"TTFT", func(e *EndpointSummary) [5]Num { return e.BoxTTFTMS }}} {
		bp := charts.NewBoxPlot()
		bp.SetGlobalOptions(baseOpts(next(), "ms")...)
		var cats []string
		var data []opts.BoxPlotData
		for gi, g := range r.Groups {
			if gi >= maxBoxGroups {
				break
			}
			for i := range g.Endpoints {
				e := &g.Endpoints[i]
				b := m.get(e)
				if !b[2].Valid() {
					continue
				}
				cats = append(cats, fmt.Sprintf("%s %s %s", g.ID, g.Fingerprint.LoadText(), e.Endpoint))
				data = append(data, opts.BoxPlotData{Value: []float64{float64(b[0]), float64(b[1]), float64(b[2]), float64(b[3]), float64(b[4])}})
			}
		}
		if len(data) == 0 {
			continue
		}
		bp.SetXAxis(cats).AddSeries(m.name, data)
		add(m.name+" by endpoint and workload", "Box: quartiles of successful requests; whiskers: minimum and maximum.", bp)
	}

	// Speedup bars with 95% CI whiskers, one chart per non-baseline endpoint.
	for _, e := range r.Endpoints {
		if e == r.Baseline {
			continue
		}
		var cats []string
		var bars []opts.BarData
		var whisk []opts.BoxPlotData
		for _, s := range r.Speedups {
			if s.Endpoint != e || (s.Stat != "median" && s.Metric != MetricOutTokS) || s.Metric == MetricReqTokS {
				continue
			}
			g := r.group(s.Group)
			cats = append(cats, fmt.Sprintf("%s %s %s", s.Group, g.Fingerprint.LoadText(), metricInfo[s.Metric].Name))
			bars = append(bars, opts.BarData{Value: numOrDash(s.Ratio), Name: s.Verdict()})
			lo, hi := s.CI.Lo, s.CI.Hi
			if !Num(lo).Valid() || !Num(hi).Valid() {
				whisk = append(whisk, opts.BoxPlotData{Value: []any{"-", "-", "-", "-", "-"}})
				continue
			}
			v := float64(s.Ratio)
			whisk = append(whisk, opts.BoxPlotData{Value: []float64{lo, v, v, v, hi}})
		}
		if len(bars) == 0 {
			continue
		}
		bar := charts.NewBar()
		bar.SetGlobalOptions(append(baseOpts(next(), "speedup (×)"),
			charts.WithXAxisOpts(opts.XAxis{AxisLabel: &opts.AxisLabel{Rotate: 30, Interval: "0"}}),
			charts.WithGridOpts(opts.Grid{Bottom: "140px"}))...)
		bar.SetXAxis(cats).AddSeries(e+" ÷ "+r.Baseline, bars,
			charts.WithMarkLineNameYAxisItemOpts(opts.MarkLineNameYAxisItem{Name: "no difference", YAxis: 1}))
		ci := charts.NewBoxPlot()
		ci.SetXAxis(cats).AddSeries("95% CI", whisk)
		bar.Overlap(ci)
		add(fmt.Sprintf("Speedup of %s over %s", e, r.Baseline), "Bars: median speedup (throughput: mean); whiskers: 95% bootstrap interval. Above 1× = better than the baseline.", bar)
	}

	// Load curves.
	for _, c := range r.Curves {
		for _, m := range []struct {
			title, unit string
			get         func(*CurvePoint) Num
		}{{"Output throughput", "tok/s", func(p *CurvePoint) Num { return p.OutputTokS }},
			{"Median E2E latency", "ms", func(p *CurvePoint) Num { return p.P50E2EMS }},
			{"Median TTFT", "ms", func(p *CurvePoint) Num { return p.P50TTFTMS }}} {
			line := charts.NewLine()
			line.SetGlobalOptions(append(baseOpts(next(), m.unit), charts.WithXAxisOpts(opts.XAxis{Name: c.XName}))...)
			var xs []string
			for _, x := range c.Xs {
				xs = append(xs, fmtX(x))
			}
			line.SetXAxis(xs)
			for _, e := range c.Endpoints {
				var d []opts.LineData
				for _, x := range c.Xs {
					v := any("-")
					if p := c.point(e, x); p != nil {
						v = numOrDash(m.get(p))
					}
					d = append(d, opts.LineData{Value: v})
				}
				line.AddSeries(e, d)
			}
			add(fmt.Sprintf("%s against %s (%s)", m.title, c.XName, c.ID), c.Workload, line)
		}
	}

	// Latency against input length.
	seen := map[string]bool{}
	for _, ic := range r.InputCurves {
		if seen[ic.Group] || len(seen) >= maxInputCharts {
			continue
		}
		seen[ic.Group] = true
		line := charts.NewLine()
		line.SetGlobalOptions(append(baseOpts(next(), "ms"), charts.WithXAxisOpts(opts.XAxis{Name: "input tokens"}))...)
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
				ttft = append(ttft, opts.LineData{Value: numOrDash(b.P50TTFTMS)})
				e2e = append(e2e, opts.LineData{Value: numOrDash(b.P50E2EMS)})
			}
			line.AddSeries(jc.Endpoint+" p50 TTFT", ttft).AddSeries(jc.Endpoint+" p50 E2E", e2e)
		}
		g := r.group(ic.Group)
		add(fmt.Sprintf("Latency against input length (%s)", ic.Group), g.Workload, line)
	}

	// History: median E2E per run for each workload with history, plus any other metric with a
	// flagged regression; regressions marked.
	charted := 0
	for _, g := range r.Groups {
		for _, metric := range []string{MetricE2E, MetricTTFT, MetricTPOT, MetricOutTokS} {
			if charted >= maxHistoryCharts {
				break
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
			title, line := r.historyChart(g, metric, series, next())
			add(title, line.caption, line.chart)
		}
	}
	return out
}

type captioned struct {
	chart   render.Renderer
	caption string
}

// historyChart draws one metric of one workload over runs, oldest first, one line per
// endpoint, with a red marker on each flagged newest run.
func (r *Result) historyChart(g *Group, metric string, series []HistorySeries, id string) (string, captioned) {
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
	info := metricInfo[metric]
	stat := series[0].Stat
	yName := info.Name + " (" + info.Unit + ")"
	if stat == "median" {
		yName = "median " + yName
	}
	line := charts.NewLine()
	line.SetGlobalOptions(append(baseOpts(id, yName), charts.WithXAxisOpts(opts.XAxis{Name: "run"}))...)
	line.SetXAxis(xs)
	var flagged []string
	for _, h := range series {
		d := make([]opts.LineData, len(runs))
		for i := range d {
			d[i] = opts.LineData{Value: "-"}
		}
		for _, p := range h.Points {
			d[index[p.RunID]] = opts.LineData{Value: numOrDash(p.Value)}
		}
		var so []charts.SeriesOpts
		if h.Regression {
			last := h.Points[len(h.Points)-1]
			so = append(so, charts.WithMarkPointNameCoordItemOpts(opts.MarkPointNameCoordItem{Name: "regression",
				Coordinate: []any{xs[index[last.RunID]], float64(last.Value)}, Value: "regression",
				ItemStyle: &opts.ItemStyle{Color: "#d62728"}}))
			flagged = append(flagged, h.Endpoint)
		}
		line.AddSeries(h.Endpoint, d, so...)
	}
	caption := g.Workload + ". Rule: " + r.Method.RegressionRule + "."
	if len(flagged) > 0 {
		caption = "Regression flagged for " + strings.Join(flagged, ", ") + " (red marker). " + caption
	}
	title := fmt.Sprintf("History of %s (%s)", strings.TrimPrefix(yName, ""), g.ID)
	return title, captioned{line, caption}
}

func sortPoints(ps []HistoryPoint) {
	slices.SortStableFunc(ps, func(a, b HistoryPoint) int {
		if c := a.StartedAt.Compare(b.StartedAt); c != 0 {
			return c
		}
		return int(a.RunID - b.RunID)
	})
}
