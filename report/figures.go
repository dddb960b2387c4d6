package report

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Where in report.md a figure is referenced.
type figureSection int

const (
	sectionSummary figureSection = iota
	sectionSpeedups
	sectionLoad
	sectionCost
	sectionTelemetry
)

// Figure is one SVG chart written beside report.md and referenced from it.
type Figure struct {
	File    string // file name beside report.md, .svg
	Title   string
	Caption string
	section figureSection
	draw    func() (*plot.Plot, error)
	width   vg.Length
	failed  string // why it could not be drawn (report.md says so instead of linking it)
}

// ErrFigure is returned when a figure cannot be drawn.
var ErrFigure = errors.New("drawing a figure")

// maxCurveFigures bounds the load-curve figures; report.json has every curve.
const maxCurveFigures = 4

// Figures are the report's SVG figures, in the order report.md shows them. Which figures
// exist depends only on the result, so report.md can reference them before they are written.
func (r *Result) Figures() []Figure {
	pal := NewPalette(r.Endpoints)
	var out []Figure
	if f, ok := r.latencyFigure(pal); ok {
		out = append(out, f)
	}
	if f, ok := r.speedupFigure(pal); ok {
		out = append(out, f)
	}
	for i := range r.Curves[:min(len(r.Curves), maxCurveFigures)] {
		out = append(out, r.curveFigures(&r.Curves[i], pal)...)
	}
	out = append(out, r.telemetryFigures(pal)...)
	for i := range out {
		out[i].failed = r.figureErrs[out[i].File]
	}
	return out
}

// figuresIn are the figures report.md references in one section.
func figuresIn(figs []Figure, s figureSection) []Figure {
	var out []Figure
	for _, f := range figs {
		if f.section == s {
			out = append(out, f)
		}
	}
	return out
}

// Render draws the figure in a format gonum/plot writes ("svg", "png"). A panic in the
// plotting library is an error of this figure (ErrFigure), never of the whole report.
func (f Figure) Render(format string) (b []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			b, err = nil, fmt.Errorf("%w %s: the plotting library panicked: %v", ErrFigure, f.File, v)
		}
	}()
	p, err := f.draw()
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrFigure, f.File, err)
	}
	w := f.width
	if w == 0 {
		w = 7 * vg.Inch
	}
	wt, err := p.WriterTo(w, 4*vg.Inch, format)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrFigure, f.File, err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrFigure, f.File, err)
	}
	return buf.Bytes(), nil
}

// telemetryFigures: each scraped level (at most maxServerCharts) becomes one
// timeSeriesFigure: running (batch, solid) and waiting (queue, dashed) over the seconds into
// the level, in pal's colour of the endpoint (the series come from telemetry.go).
func (r *Result) telemetryFigures(pal Palette) []Figure {
	var out []Figure
	for _, s := range r.ServerLevels {
		running, waiting := r.serverLines(s.LevelID)
		if len(running.Seconds) == 0 && len(waiting.Seconds) == 0 {
			continue
		}
		c := pal.Color(s.Endpoint)
		running.Name, running.Color = s.Endpoint+" running (batch)", c
		waiting.Name, waiting.Color, waiting.Dashed = s.Endpoint+" waiting (queue)", c, true
		out = append(out, timeSeriesFigure(fmt.Sprintf("server-level-%d.svg", s.LevelID),
			fmt.Sprintf("Server of %s at %s (%s, run %d, trial %d)", s.Endpoint, levelLoad(s), s.Group, s.RunID, s.Trial),
			"From the server's own /metrics during the measured requests.", "requests", []timeLine{running, waiting}))
	}
	return out
}

// timeLine is one series over time for timeSeriesFigure.
type timeLine struct {
	Name    string
	Color   color.Color
	Dashed  bool
	Seconds []float64 // x: seconds into the level
	Values  []float64
}

// timeSeriesFigure draws series over time (server telemetry: batch, queue, KV use).
func timeSeriesFigure(file, title, caption, yName string, lines []timeLine) Figure {
	draw := func() (*plot.Plot, error) {
		p := newPlot(title, "seconds into the level", yName)
		skipped := 0
		for _, tl := range lines {
			xys := make(plotter.XYs, 0, len(tl.Seconds))
			for i := range min(len(tl.Seconds), len(tl.Values)) {
				if !finite(tl.Seconds[i]) || !finite(tl.Values[i]) {
					skipped++
					continue
				}
				xys = append(xys, plotter.XY{X: tl.Seconds[i], Y: tl.Values[i]})
			}
			if len(xys) == 0 {
				continue
			}
			l, err := plotter.NewLine(xys)
			if err != nil {
				return nil, err
			}
			l.LineStyle.Color, l.LineStyle.Width = tl.Color, vg.Points(1.5)
			if tl.Dashed {
				l.LineStyle.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			}
			p.Add(l)
			p.Legend.Add(tl.Name, l)
		}
		p.Y.Min = 0
		noteSkipped(p, skipped)
		return p, nil
	}
	return Figure{File: file, Title: title, Caption: caption, section: sectionTelemetry, draw: draw}
}
