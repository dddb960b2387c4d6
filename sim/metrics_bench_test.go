package sim

import (
	"context"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/runner"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
	"github.com/trackerbench/tracker/telemetry"
	"github.com/trackerbench/tracker/tokens/tokenstest"
)

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkScrapingTTFT runs the same closed loop (c=8, 80 requests, illustrative-scaling)
// with and without scraping at 500 ms, alternating, 3 rounds each, and reports client TTFT
// p50 / p99 of each mode and the process's CPU per run (client and simulated server
// together). Run with -benchtime 1x.
func BenchmarkScrapingTTFT(b *testing.B) {
	p, _ := Builtin("illustrative-scaling")
	_, ts := startSim(b, p)
	tok := tokenstest.Counter(b)
	prompts := squadPrompts(b, 80)
	ttft := map[bool][]float64{}
	cpu := map[bool]time.Duration{}
	for range b.N {
		for round := range 6 {
			on := round%2 == 1
			db := storetest.Open(b)
			r := &runner.Runner{DB: db, Tokens: tok, Version: "bench", Score: dataset.Score}
			plan := runner.Plan{Label: "bench", Dataset: "test", Prompts: prompts, Seed: 1, Loads: runner.ClosedLoads([]int{8}),
				Endpoints:     []runner.Endpoint{{Name: "sim", BaseURL: ts.URL + "/v1", Model: "illustrative-model"}},
				Request:       runner.RequestOptions{MaxTokens: 32, IgnoreEOS: true, Timeout: time.Minute},
				ServerMetrics: runner.ServerMetrics{Enabled: on}}
			c0 := processCPU()
			out, err := r.Run(context.Background(), plan)
			cpu[on] += processCPU() - c0
			if err != nil || out.Status != bench.RunCompleted {
				b.Fatalf("run: %v", err)
			}
			tb, err := db.Query(context.Background(), "SELECT ttft_ms FROM v_requests WHERE status = 'ok'")
			if err != nil {
				b.Fatal(err)
			}
			for _, row := range tb.Rows {
				ttft[on] = append(ttft[on], row[0].(float64))
			}
		}
	}
	for _, on := range []bool{false, true} {
		xs := ttft[on]
		slices.Sort(xs)
		name := map[bool]string{false: "without", true: "with"}[on]
		b.ReportMetric(xs[len(xs)/2], "p50-ttft-ms-"+name)
		b.ReportMetric(xs[len(xs)*99/100], "p99-ttft-ms-"+name)
		b.ReportMetric(cpu[on].Seconds()/float64(3*b.N), "cpu-s/run-"+name)
	}
}

// BenchmarkScrapeCost is the CPU of one scrape of the simulator's vLLM /metrics (54
// samples): fetch, parse and write its rows (one transaction each here; a run batches them),
// the simulated server's rendering of /metrics included (same process): an upper bound.
func BenchmarkScrapeCost(b *testing.B) {
	p, _ := Builtin("illustrative-fast")
	_, ts := startSim(b, p)
	db := storetest.Open(b)
	ctx := context.Background()
	run := storetest.Run(b, db, bench.Run{ToolVersion: "b", Host: "h"})
	ep := storetest.Endpoint(b, db, run, "sim")
	lv := storetest.Level(b, db, bench.Level{RunID: run, EndpointID: ep, Concurrency: 1})
	hc := telemetry.NewHTTPClient()
	sel := telemetry.Selection{Allow: telemetry.NewAllowList()}
	cache := store.NewSeriesCache()
	b.ResetTimer()
	c0 := processCPU()
	for i := range b.N {
		samples, err := telemetry.Fetch(ctx, hc, ts.URL+"/metrics", time.Second, sel)
		if err != nil {
			b.Fatal(err)
		}
		rows := make([]bench.ServerSample, len(samples))
		for j, s := range samples {
			rows[j] = bench.ServerSample{LevelID: lv, EndpointID: ep, TMS: int64(i), Phase: bench.PhaseMeasure, Family: s.Family,
				Name: s.Name, Labels: s.Labels, Kind: string(s.Kind), Value: s.Value}
		}
		if err := db.InsertServerSamples(ctx, rows, cache); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((processCPU()-c0).Microseconds())/float64(b.N), "cpu-µs/scrape")
}
