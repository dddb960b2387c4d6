package report

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/aclements/go-moremath/stats"
)

// HistoryPoint is one run's value of a metric.
type HistoryPoint struct {
	RunID     int64     `json:"run_id"`
	StartedAt time.Time `json:"started_at"`
	Label     string    `json:"label"`
	Value     Num       `json:"value"`
	N         int       `json:"n"` // successful requests
}

// HistorySeries is one endpoint's metric over time on one workload (group), one point per
// run, oldest first, with the regression check of the newest run.
type HistorySeries struct {
	Group      string         `json:"group"`
	Endpoint   string         `json:"endpoint"`
	Metric     string         `json:"metric"`
	Stat       Stat           `json:"stat"`
	Points     []HistoryPoint `json:"points"`
	Checked    bool           `json:"checked"` // enough earlier runs to apply the rule
	Regression bool           `json:"regression"`
	Previous   Num            `json:"previous_median"`
	Threshold  Num            `json:"threshold"`
	Change     Num            `json:"relative_change"` // newest vs previous median, + = worse
	P          Num            `json:"p"`
}

func regressionRule(o *Options) string {
	return fmt.Sprintf("the newest run is flagged when its value is worse than the median of the previous "+
		"runs (up to %d, at least 2) by more than max(%g×IQR of those runs, %g%% of their median), and, for "+
		"latencies, a one-sided Mann–Whitney U test of its requests against those runs' requests gives p < %g",
		o.HistoryWindow, o.HistoryK, 100*o.HistoryMinRel, o.HistoryAlpha)
}

// buildHistory makes a series for every endpoint and workload measured in two or more runs.
func buildHistory(groups []*Group, o *Options) []HistorySeries {
	var out []HistorySeries
	for _, g := range groups {
		for _, name := range g.endpointNames() {
			s := g.sides[name]
			if len(s.runIDs) < 2 {
				continue
			}
			type runVals struct {
				id    int64
				at    time.Time
				label string
				c     *cluster
				tput  []float64
			}
			byRun := map[int64][]*levelData{} // each run's levels, in the side's order
			for _, d := range s.levels {
				byRun[d.lvl.RunID] = append(byRun[d.lvl.RunID], d)
			}
			var rv []runVals
			for i, id := range s.runIDs {
				r := runVals{id: id, c: s.runs[i]}
				for _, d := range byRun[id] {
					r.at, r.label = d.run.StartedAt, d.run.Label
					if d.stats.OutputTokS.Valid() {
						r.tput = append(r.tput, float64(d.stats.OutputTokS))
					}
				}
				rv = append(rv, r)
			}
			slices.SortStableFunc(rv, func(a, b runVals) int {
				if c := a.at.Compare(b.at); c != 0 {
					return c
				}
				return int(a.id - b.id)
			})
			var scratch []float64 // the median's copy of an older run's column
			for _, m := range []struct {
				metric string
				col    int
			}{{MetricE2E, colE2E}, {MetricTTFT, colTTFT}, {MetricTPOT, colTPOT}, {MetricOutTokS, -1}} {
				hs := HistorySeries{Group: g.ID, Endpoint: name, Metric: m.metric, Stat: StatMedian,
					Previous: Num(math.NaN()), Threshold: Num(math.NaN()), Change: Num(math.NaN()), P: Num(math.NaN())}
				if m.col < 0 {
					hs.Stat = "mean over the run's levels"
				}
				var samples [][]float64
				for i, r := range rv {
					var v float64
					var vals []float64
					switch {
					case m.col >= 0 && i >= len(rv)-1-o.HistoryWindow: // a run the regression check reads
						vals = dropNaN(r.c.cols[m.col])
						v = percentileInPlace(vals, .5) // vals is this loop's copy; the U test ignores its order
					case m.col >= 0:
						scratch = appendNotNaN(scratch[:0], r.c.cols[m.col])
						v = percentileInPlace(scratch, .5)
					default:
						v = mean(r.tput)
					}
					samples = append(samples, vals)
					hs.Points = append(hs.Points, HistoryPoint{RunID: r.id, StartedAt: r.at, Label: r.label, Value: Num(v), N: r.c.n()})
				}
				checkRegression(&hs, samples, o)
				out = append(out, hs)
			}
		}
	}
	return out
}

// checkRegression applies the rule in regressionRule to the newest point of hs.
func checkRegression(hs *HistorySeries, samples [][]float64, o *Options) {
	n := len(hs.Points)
	if n < 3 {
		return
	}
	first := max(0, n-1-o.HistoryWindow)
	var prev []float64
	var prevReq []float64
	for i := first; i < n-1; i++ {
		if hs.Points[i].Value.Valid() {
			prev = append(prev, float64(hs.Points[i].Value))
			prevReq = append(prevReq, samples[i]...)
		}
	}
	newest := float64(hs.Points[n-1].Value)
	if len(prev) < 2 || math.IsNaN(newest) {
		return
	}
	hs.Checked = true
	slices.Sort(prev)
	med := quantileSorted(prev, .5)
	iqr := quantileSorted(prev, .75) - quantileSorted(prev, .25)
	thr := math.Max(o.HistoryK*iqr, o.HistoryMinRel*math.Abs(med))
	lower := metricInfo[hs.Metric].LowerBetter
	worse := newest - med
	if !lower {
		worse = med - newest
	}
	hs.Previous, hs.Threshold = Num(med), Num(thr)
	if med != 0 {
		hs.Change = Num(worse / math.Abs(med))
	}
	beyond := worse > thr
	if lower {
		alt := stats.LocationGreater
		p, ok := uTest(samples[n-1], prevReq, alt)
		if ok {
			hs.P = Num(p)
		}
		hs.Regression = beyond && ok && p < o.HistoryAlpha
	} else {
		hs.Regression = beyond
	}
}
