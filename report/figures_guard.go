package report

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot"
)

// gonum/plot panics on a non-finite value on a log axis (and draws nonsense on a linear
// one): every value a figure draws passes these guards, and what does not is counted and
// named on the figure (noteSkipped) rather than drawn.

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func finitePositive(v float64) bool { return v > 0 && finite(v) }

func allValid(ns []Num) bool {
	for _, n := range ns {
		if !n.Valid() {
			return false
		}
	}
	return true
}

// drawableLevels are the load levels a log axis can show (finite and positive), sorted,
// and how many were left out for not being finite.
func drawableLevels(xs []float64) ([]float64, int) {
	var out []float64
	nonFinite := 0
	for _, x := range xs {
		switch {
		case !finite(x):
			nonFinite++
		case x > 0:
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out, nonFinite
}

// noteSkipped says on the figure (under its x axis) how many values were not drawn.
func noteSkipped(p *plot.Plot, n int) {
	if n > 0 {
		p.X.Label.Text += fmt.Sprintf(" [%d non-finite value(s) not drawn: see report.json]", n)
	}
}
