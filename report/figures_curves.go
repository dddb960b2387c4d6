package report

import (
	"fmt"
	"image/color"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// curveFigures: output throughput, p50 (solid) and p99 (dashed) E2E latency, and cost per
// million output tokens when priced, against load on a log axis, one colour per endpoint.
func (r *Result) curveFigures(c *Curve, pal Palette) []Figure {
	tput := []curveMetric{{"output throughput", "tok/s", func(p *CurvePoint) Num { return p.OutputTokS }, false}}
	lat := []curveMetric{{"p50 E2E", "ms", func(p *CurvePoint) Num { return p.P50E2EMS }, false},
		{"p99 E2E", "ms", func(p *CurvePoint) Num { return p.P99E2EMS }, true}}
	out := []Figure{
		r.curveFigure(c, pal, tput, "throughput", "Output throughput against "+c.XName, "output throughput (tok/s)", sectionLoad),
		r.curveFigure(c, pal, lat, "latency", "p50 and p99 E2E latency against "+c.XName, "E2E latency (ms); solid p50, dashed p99", sectionLoad),
	}
	if curveHasCost(c) {
		cost := []curveMetric{{"cost per million output tokens", "USD", func(p *CurvePoint) Num { return p.CostPerMTokOut }, false}}
		out = append(out, r.curveFigure(c, pal, cost, "cost", "Cost per million output tokens against "+c.XName, "USD per million output tokens", sectionCost))
	}
	return out
}

func (r *Result) curveFigure(c *Curve, pal Palette, ms []curveMetric, kind, title, yName string, sec figureSection) Figure {
	draw := func() (*plot.Plot, error) {
		p := newPlot(fmt.Sprintf("%s (%s)", title, c.ID), c.XName+" (log scale)", yName)
		var lx, ly []float64
		var ls []string
		xs, skipped := drawableLevels(c.Xs)
		for mi, m := range ms {
			for _, e := range c.Endpoints {
				var xys plotter.XYs
				for _, x := range xs {
					pt := c.point(e, x)
					if pt == nil {
						continue
					}
					if !m.get(pt).Valid() {
						skipped++
						continue
					}
					xys = append(xys, plotter.XY{X: x, Y: float64(m.get(pt))})
					if mi == 0 {
						lx, ly, ls = append(lx, x), append(ly, float64(m.get(pt))), append(ls, "n="+strconv.Itoa(pt.OK))
					}
				}
				if len(xys) == 0 {
					continue
				}
				line, points, err := plotter.NewLinePoints(xys)
				if err != nil {
					return nil, err
				}
				line.LineStyle.Color, line.LineStyle.Width = pal.Color(e), vg.Points(1.5)
				if m.dashed {
					line.LineStyle.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
				}
				points.GlyphStyle.Color, points.GlyphStyle.Radius = pal.Color(e), vg.Points(2.5)
				p.Add(line, points)
				if mi == 0 {
					p.Legend.Add(e, line)
				}
			}
		}
		if len(xs) > 0 { // a log axis needs a finite positive range
			p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, levelTicks(xs)
			p.X.Min, p.X.Max = xs[0]/1.3, xs[len(xs)-1]*1.3
		}
		p.Y.Min = 0
		noteSkipped(p, skipped)
		if err := addLabels(p, lx, ly, ls); err != nil {
			return nil, err
		}
		return p, nil
	}
	return Figure{File: fmt.Sprintf("fig-%s-%s.svg", c.ID, kind), Title: fmt.Sprintf("%s (%s)", title, c.ID), section: sec, draw: draw,
		Caption: c.Workload + ". Load on a log axis; n: successful requests per point."}
}

// levelTicks labels exactly the measured load levels.
func levelTicks(xs []float64) plot.ConstantTicks {
	var t plot.ConstantTicks
	for _, x := range xs {
		if finitePositive(x) {
			t = append(t, plot.Tick{Value: x, Label: fmtX(x)})
		}
	}
	return t
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, x, y
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return p
}

// swatch is a legend thumbnail in an endpoint's colour.
func swatch(c color.Color) plot.Thumbnailer {
	l := &plotter.Line{}
	l.LineStyle = draw.LineStyle{Color: c, Width: vg.Points(6)}
	return l
}

// lighten mixes c with white, for box fills.
func lighten(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	mix := func(v uint32) uint8 { return uint8((v>>8 + 3*255) / 4) }
	return color.RGBA{mix(r), mix(g), mix(b), 0xff}
}

// rotateX tilts long category labels so they do not overlap.
func rotateX(p *plot.Plot, tilt bool) {
	if tilt {
		p.X.Tick.Label.Rotation = 0.5
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
}

// addLabels writes small text labels (n) just above the given points.
func addLabels(p *plot.Plot, xs, ys []float64, texts []string) error {
	if len(xs) == 0 {
		return nil
	}
	var xyl plotter.XYLabels
	for i := range xs {
		if finite(xs[i]) && finite(ys[i]) {
			xyl.XYs = append(xyl.XYs, plotter.XY{X: xs[i], Y: ys[i]})
			xyl.Labels = append(xyl.Labels, texts[i])
		}
	}
	if len(xyl.XYs) == 0 {
		return nil
	}
	l, err := plotter.NewLabels(xyl)
	if err != nil {
		return err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].Font.Size = vg.Points(7)
		l.TextStyle[i].Color = color.Gray{Y: 60}
		l.TextStyle[i].XAlign = draw.XCenter
	}
	l.Offset = vg.Point{Y: vg.Points(4)}
	p.Add(l)
	return nil
}
