package report

import (
	"bytes"
	"cmp"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/go-echarts/go-echarts/v2/render"
)

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
	SRI       string
	Version   string
	Source    EChartsSource
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
{{if .InlineJS}}<script>{{.InlineJS}}</script>{{else}}<script src="{{.CDN}}" integrity="{{.SRI}}" crossorigin="anonymous"></script>{{end}}
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1180px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.text { text-align: left; font-family: monospace; white-space: pre-wrap; max-width: 40em; }
.chart { margin: 2em 0; }
.caption { color: #555; font-size: 0.9em; }
li { margin: 0.3em 0; }
.warn { background: #fff3cd; border: 1px solid #e0b252; padding: 0.6em 1em; }
</style>
</head>
<body>
<noscript><p class="warn"><b>Charts need JavaScript.</b> Every figure is in the tables below, and report.md has the charts as SVG figures.</p></noscript>
{{if not .InlineJS}}<p id="charts-missing" class="warn" hidden><b>Charts could not load.</b> This page loads ECharts {{.Version}} from {{.CDN}} (integrity-checked), which was not reachable (offline?) or did not match its hash. A report written by a <code>make build</code> binary, or by <code>tracker report --assets echarts.min.js</code>, works offline. Every figure is in the tables below, and report.md has the charts as SVG figures.</p>
<script>if (typeof echarts === "undefined") { document.getElementById("charts-missing").hidden = false; }</script>{{end}}
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
<p class="caption">Charts: ECharts {{.Version}}, {{if .InlineJS}}inlined in this page ({{.Source}}){{else}}loaded from {{.CDN}} with an integrity hash{{end}}.</p>
</body>
</html>
`))

// WriteHTML writes index.html: the summary and findings as text (escaped) and the charts.
func (r *Result) WriteHTML(w io.Writer, fo FileOptions) error {
	p := htmlPage{Title: "tracker report", CDN: EChartsCDN, SRI: EChartsSRI, Version: EChartsVersion, R: r, Headline: r.headline(), Findings: r.Findings,
		Missing: notMeasured(r), Failures: r.Failures}
	if fo.EChartsJS != "" {
		p.Source = cmp.Or(fo.EChartsSource, EChartsFromAssets)
		p.InlineJS = template.JS(safeInlineScript(fo.EChartsJS))
	}
	if len(r.Runs) > 0 {
		p.FirstRun = r.Runs[0].StartedAt.UTC().Format("2006-01-02")
		p.LastRun = r.Runs[len(r.Runs)-1].StartedAt.UTC().Format("2006-01-02")
	}
	p.Gaps = r.gapSentences()
	p.SpeedHead = []string{"group", "load", "endpoint", "metric", "speedup", "95% CI", "p", "verdict"}
	for _, s := range r.Speedups {
		if s.Stat == StatMean && s.Metric != MetricOutTokS {
			continue
		}
		g := r.group(s.Group)
		p.Verdicts = append(p.Verdicts, []string{s.Group, g.Fingerprint.LoadText(), s.Endpoint,
			string(s.Stat) + " " + metricInfo[s.Metric].Name, fmtRatio(s.Ratio), fmtCI(s.CI), fmtP(s.P), string(s.Verdict())})
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
// The script runs only when ECharts loaded (otherwise the page's banner says why there are no charts).
func chartSnippet(c render.Renderer) (template.HTML, template.HTML) {
	sn := c.RenderSnippet()
	script := sn.Script
	open := strings.Index(script, ">")
	end := strings.LastIndex(script, "</script>")
	if open >= 0 && end > open {
		body := strings.ReplaceAll(script[open+1:end], "<", `\u003c`)
		script = script[:open+1] + "\nif (typeof echarts !== \"undefined\") {" + body + "}\n" + script[end:]
	}
	return template.HTML(sn.Element), template.HTML(script)
}
