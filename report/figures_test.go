package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// svgText is one <text> element of a figure: what it says and where.
type svgText struct {
	X, Y float64
	Text string
}

// svgStructure parses a figure as XML and returns its element counts by name and its texts.
func svgStructure(t *testing.T, b []byte) (map[string]int, []svgText) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	counts := map[string]int{}
	var texts []svgText
	var cur *svgText
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed SVG: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			counts[el.Name.Local]++
			if el.Name.Local == "text" {
				cur = &svgText{}
				for _, a := range el.Attr {
					v, _ := strconv.ParseFloat(a.Value, 64)
					switch a.Name.Local {
					case "x":
						cur.X = v
					case "y":
						cur.Y = v
					}
				}
			}
		case xml.CharData:
			if cur != nil {
				cur.Text += string(el)
			}
		case xml.EndElement:
			if el.Name.Local == "text" && cur != nil {
				texts = append(texts, *cur)
				cur = nil
			}
		}
	}
	return counts, texts
}

// TestFiguresGolden: report.md's SVG figures exist beside it, are well-formed SVG, are the ones
// report.md references, and keep their structure (elements, texts; not pixels):
// testdata/figures.golden, rewritten with -update.
func TestFiguresGolden(t *testing.T) {
	res := fixtureReport(t)
	dir := t.TempDir()
	if err := res.WriteFiles(dir, FileOptions{}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`!\[[^\]]*\]\(([^)]+\.svg)\)`).FindAllStringSubmatch(string(md), -1)
	if len(refs) < 3 {
		t.Fatalf("report.md references %d SVG figures, want at least 3", len(refs))
	}
	var summary strings.Builder
	for _, ref := range refs {
		b, err := os.ReadFile(filepath.Join(dir, ref[1]))
		if err != nil {
			t.Fatalf("report.md references %s: %v", ref[1], err)
		}
		counts, texts := svgStructure(t, b)
		if counts["svg"] != 1 || counts["path"] == 0 || len(texts) == 0 {
			t.Errorf("%s: %v", ref[1], counts)
		}
		fmt.Fprintf(&summary, "%s: svg %d, g %d, path %d, text %d\n", ref[1], counts["svg"], counts["g"], counts["path"], counts["text"])
		for _, tx := range texts {
			fmt.Fprintf(&summary, "  %s\n", tx.Text)
		}
	}
	if figs := res.Figures(); len(figs) != len(refs) {
		t.Errorf("%d figures written, %d referenced", len(figs), len(refs))
	}
	golden(t, "figures.golden", []byte(summary.String()))
}

// textPos finds the position of the text element that says s.
func textPos(t *testing.T, texts []svgText, s string) svgText {
	t.Helper()
	for _, tx := range texts {
		if tx.Text == s {
			return tx
		}
	}
	t.Fatalf("no text %q", s)
	return svgText{}
}

// TestFigureAxesLogarithmic: load levels 1, 2, 4, 8 sit equally spaced on the load axis, and
// speedups 0.5×, 1×, 2× equally spaced on the speedup axis, with 1× midway between its ends.
func TestFigureAxesLogarithmic(t *testing.T) {
	res := fixtureReport(t)
	byFile := map[string][]svgText{}
	for _, f := range res.Figures() {
		b, err := f.Render("svg")
		if err != nil {
			t.Fatal(err)
		}
		_, byFile[f.File] = svgStructure(t, b)
	}
	for _, file := range []string{"fig-L1-throughput.svg", "fig-L1-latency.svg", "fig-L1-cost.svg"} {
		texts := byFile[file]
		var xs []float64
		for _, l := range []string{"1", "2", "4", "8"} {
			xs = append(xs, textPos(t, texts, l).X)
		}
		for i := 2; i < len(xs); i++ {
			if d1, d2 := xs[i-1]-xs[i-2], xs[i]-xs[i-1]; math.Abs(d1-d2) > 1 || d1 <= 0 {
				t.Errorf("%s: load ticks at %v are not evenly spaced (not a log axis)", file, xs)
			}
		}
	}
	texts := byFile["fig-speedup.svg"]
	half, one, two := textPos(t, texts, "0.5×").Y, textPos(t, texts, "1×").Y, textPos(t, texts, "2×").Y
	if math.Abs((one-half)-(two-one)) > 1 {
		t.Errorf("speedup ticks 0.5×, 1×, 2× at %v, %v, %v: not a log axis", half, one, two)
	}
	lo, hi := centredLogRange([]float64{0.3, 3.2})
	if lo != 0.25 || hi != 4 {
		t.Errorf("centred range of 0.3× and 3.2×: %v–%v, want 0.25–4", lo, hi)
	}
}

// TestPaletteSameInBothOutputs: every endpoint has one colour, used for it in the SVG figures and
// in index.html's charts.
func TestPaletteSameInBothOutputs(t *testing.T) {
	res := fixtureReport(t)
	pal := NewPalette(res.Endpoints)
	var page bytes.Buffer
	if err := res.WriteHTML(&page, FileOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := res.Figures()[0].Render("svg")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, e := range res.Endpoints {
		hex := pal.Hex(e)
		if other, dup := seen[hex]; dup {
			t.Errorf("%s and %s share %s", e, other, hex)
		}
		seen[hex] = e
		if !strings.Contains(strings.ToLower(string(b)), "stroke:"+hex) {
			t.Errorf("%s's colour %s is not in the SVG figure", e, hex)
		}
		if !strings.Contains(page.String(), `"color":"`+hex+`"`) {
			t.Errorf("%s's colour %s is not in index.html", e, hex)
		}
	}
	if NewPalette([]string{"b", "a"}).Hex("a") != NewPalette([]string{"a", "b", "a"}).Hex("a") {
		t.Error("the palette depends on the order endpoints were listed in")
	}
}

// TestTimeSeriesFigure: the telemetry drawer (hook for server metrics) writes a well-formed SVG
// with each series in its endpoint's colour and named in the legend.
func TestTimeSeriesFigure(t *testing.T) {
	pal := NewPalette([]string{"a", "b"})
	f := timeSeriesFigure("fig-server.svg", "Server batch and queue", "", "requests", []timeLine{
		{Name: "a running", Color: pal.Color("a"), Seconds: []float64{0, 0.5, 1}, Values: []float64{1, 8, 8}},
		{Name: "a waiting", Color: pal.Color("a"), Dashed: true, Seconds: []float64{0, 0.5, 1}, Values: []float64{0, 3, 12}},
		{Name: "b running", Color: pal.Color("b"), Seconds: []float64{0, 1}, Values: []float64{2, 30}},
	})
	b, err := f.Render("svg")
	if err != nil {
		t.Fatal(err)
	}
	_, texts := svgStructure(t, b)
	for _, want := range []string{"Server batch and queue", "a running", "a waiting", "b running", "seconds into the level"} {
		textPos(t, texts, want)
	}
	for _, e := range []string{"a", "b"} {
		if !strings.Contains(strings.ToLower(string(b)), "stroke:"+pal.Hex(e)) {
			t.Errorf("%s's colour missing", e)
		}
	}
}
