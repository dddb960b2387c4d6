package report

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trackerbench/tracker/internal/testenv"
)

// TestEChartsPinnedOnce: the Makefile fetches the version report/echarts.go names, checks it
// against the same hash, and the fetched file (when make build has run) has that hash.
func TestEChartsPinnedOnce(t *testing.T) {
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	version := regexp.MustCompile(`(?m)^ECHARTS_VERSION\s*:=\s*(\S+)`).FindSubmatch(mk)
	if version == nil || string(version[1]) != EChartsVersion {
		t.Errorf("Makefile ECHARTS_VERSION %q, report/echarts.go %q", version, EChartsVersion)
	}
	if !strings.Contains(EChartsCDN, "echarts@"+EChartsVersion+"/") {
		t.Errorf("CDN URL %s is not version %s", EChartsCDN, EChartsVersion)
	}
	js, err := os.ReadFile("assets/echarts.min.js")
	if errors.Is(err, os.ErrNotExist) {
		testenv.Missing(t, "report/assets/echarts.min.js not fetched (make build fetches it)")
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := sriOf(js); got != EChartsSRI {
		t.Errorf("fetched ECharts has %s, report/echarts.go pins %s", got, EChartsSRI)
	}
}

func TestResolveECharts(t *testing.T) {
	dir := t.TempDir()
	assets := filepath.Join(dir, "mine.js")
	if err := os.WriteFile(assets, []byte("window.echarts={}"), 0o644); err != nil {
		t.Fatal(err)
	}
	js, src, err := ResolveECharts(assets, filepath.Join(dir, "nocache.js"))
	if err != nil || src != EChartsFromAssets || js != "window.echarts={}" {
		t.Errorf("--assets: %q %q %v", js, src, err)
	}
	if embeddedECharts != "" {
		t.Skip("built with -tags embedecharts: the fallbacks below are not reached")
	}
	_, src, err = ResolveECharts("", filepath.Join(dir, "nocache.js"))
	if err != nil || src != EChartsFromCDN {
		t.Errorf("no cache: %q %v, want the CDN", src, err)
	}
	// A cached file that is not the pinned build is refused, not inlined.
	if _, _, err = ResolveECharts("", assets); !errors.Is(err, ErrEChartsMismatch) {
		t.Errorf("wrong cached copy: %v, want ErrEChartsMismatch", err)
	}
	if pinned, err := os.ReadFile("assets/echarts.min.js"); err == nil {
		cached := filepath.Join(dir, "cache.js")
		if err := os.WriteFile(cached, pinned, 0o644); err != nil {
			t.Fatal(err)
		}
		if js, src, err := ResolveECharts("", cached); err != nil || src != EChartsFromCache || len(js) != len(pinned) {
			t.Errorf("pinned cached copy: %q %v", src, err)
		}
	}
}
