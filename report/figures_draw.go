package report

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// latencyFigure: E2E latency box plots per workload and load level, one colour per endpoint,
// n above each box. Boxes are the report's own quartiles (numpy-linear), whiskers min and max,
// as in index.html.
func (r *Result) latencyFigure(pal Palette) (Figure, bool) {
	groups := r.Groups[:min(len(r.Groups), maxBoxGroups)]
	if len(groups) == 0 {
		return Figure{}, false
	}
	draw := func() (*plot.Plot, error) {
		p := newPlot("E2E latency by workload and load", "", "E2E latency (ms)")
		var names []string
		var lx, ly []float64
		var ls []string
		width := vg.Points(min(14, 120/float64(len(groups)*max(len(r.Endpoints), 1))))
		skipped := 0
		for gi, g := range groups {
			names = append(names, g.ID+" "+g.Fingerprint.LoadText())
			top := 0.0
			for ei, name := range r.Endpoints {
				s := g.summary(name)
				if s == nil || !s.BoxE2EMS[2].Valid() {
					continue
				}
				if !allValid(s.BoxE2EMS[:]) {
					skipped++
					continue
				}
				b, err := boxFromSummary(s.BoxE2EMS, float64(gi), width, pal.Color(name))
				if err != nil {
					return nil, err
				}
				b.Offset = (vg.Length(ei) - vg.Length(len(r.Endpoints)-1)/2) * width * 1.3
				p.Add(b)
				top = max(top, float64(s.BoxE2EMS[4]))
			}
			lx, ly, ls = append(lx, float64(gi)), append(ly, top), append(ls, nText(g))
		}
		for _, name := range r.Endpoints {
			p.Legend.Add(name, swatch(pal.Color(name)))
		}
		p.NominalX(names...)
		rotateX(p, len(names) > 6)
		noteSkipped(p, skipped)
		if err := addLabels(p, lx, ly, ls); err != nil {
			return nil, err
		}
		return p, nil
	}
	return Figure{File: "fig-latency.svg", Title: "E2E latency by workload and load", section: sectionSummary, draw: draw,
		Caption: "Box: quartiles of successful requests; whiskers: minimum and maximum; n: successful requests per workload (above the boxes)."}, true
}

// boxFromSummary is a gonum box plot drawn from the report's five-number summary.
func boxFromSummary(b [5]Num, loc float64, width vg.Length, c color.Color) (*plotter.BoxPlot, error) {
	vals := plotter.Values{float64(b[0]), float64(b[1]), float64(b[2]), float64(b[3]), float64(b[4])}
	bp, err := plotter.NewBoxPlot(width, loc, vals)
	if err != nil {
		return nil, err
	}
	bp.Min, bp.Quartile1, bp.Median, bp.Quartile3, bp.Max = vals[0], vals[1], vals[2], vals[3], vals[4]
	bp.AdjLow, bp.AdjHigh, bp.Outside = vals[0], vals[4], nil
	bp.FillColor = lighten(c)
	for _, ls := range []*draw.LineStyle{&bp.BoxStyle, &bp.MedianStyle, &bp.WhiskerStyle} {
		ls.Color = c
	}
	bp.MedianStyle.Width = vg.Points(2)
	return bp, nil
}

// speedupFigure: every non-baseline endpoint's speedups (median latencies, mean output
// throughput) with their 95% intervals, on a log axis centred on 1×.
func (r *Result) speedupFigure(pal Palette) (Figure, bool) {
	type point struct {
		endpoint, label string
		sp              Speedup
	}
	var pts []point
	var cats []string
	catIndex := map[string]int{}
	for _, e := range r.Endpoints {
		for _, s := range chartedSpeedups(r, e) {
			if len(cats) >= 3*maxBoxGroups && catIndex[s.Group+s.Metric] == 0 {
				continue
			}
			key := s.Group + " " + metricInfo[s.Metric].Name
			if _, ok := catIndex[key]; !ok {
				catIndex[key] = len(cats)
				cats = append(cats, fmt.Sprintf("%s %s %s", s.Group, r.group(s.Group).Fingerprint.LoadText(), shortMetric(s.Metric)))
			}
			if s.Ratio.Valid() && s.Ratio > 0 {
				pts = append(pts, point{e, key, s})
			}
		}
	}
	if len(pts) == 0 {
		return Figure{}, false
	}
	draw := func() (*plot.Plot, error) {
		p := newPlot(fmt.Sprintf("Speedup over %s (95%% interval)", r.Baseline), "", "speedup (×, log scale; above 1× = better)")
		var extent []float64
		var lx, ly []float64
		skipped := 0
		var ls []string
		k := 0
		for _, e := range r.Endpoints {
			if e != r.Baseline {
				k++
			}
		}
		for _, pt := range pts {
			ei := 0
			for _, e := range r.Endpoints {
				if e == pt.endpoint {
					break
				}
				if e != r.Baseline {
					ei++
				}
			}
			x := float64(catIndex[pt.label]) + (float64(ei)-float64(k-1)/2)*0.2
			y := float64(pt.sp.Ratio)
			lo, hi := pt.sp.CI.Lo, pt.sp.CI.Hi
			if !finitePositive(y) {
				skipped++
				continue
			}
			extent = append(extent, y, lo, hi)
			xy := plotter.XYs{{X: x, Y: y}}
			sc, err := plotter.NewScatter(xy)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: pal.Color(pt.endpoint), Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}}
			p.Add(sc)
			if finitePositive(lo) && finitePositive(hi) {
				eb, err := plotter.NewYErrorBars(errPoint{x, y, y - lo, hi - y})
				if err != nil {
					return nil, err
				}
				eb.LineStyle.Color, eb.LineStyle.Width = pal.Color(pt.endpoint), vg.Points(1.2)
				p.Add(eb)
			}
			lx, ly, ls = append(lx, x), append(ly, y), append(ls, fmt.Sprintf("n=%d/%d", pt.sp.N, pt.sp.NBaseline))
		}
		lo, hi := centredLogRange(extent)
		p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, ratioTicks{}
		p.Y.Min, p.Y.Max = lo, hi
		one, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: 1}, {X: float64(len(cats)) - 0.5, Y: 1}})
		if err != nil {
			return nil, err
		}
		one.LineStyle.Color, one.LineStyle.Dashes = color.Gray{Y: 100}, []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(one)
		for _, e := range r.Endpoints {
			if e != r.Baseline {
				p.Legend.Add(e+" ÷ "+r.Baseline, swatch(pal.Color(e)))
			}
		}
		p.NominalX(cats...)
		rotateX(p, true)
		noteSkipped(p, skipped)
		if err := addLabels(p, lx, ly, ls); err != nil {
			return nil, err
		}
		return p, nil
	}
	return Figure{File: "fig-speedup.svg", Title: "Speedup over " + r.Baseline, section: sectionSpeedups, draw: draw, width: 8 * vg.Inch,
		Caption: "Point: median speedup (output throughput: mean); bar: 95% bootstrap interval; log axis centred on 1×, so 0.5× and 2× are the same distance from it; n: successful requests, endpoint/baseline."}, true
}

func shortMetric(m string) string {
	switch m {
	case MetricOutTokS:
		return "tok/s"
	case MetricE2E:
		return "E2E"
	}
	return metricInfo[m].Name
}

// errPoint is one point with its asymmetric y error, as plotter.NewYErrorBars wants.
type errPoint struct{ x, y, low, high float64 }

func (e errPoint) Len() int                      { return 1 }
func (e errPoint) XY(int) (float64, float64)     { return e.x, e.y }
func (e errPoint) YError(int) (float64, float64) { return e.low, e.high }

// ratioTicks marks a centred log ratio axis at the powers of two: "0.25×", "0.5×", "1×", "2×".
type ratioTicks struct{}

func (ratioTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for k := math.Floor(math.Log2(lo)); k <= math.Ceil(math.Log2(hi)); k++ {
		v := math.Exp2(k)
		if v >= lo*0.999 && v <= hi*1.001 {
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', 3, 64) + "×"})
		}
	}
	return ticks
}
