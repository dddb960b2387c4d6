package report

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
)

// Non-finite values (an infinite load level or rate, an infinite throughput, a NaN
// latency, an unbounded interval) are not drawn and are named on the figure; no figure
// panics and the whole report is written, figures included, with no temporary file left.
func TestFiguresSurviveNonFiniteValues(t *testing.T) {
	res := fixtureReport(t)
	if len(res.Curves) == 0 || len(res.Curves[0].Points) == 0 || len(res.Groups) == 0 || len(res.Speedups) == 0 {
		t.Fatal("the fixture has no curves, groups or speedups")
	}
	c := &res.Curves[0]
	c.Xs = append(c.Xs, math.Inf(1), math.NaN())
	c.Points = append(c.Points, CurvePoint{Endpoint: c.Points[0].Endpoint, X: math.Inf(1), OutputTokS: 5, P50E2EMS: 5, P99E2EMS: 5})
	c.Points[0].OutputTokS = Num(math.Inf(1))
	c.Points[0].P99E2EMS = Num(math.NaN())
	res.Groups[0].Endpoints[0].BoxE2EMS[4] = Num(math.Inf(1))
	res.Groups[0].Endpoints[0].BoxE2EMS[0] = Num(math.NaN())
	for i := range res.Speedups {
		res.Speedups[i].CI = Interval{Lo: math.NaN(), Hi: math.Inf(1)}
	}
	notes := map[string]bool{}
	for _, f := range res.Figures() {
		b, err := f.Render("svg")
		if err != nil {
			t.Fatalf("%s: %v", f.File, err)
		}
		notes[f.File] = bytes.Contains(b, []byte("non-finite value(s) not drawn"))
	}
	for _, file := range []string{"fig-latency.svg", "fig-" + c.ID + "-throughput.svg", "fig-" + c.ID + "-latency.svg"} {
		if !notes[file] {
			t.Errorf("%s: no note of the values not drawn (notes: %v)", file, notes)
		}
	}
	dir := t.TempDir()
	if err := res.WriteFiles(dir, FileOptions{}); err != nil {
		t.Fatalf("report files with non-finite values: %v", err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	for _, f := range res.Figures() {
		if _, err := os.Stat(filepath.Join(dir, f.File)); err != nil || !bytes.Contains(md, []byte("]("+f.File+")")) {
			t.Errorf("%s: written %v, referenced in report.md %v", f.File, err == nil, bytes.Contains(md, []byte(f.File)))
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left in the report folder: %s", e.Name())
		}
	}
}

// A panic inside the plotting library is an error of that figure, not of the report; a
// figure that could not be drawn is named in report.md instead of linked.
func TestFigurePanicIsAnError(t *testing.T) {
	f := Figure{File: "fig-bad.svg", draw: func() (*plot.Plot, error) { panic("log axis: non-positive range") }}
	if _, err := f.Render("svg"); !errors.Is(err, ErrFigure) || !strings.Contains(err.Error(), "panicked") {
		t.Errorf("err = %v, want ErrFigure saying the library panicked", err)
	}
	res := fixtureReport(t)
	res.figureErrs = map[string]string{"fig-latency.svg": "drawing a figure fig-latency.svg: the plotting library panicked"}
	var md bytes.Buffer
	if err := res.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(md.Bytes(), []byte("(fig-latency.svg)")) || !bytes.Contains(md.Bytes(), []byte("could not be drawn")) {
		t.Errorf("report.md links the figure that failed, or does not say it failed")
	}
}
