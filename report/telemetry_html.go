package report

import (
	"fmt"
	"slices"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/trackerbench/tracker/telemetry"
)

// serverCharts draws, per level whose server was scraped (at most maxServerCharts), the
// running batch, the waiting queue and the KV-cache usage over the level's time, as the
// server reported them; warm-up and pause samples are left out.
func (r *Result) serverCharts(cs *chartSet) {
	allow := telemetry.NewAllowList()
	for _, s := range r.ServerLevels {
		pts := r.serverSeries[s.LevelID]
		if len(pts) == 0 {
			continue
		}
		series := map[telemetry.Role]map[int64]float64{} // role -> t_ms -> value (summed over label sets)
		var times []int64
		seen := map[int64]bool{}
		for _, p := range pts {
			if p.Phase != string(telemetry.PhaseMeasure) {
				continue
			}
			role := allow.RoleOf(p.Family)
			if series[role] == nil {
				series[role] = map[int64]float64{}
			}
			if role == telemetry.RoleKVUsage {
				series[role][p.TMS] = max(series[role][p.TMS], 100*p.Value)
			} else {
				series[role][p.TMS] += p.Value
			}
			if !seen[p.TMS] {
				seen[p.TMS] = true
				times = append(times, p.TMS)
			}
		}
		if len(times) == 0 {
			continue
		}
		line := charts.NewLine()
		line.SetGlobalOptions(append(baseOpts(cs.next(), "requests"), charts.WithXAxisOpts(opts.XAxis{Name: "s into the level"}))...)
		line.ExtendYAxis(opts.YAxis{Name: "KV %", Min: 0, Max: 100})
		xs := make([]string, len(times))
		for i, t := range times {
			xs[i] = fmt.Sprintf("%.1f", float64(t)/1000)
		}
		line.SetXAxis(xs)
		for _, role := range []telemetry.Role{telemetry.RoleRunning, telemetry.RoleWaiting, telemetry.RoleKVUsage} {
			vals, ok := series[role]
			if !ok {
				continue
			}
			d := make([]opts.LineData, len(times))
			for i, t := range times {
				v, ok := vals[t]
				d[i] = opts.LineData{Value: any("-")}
				if ok {
					d[i] = opts.LineData{Value: v}
				}
			}
			name := map[telemetry.Role]string{telemetry.RoleRunning: "running (batch)", telemetry.RoleWaiting: "waiting (queue)", telemetry.RoleKVUsage: "KV-cache usage %"}[role]
			if role == telemetry.RoleKVUsage {
				line.AddSeries(name, d, charts.WithLineChartOpts(opts.LineChart{YAxisIndex: 1}))
			} else {
				line.AddSeries(name, d)
			}
		}
		cs.add(fmt.Sprintf("Server of %s at %s (%s, run %d, trial %d)", s.Endpoint, levelLoad(s), s.Group, s.RunID, s.Trial),
			"From the server's own /metrics during the measured requests: requests running in its batch, waiting in its queue, and KV-cache usage (right axis).",
			line)
	}
}

// serverLines are level id's running and waiting series over its measured phase (summed over
// label sets at each scrape), seconds into the level, for the SVG figure.
func (r *Result) serverLines(id int64) (running, waiting timeLine) {
	allow := telemetry.NewAllowList()
	at := map[telemetry.Role]map[int64]float64{telemetry.RoleRunning: {}, telemetry.RoleWaiting: {}}
	var times []int64
	seen := map[int64]bool{}
	for _, p := range r.serverSeries[id] {
		role := allow.RoleOf(p.Family)
		if p.Phase != string(telemetry.PhaseMeasure) || at[role] == nil {
			continue
		}
		if !seen[p.TMS] {
			seen[p.TMS] = true
			times = append(times, p.TMS)
		}
		at[role][p.TMS] += p.Value
	}
	slices.Sort(times)
	for _, t := range times {
		if v, ok := at[telemetry.RoleRunning][t]; ok {
			running.Seconds, running.Values = append(running.Seconds, float64(t)/1000), append(running.Values, v)
		}
		if v, ok := at[telemetry.RoleWaiting][t]; ok {
			waiting.Seconds, waiting.Values = append(waiting.Seconds, float64(t)/1000), append(waiting.Values, v)
		}
	}
	return running, waiting
}
