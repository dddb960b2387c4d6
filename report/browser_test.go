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
	"github.com/trackerbench/tracker/store/storetest"
)

// TestBrowserRendersCharts opens the report in headless Chromium with the network disabled and
// checks that every chart drew a canvas of non-zero size, that the screenshot shows chart
// pixels, and that the page logged nothing to the console. The page is the one a `make build`
// binary writes (TRACKER_BIN: ECharts embedded, no --assets, no cached copy) when that is set,
// else WriteFiles with TRACKER_ECHARTS_JS inlined. CI sets all three (.ci/run, make test).
func TestBrowserRendersCharts(t *testing.T) {
	chromium := os.Getenv("TRACKER_CHROMIUM")
	if chromium == "" {
		testenv.Missing(t, "set TRACKER_CHROMIUM (e.g. /usr/bin/chromium) and TRACKER_BIN (a make build binary) or TRACKER_ECHARTS_JS (echarts@5 dist/echarts.min.js) to run the browser test")
	}
	dir := t.TempDir()
	if bin := os.Getenv("TRACKER_BIN"); bin != "" {
		writeReportWithBinary(t, bin, dir)
	} else {
		jsPath := os.Getenv("TRACKER_ECHARTS_JS")
		if jsPath == "" {
			testenv.Missing(t, "set TRACKER_BIN or TRACKER_ECHARTS_JS to run the browser test")
		}
		js, err := os.ReadFile(jsPath)
		if err != nil {
			t.Fatalf("TRACKER_ECHARTS_JS: %v", err)
		}
		res := fixtureReport(t)
		if err := res.WriteFiles(dir, FileOptions{EChartsJS: string(js)}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if m := externalRef.FindString(inlineScript.ReplaceAllString(string(page), "<script></script>")); m != "" {
		t.Fatalf("the page loads something from elsewhere: %s", m)
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
	drawn := sizedCanvases(dom)
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

// TestBrowserOfflineBanner: a page that loads ECharts from the CDN, opened with no network,
// says visibly that its charts could not load (and draws none, without script errors of its own).
func TestBrowserOfflineBanner(t *testing.T) {
	chromium := os.Getenv("TRACKER_CHROMIUM")
	if chromium == "" {
		testenv.Missing(t, "set TRACKER_CHROMIUM to run the browser test")
	}
	dir := t.TempDir()
	res := fixtureReport(t)
	if err := res.WriteFiles(dir, FileOptions{}); err != nil {
		t.Fatal(err)
	}
	dom, logs := runChromium(t, chromium, "--dump-dom", "file://"+filepath.Join(dir, "index.html"))
	banner := regexp.MustCompile(`<p id="charts-missing"[^>]*>`).FindString(dom)
	if banner == "" || strings.Contains(banner, "hidden") {
		t.Errorf("no visible offline banner: %q", banner)
	}
	if n := sizedCanvases(dom); n != 0 {
		t.Errorf("%d canvases drawn with no ECharts", n)
	}
	for _, l := range consoleLines(logs) {
		if strings.Contains(l, "ReferenceError") {
			t.Errorf("chart scripts failed without ECharts instead of standing down: %s", l)
		}
	}
}

// inlineScript is a script element's text (ECharts' own code mentions tags in strings).
var inlineScript = regexp.MustCompile(`(?s)<script>.*?</script>`)

// externalRef matches a script, stylesheet or image the page would fetch from elsewhere.
var externalRef = regexp.MustCompile(`<(script|link|img)[^>]*\s(src|href)="[^"#]`)

func sizedCanvases(dom string) int {
	canvas := regexp.MustCompile(`<canvas[^>]*\swidth="(\d+)"[^>]*\sheight="(\d+)"`)
	drawn := 0
	for _, m := range canvas.FindAllStringSubmatch(dom, -1) {
		w, _ := strconv.Atoi(m[1])
		h, _ := strconv.Atoi(m[2])
		if w > 0 && h > 0 {
			drawn++
		}
	}
	return drawn
}

// writeReportWithBinary writes the fixture's report with a tracker binary, as a user would:
// no --assets, TRACKER_ECHARTS_JS unset, an empty cache directory.
func writeReportWithBinary(t *testing.T, bin, dir string) {
	t.Helper()
	dbPath := filepath.Join(t.TempDir(), "tracker.db")
	fillFixture(t, storetest.OpenAt(t, dbPath))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--db", dbPath, "report", "--out", dir)
	home := t.TempDir()
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TRACKER_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "XDG_CACHE_HOME=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, "cache"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s report: %v\n%s", bin, err, out)
	}
	if !strings.Contains(string(out), string(EChartsFromEmbedded)) {
		t.Fatalf("TRACKER_BIN is not a make build binary (ECharts not embedded): %s", out)
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
		// No network: every host name fails to resolve and any proxied fetch goes nowhere.
		"--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
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
