package report

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/trackerbench/tracker/bench"
)

func f64(v float64) *float64 { return &v }

func TestServerLevelsFoldRoles(t *testing.T) {
	rows := []bench.ServerLevelRow{
		{LevelID: 1, Endpoint: "fast", Concurrency: 16, Family: "vllm:num_requests_running", Samples: 5, Mean: f64(7.5), Max: f64(8)},
		{LevelID: 1, Family: "vllm:num_requests_waiting", Mean: f64(6), Max: f64(8)},
		{LevelID: 1, Family: "vllm:kv_cache_usage_perc", Max: f64(0.25)},
		{LevelID: 1, Family: "vllm:time_to_first_token_seconds", Increase: f64(16), P50: f64(0.05), P99: f64(0.2)},
		{LevelID: 2, Endpoint: "llama", Concurrency: 4, Family: "llamacpp:requests_processing", Samples: 3, Mean: f64(3.5), Max: f64(4)},
		{LevelID: 2, Family: "llamacpp:requests_deferred", Mean: f64(0), Max: f64(0)},
	}
	got := serverLevels(rows)
	if len(got) != 2 {
		t.Fatalf("%d levels, want 2", len(got))
	}
	a, b := got[0], got[1]
	if a.MaxRunning != 8 || a.MaxWaiting != 8 || a.MaxKVUsage != 0.25 || a.ServerTTFTP50MS != 50 || a.ServerTTFTP99MS != 200 || a.Scrapes != 5 {
		t.Errorf("vLLM level: %+v", a)
	}
	if b.MaxRunning != 4 || b.MaxWaiting != 0 || b.MaxKVUsage.Valid() || b.ServerTTFTP50MS.Valid() {
		t.Errorf("llama.cpp level: %+v", b)
	}
	var buf bytes.Buffer
	if err := WriteServerLevelLines(&buf, rows); err != nil {
		t.Fatal(err)
	}
	if want := "fast c=16 #0, server /metrics: batch mean 7.5 max 8, queue max 8, KV max 25.0%"; !strings.Contains(buf.String(), want) {
		t.Errorf("run lines:\n%s\nwant %q", buf.String(), want)
	}
}

func serverLevel(group, endpoint string, running, waiting, kv float64) ServerLevel {
	nan := Num(math.NaN())
	return ServerLevel{Group: group, Endpoint: endpoint, MaxRunning: Num(running), MaxWaiting: Num(waiting), MaxKVUsage: Num(kv),
		Preemptions: nan, MeanRunning: Num(running)}
}

// Findings name the server's evidence, and say nothing where there is none.
func TestServerSentences(t *testing.T) {
	curve := Curve{ID: "L1", XName: "concurrency", Xs: []float64{8, 16, 32}, Endpoints: []string{"fast", "scaling"},
		Points: []CurvePoint{{Endpoint: "fast", X: 8, Group: "G1"}, {Endpoint: "fast", X: 16, Group: "G2"}, {Endpoint: "fast", X: 32, Group: "G3"},
			{Endpoint: "scaling", X: 8, Group: "G1"}, {Endpoint: "scaling", X: 16, Group: "G2"}, {Endpoint: "scaling", X: 32, Group: "G3"}},
		Saturation: []Saturation{{Endpoint: "fast", Saturated: true, At: 8}, {Endpoint: "scaling", Saturated: true, At: 16}},
		Winner:     "fast", WinnerAt: 8, Crossover: &Crossover{Endpoint: "scaling", At: 16}}
	r := &Result{Curves: []Curve{curve}, ServerLevels: []ServerLevel{
		serverLevel("G1", "fast", 8, 0, 0.2), serverLevel("G2", "fast", 8, 8, 0.3),
		serverLevel("G2", "scaling", 16, 0, 0.1), serverLevel("G3", "scaling", 32, 0, 0.95),
	}}
	got := strings.Join(serverSentences(r), "\n")
	for _, want := range []string{
		"On L1, fast's throughput saturates at c=8, and its own metrics say why: at c=16 its running batch stayed at 8 (8 at c=8) while up to 8 requests waited in its queue: saturated at its batch limit.",
		"at c=32 its running batch grew to 32 with no request waiting, so the limit is the time of each step",
		"its KV cache reached 95.0% at c=32",
		"On L1, where scaling overtakes fast (c=16), fast's own metrics show its running batch peaking at 8 while up to 8 requests waited in its queue: fast was saturated at its batch limit.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("findings:\n%s\nwant: %s", got, want)
		}
	}
	r.ServerLevels = nil
	if s := serverSentences(r); len(s) != 0 {
		t.Errorf("without server metrics: %q, want no sentence", s)
	}
	if len(serverNotMeasured(r)) != 1 {
		t.Error("no note that the servers' metrics were not scraped")
	}
}

// Each scraped level gets an SVG figure of its batch and queue over time.
func TestTelemetryFigures(t *testing.T) {
	r := &Result{Endpoints: []string{"fast"}, ServerLevels: []ServerLevel{serverLevel("G1", "fast", 8, 8, 0.1)}}
	r.ServerLevels[0].LevelID = 3
	r.serverSeries = map[int64][]bench.ServerPoint{3: {
		{LevelID: 3, Family: "vllm:num_requests_running", TMS: 0, Phase: "measure", Value: 2},
		{LevelID: 3, Family: "vllm:num_requests_waiting", TMS: 0, Phase: "measure", Value: 0},
		{LevelID: 3, Family: "vllm:num_requests_running", TMS: 500, Phase: "measure", Value: 8},
		{LevelID: 3, Family: "vllm:num_requests_waiting", TMS: 500, Phase: "measure", Value: 8},
		{LevelID: 3, Family: "vllm:num_requests_running", TMS: 900, Phase: "pause", Value: 0},
	}}
	run, wait := r.serverLines(3)
	if len(run.Values) != 2 || run.Values[1] != 8 || wait.Seconds[1] != 0.5 {
		t.Errorf("lines %+v %+v", run, wait)
	}
	figs := r.telemetryFigures(NewPalette(r.Endpoints))
	if len(figs) != 1 || figs[0].File != "server-level-3.svg" {
		t.Fatalf("figures %+v", figs)
	}
	if b, err := figs[0].Render("svg"); err != nil || !bytes.Contains(b, []byte("<svg")) {
		t.Errorf("render: %v", err)
	}
}
