package sim

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/internal/testenv"
	"github.com/trackerbench/tracker/runner"
	"github.com/trackerbench/tracker/telemetry"
)

func getMetrics(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: HTTP %d: %s", resp.StatusCode, b)
	}
	return string(b)
}

// /metrics parses with tracker's own parser and keeps every served family under the
// allow-list, in vLLM's names by default and llama.cpp's for the llama.cpp wire.
func TestMetricsEndpointNames(t *testing.T) {
	for _, tc := range []struct {
		names metricNames
		want  []string
	}{
		{namesVLLM, []string{"vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
			"vllm:generation_tokens_total", "vllm:time_to_first_token_seconds_bucket", "vllm:e2e_request_latency_seconds_count"}},
		{namesLlamaCpp, []string{"llamacpp:requests_processing", "llamacpp:requests_deferred", "llamacpp:kv_cache_usage_ratio",
			"llamacpp:tokens_predicted_total"}},
	} {
		s, ts := startSim(t, testProfile())
		s.names = tc.names
		body := getMetrics(t, ts.URL)
		samples, err := telemetry.Parse(strings.NewReader(body), telemetry.Selection{Allow: telemetry.NewAllowList()})
		if err != nil {
			t.Fatal(err)
		}
		all, _ := telemetry.Parse(strings.NewReader(body), telemetry.Selection{All: true})
		if len(samples) != len(all) {
			t.Errorf("names %d: the allow-list keeps %d of %d samples", tc.names, len(samples), len(all))
		}
		for _, name := range tc.want {
			if !strings.Contains(body, "\n"+name) && !strings.HasPrefix(body, name) {
				t.Errorf("names %d: %s missing from\n%s", tc.names, name, body)
			}
		}
	}
	if s, err := New(testProfile(), Options{Wire: WireLlamaCpp}); err != nil || s.names != namesLlamaCpp {
		t.Errorf("--wire llamacpp serves metric names %v (%v), want llama.cpp's", s, err)
	} else {
		s.Close()
	}
	if metricNamesFor(WireLlamaCpp) != namesLlamaCpp || metricNamesFor(WireVLLM) != namesVLLM {
		t.Error("metricNamesFor does not map the llama.cpp wire to llama.cpp's names")
	}
}

// Must show: a run at c=1 and c=16 against the simulator with batch limit 8 records
// vllm:num_requests_running reaching the limit at c=16 (with the rest queued) and about 1
// at c=1; the server's TTFT histogram yields percentiles.
func TestRunRecordsServerBatch(t *testing.T) {
	p, _ := Builtin("illustrative-fast") // MaxNumSeqs 8
	_, ts := startSim(t, p)
	db, out, err := measure(t, runner.Plan{Endpoints: []runner.Endpoint{{Name: "fast", BaseURL: ts.URL + "/v1", Model: "illustrative-model"}},
		Prompts: squadPrompts(t, 16), Loads: runner.ClosedLoads([]int{1, 16}),
		Request:       runner.RequestOptions{MaxTokens: 32, IgnoreEOS: true, Timeout: time.Minute},
		ServerMetrics: runner.ServerMetrics{Enabled: true, Interval: 100 * time.Millisecond}})
	if err != nil || out.Status != bench.RunCompleted {
		t.Fatalf("run: %v %s", err, out.Status)
	}
	rows, err := db.ServerLevelSummary(context.Background(), []int64{out.RunID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]map[string]bench.ServerLevelRow{}
	for _, row := range rows {
		if got[row.Concurrency] == nil {
			got[row.Concurrency] = map[string]bench.ServerLevelRow{}
		}
		got[row.Concurrency][row.Family] = row
	}
	val := func(p *float64) float64 {
		if p == nil {
			return -1
		}
		return *p
	}
	run1, run16 := got[1]["vllm:num_requests_running"], got[16]["vllm:num_requests_running"]
	t.Logf("c=1: running mean %.2f max %.0f (%d scrapes); c=16: running mean %.2f max %.0f, waiting max %.0f",
		val(run1.Mean), val(run1.Max), run1.Samples, val(run16.Mean), val(run16.Max), val(got[16]["vllm:num_requests_waiting"].Max))
	if val(run16.Max) != 8 {
		t.Errorf("c=16: max running %v, want the batch limit 8", val(run16.Max))
	}
	if w := val(got[16]["vllm:num_requests_waiting"].Max); w < 1 || w > 8 {
		t.Errorf("c=16: max waiting %v, want 1..8 (16 in flight, 8 running)", w)
	}
	if val(run1.Max) != 1 || val(run1.Mean) < 0.5 || val(run1.Mean) > 1 {
		t.Errorf("c=1: running mean %v max %v, want ≈1 and 1", val(run1.Mean), val(run1.Max))
	}
	ttft := got[16]["vllm:time_to_first_token_seconds"]
	if val(ttft.Increase) != 16 || ttft.P50 == nil || *ttft.P50 <= 0 {
		t.Errorf("c=16 server TTFT: %v observations, p50 %v; want 16 and a percentile", val(ttft.Increase), val(ttft.P50))
	}
}

// Bad input: a metrics URL that hangs, sends garbage or 10 MB is skipped with one warning
// for the endpoint; every request still succeeds and none waits for the scraper (the
// hanging one holds each scrape for the scraper's whole 1 s timeout, longer than any
// request of this workload takes). A wait for the scraper would be the client's: before t0
// (queue_ms) or outside the server's own time, which the sim reports on SambaNova's wire
// (outside_server_ms). The server's own time is not bounded: a loaded host delays the sim
// itself (a 1,455 ms TTFT was seen at load 9-25).
func TestHostileMetricsDoNotTouchRequests(t *testing.T) {
	hostile := map[string]http.HandlerFunc{
		"hangs":   func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
		"garbage": func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("\x1b[31m{{{ not metrics")) },
		"10MB": func(w http.ResponseWriter, r *http.Request) {
			chunk := []byte(strings.Repeat("x", 1<<16))
			for range 160 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		},
	}
	for name, h := range hostile {
		t.Run(name, func(t *testing.T) {
			bad := httptest.NewServer(h)
			defer bad.Close()
			p := testProfile()
			p.Model = "illustrative-model"
			_, ts := startSimWith(t, p, Options{Wire: WireSambaNova})
			var log testenv.LockedBuffer
			db, out, err := measure(t, runner.Plan{Prompts: squadPrompts(t, 24), Loads: runner.ClosedLoads([]int{2}),
				Endpoints:     []runner.Endpoint{{Name: "fast", BaseURL: ts.URL + "/v1", Model: "illustrative-model", MetricsURL: bad.URL + "/metrics"}},
				Request:       runner.RequestOptions{MaxTokens: 16, IgnoreEOS: true, Timeout: time.Minute},
				ServerMetrics: runner.ServerMetrics{Enabled: true, Interval: 50 * time.Millisecond}},
				func(r *runner.Runner) { r.Log = &log })
			if err != nil || out.Status != bench.RunCompleted {
				t.Fatalf("run: %v %s", err, out.Status)
			}
			if n := strings.Count(log.String(), "warning: server metrics of fast"); n != 1 || strings.Contains(log.String(), "\x1b") {
				t.Errorf("%d warnings (want 1, no escape characters): %q", n, log.String())
			}
			ok := column(t, db, "SELECT COUNT(*) FROM v_requests WHERE run_id = ? AND status = 'ok'", out.RunID)[0]
			waits := column(t, db, "SELECT queue_ms + outside_server_ms FROM v_requests WHERE run_id = ?", out.RunID)
			for i, w := range waits {
				if !(w < 900) { // NaN: no server timing
					t.Errorf("request %d waited %.0f ms outside the server; want well under the scraper's 1 s timeout", i, w)
				}
			}
			if ok != 24 {
				t.Errorf("%v of 24 requests ok; want all", ok)
			}
			if n := column(t, db, "SELECT COUNT(*) FROM server_metrics")[0]; n != 0 {
				t.Errorf("%v samples stored from a hostile endpoint", n)
			}
		})
	}
}
