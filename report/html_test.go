package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHTMLEscapesServerText: text from servers and models reaches the page only escaped, in
// the HTML body and inside chart scripts alike.
func TestHTMLEscapesServerText(t *testing.T) {
	res := fixtureReport(t)
	var buf bytes.Buffer
	if err := res.WriteHTML(&buf, FileOptions{}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(page, `<script>alert(`) {
		t.Fatal("server text reached the page unescaped")
	}
	if !strings.Contains(page, `upstream said &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; gave up`) {
		t.Error("the failure example is not on the page, escaped")
	}
	if !strings.Contains(page, EChartsCDN) {
		t.Error("without --assets the page does not load ECharts from the asset host")
	}
	if n := strings.Count(page, "echarts.init("); n < 8 {
		t.Errorf("%d charts on the page, want at least 8 (distributions, speedups, curves, input length, history)", n)
	}
}

// TestHTMLEscapesNamesInCharts: an endpoint named like markup cannot close the chart script.
func TestHTMLEscapesNamesInCharts(t *testing.T) {
	db := buildFixture(t)
	res := generate(t, db, Options{})
	res.Endpoints = append(res.Endpoints, "</script><script>alert(1)</script>")
	res.Groups[1].Endpoints[0].Endpoint = "</script><img src=x onerror=alert(2)>"
	var buf bytes.Buffer
	if err := res.WriteHTML(&buf, FileOptions{EChartsJS: "window.echarts={init:function(){return{setOption:function(){}}}};"}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, bad := range []string{"<script>alert(1)", "<img src=x"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if strings.Contains(page, EChartsCDN) {
		t.Error("with inlined assets the page still loads ECharts from the network")
	}
}

func TestWriteFiles(t *testing.T) {
	res := fixtureReport(t)
	dir := filepath.Join(t.TempDir(), "out")
	if err := res.WriteFiles(dir, FileOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"index.html", "report.md", "report.json"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}
