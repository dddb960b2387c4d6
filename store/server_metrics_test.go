package store_test

import (
	"context"
	"math"
	"testing"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

func serverLevel(t *testing.T, db *store.DB) (levelID, endpointID int64) {
	t.Helper()
	run := storetest.Run(t, db, bench.Run{Label: "tel", Host: "h"})
	ep := storetest.Endpoint(t, db, run, "sim")
	lv := storetest.Level(t, db, bench.Level{RunID: run, EndpointID: ep, Concurrency: 16, Trial: 1})
	return lv, ep
}

// The per-level view: gauges' mean and max over the measured phase only, a counter's
// increase across a reset and up to the first scrape after the level, and histogram
// quantiles interpolated within the buckets of the level's increase.
func TestServerLevelView(t *testing.T) { storetest.ForEach(t, testServerLevelView) }

func testServerLevelView(t *testing.T, b storetest.Backend) {
	db := b.Open(t)
	ctx := context.Background()
	lv, ep := serverLevel(t, db)
	var samples []bench.ServerSample
	add := func(tms int64, phase, family, name, labels, kind string, v float64) {
		samples = append(samples, bench.ServerSample{LevelID: lv, EndpointID: ep, TMS: tms, Phase: phase,
			Family: family, Name: name, Labels: labels, Kind: kind, Value: v})
	}
	const run = "vllm:num_requests_running"
	add(0, bench.PhaseWarmup, run, run, "{}", "gauge", 100) // warm-up: not in the level's figures
	add(10, bench.PhaseMeasure, run, run, "{}", "gauge", 2)
	add(510, bench.PhaseMeasure, run, run, "{}", "gauge", 8)
	add(1010, bench.PhaseMeasure, run, run, "{}", "gauge", 8)
	add(1500, bench.PhasePause, run, run, "{}", "gauge", 0)
	const tok = "vllm:generation_tokens_total"
	add(10, bench.PhaseMeasure, tok, tok, "{}", "counter", 100)
	add(510, bench.PhaseMeasure, tok, tok, "{}", "counter", 150)
	add(1010, bench.PhaseMeasure, tok, tok, "{}", "counter", 20) // the server restarted: +20
	add(1500, bench.PhasePause, tok, tok, "{}", "counter", 50)   // the end of the level: +30
	add(2000, bench.PhasePause, tok, tok, "{}", "counter", 900)  // later pause: not counted
	const h = "vllm:time_to_first_token_seconds"
	bucket := func(tms int64, phase, le string, v float64) {
		add(tms, phase, h, h+"_bucket", `{"le":"`+le+`","model_name":"m"}`, "histogram", v)
	}
	// Before: 10 observations all under 0.1. After: +100, of which 50 under 0.1, 40 in
	// (0.1, 1], 10 above 1.
	bucket(10, bench.PhaseMeasure, "0.1", 10)
	bucket(10, bench.PhaseMeasure, "1", 10)
	bucket(10, bench.PhaseMeasure, "+Inf", 10)
	add(10, bench.PhaseMeasure, h, h+"_count", `{"model_name":"m"}`, "histogram", 10)
	bucket(1500, bench.PhasePause, "0.1", 60)
	bucket(1500, bench.PhasePause, "1", 100)
	bucket(1500, bench.PhasePause, "+Inf", 110)
	add(1500, bench.PhasePause, h, h+"_count", `{"model_name":"m"}`, "histogram", 110)
	if err := db.InsertServerSamples(ctx, samples, nil); err != nil {
		t.Fatal(err)
	}
	rows, err := db.ServerLevelSummary(ctx, []int64{1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bench.ServerLevelRow{}
	for _, r := range rows {
		got[r.Family] = r
	}
	near := func(p *float64, want float64) bool { return p != nil && math.Abs(*p-want) < 1e-9 }
	if r := got[run]; !near(r.Mean, 6) || !near(r.Max, 8) || r.Samples != 3 {
		t.Errorf("running: samples %d mean %v max %v, want 3, 6, 8", r.Samples, deref(r.Mean), deref(r.Max))
	}
	if r := got[tok]; !near(r.Increase, 50+20+30) {
		t.Errorf("tokens increase %v, want 100", deref(r.Increase))
	}
	// p50: rank 50 of 100 falls at the top of the first bucket (0.1); p99: rank 99 is above
	// the last finite bound, so it is that bound (1), as histogram_quantile says.
	r := got[h]
	if !near(r.Increase, 100) || !near(r.P50, 0.1) || !near(r.P99, 1) || r.Labels != `{"model_name":"m"}` {
		t.Errorf("ttft: observations %v p50 %v p99 %v labels %s; want 100, 0.1, 1", deref(r.Increase), deref(r.P50), deref(r.P99), r.Labels)
	}
	pts, err := db.ServerSeries(ctx, []int64{lv}, []string{run})
	if err != nil || len(pts) != 5 || pts[0].Phase != bench.PhaseWarmup {
		t.Errorf("series: %d points (%v), first %+v", len(pts), err, pts)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// A scrape handed to a writer is committed by Close; the scraper is never blocked.
func TestWriterServerSamples(t *testing.T) { storetest.ForEach(t, testWriterServerSamples) }

func testWriterServerSamples(t *testing.T, b storetest.Backend) {
	db := b.Open(t)
	lv, ep := serverLevel(t, db)
	w := db.NewWriter(store.WriterOptions{})
	for i := range 10 {
		ok := w.AddServerSamples([]bench.ServerSample{{LevelID: lv, EndpointID: ep, TMS: int64(i * 500), Phase: bench.PhaseMeasure,
			Family: "g", Name: "g", Labels: "{}", Kind: "gauge", Value: float64(i)}})
		if !ok {
			t.Fatal("a scrape was dropped with an empty queue")
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pts, err := db.ServerSeries(context.Background(), []int64{lv}, []string{"g"})
	if err != nil || len(pts) != 10 {
		t.Fatalf("%d points committed (%v), want 10", len(pts), err)
	}
}
