package report

import (
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/internal/testenv"
)

// TestBrowserRendersCharts opens the report, with ECharts inlined, in headless Chromium and
// checks that every chart drew a canvas of non-zero size, that the screenshot shows chart
// pixels (ECharts' first palette colour), and that the page logged nothing to the console.
// CI sets TRACKER_CHROMIUM and TRACKER_ECHARTS_JS (.ci/run installs both).
func TestBrowserRendersCharts(t *testing.T) {
	chromium, jsPath := os.Getenv("TRACKER_CHROMIUM"), os.Getenv("TRACKER_ECHARTS_JS")
	if chromium == "" || jsPath == "" {
		testenv.Missing(t, "set TRACKER_CHROMIUM (e.g. /usr/bin/chromium) and TRACKER_ECHARTS_JS (echarts@5 dist/echarts.min.js) to run the browser test")
	}
	js, err := os.ReadFile(jsPath)
	if err != nil {
		t.Fatalf("TRACKER_ECHARTS_JS: %v", err)
	}
	res := generate(t, buildFixture(t), Options{})
	dir := t.TempDir()
	if err := res.WriteFiles(dir, FileOptions{EChartsJS: string(js)}); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(page), "<script src=") {
		t.Fatal("the page with inlined assets still loads a script from elsewhere")
	}
	wantCharts := strings.Count(string(page), "echarts.init(")
	if wantCharts < 8 {
		t.Fatalf("only %d charts in the page", wantCharts)
	}
	url := "file://" + filepath.Join(dir, "index.html")

	// 1. The DOM after scripts ran: one sized canvas per chart, and no console output.
	dom, logs := runChromium(t, chromium, "--dump-dom", url)
	if consoles := consoleLines(logs); len(consoles) > 0 {
		t.Errorf("the page logged to the console:\n%s", strings.Join(consoles, "\n"))
	}
	canvas := regexp.MustCompile(`<canvas[^>]*\swidth="(\d+)"[^>]*\sheight="(\d+)"`)
	drawn := 0
	for _, m := range canvas.FindAllStringSubmatch(dom, -1) {
		w, _ := strconv.Atoi(m[1])
		h, _ := strconv.Atoi(m[2])
		if w > 0 && h > 0 {
			drawn++
		}
	}
	if drawn < wantCharts {
		t.Errorf("%d sized canvases for %d charts", drawn, wantCharts)
	}

	// 2. A screenshot that shows charts, not a blank or text-only page.
	shot := filepath.Join(dir, "shot.png")
	_, logs = runChromium(t, chromium, "--screenshot="+shot, url)
	if consoles := consoleLines(logs); len(consoles) > 0 {
		t.Errorf("the page logged to the console:\n%s", strings.Join(consoles, "\n"))
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, logs)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	// Text is black and grey; chart series are coloured. A page whose charts did not draw has
	// almost no saturated pixels (a few link colours).
	n := saturatedPixels(img)
	t.Logf("screenshot: %d coloured pixels, %d sized canvases for %d charts", n, drawn, wantCharts)
	if n < 20000 {
		t.Errorf("screenshot has %d coloured pixels; the charts did not draw", n)
	}
}

func runChromium(t *testing.T, chromium, mode, url string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Not t.TempDir: Chromium's helper processes may still be writing the profile for a moment
	// after it exits, and a failed cleanup must not fail the test.
	profile, err := os.MkdirTemp("", "tracker-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(profile)
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--disable-crash-reporter", "--user-data-dir="+profile,
		"--enable-logging=stderr", "--v=0", "--window-size=1280,6000", mode, url)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", mode, err, errb.String())
	}
	return out.String(), errb.String()
}

// consoleLines picks the page's console messages out of Chromium's log.
func consoleLines(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, ":CONSOLE") {
			out = append(out, l)
		}
	}
	return out
}

// saturatedPixels counts pixels whose colour is clearly not grey.
func saturatedPixels(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			hi, lo := max(r, g, bl)>>8, min(r, g, bl)>>8
			if hi-lo > 60 {
				n++
			}
		}
	}
	return n
}
