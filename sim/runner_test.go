package sim

// These tests measure the simulator through the real runner (real HTTP on loopback, a real
// SQLite file), the way every user of the simulator sees it.

import (
	"context"
	"fmt"
	"math"
	"sort"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/runner"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
	"github.com/trackerbench/tracker/tokens/tokenstest"
)

// squadPrompts renders n short SQuAD-style rows with dataset.DefaultTemplate.
func squadPrompts(t testing.TB, n int) *dataset.PromptSet {
	t.Helper()
	tmpl, err := dataset.NewTemplate("", "")
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]dataset.Row, n)
	for i := range rows {
		year := fmt.Sprint(1800 + 7*i)
		rows[i] = dataset.Row{ID: fmt.Sprintf("q%02d", i), Index: i, Title: "Bridges",
			Context: fmt.Sprintf("Bridge number %d crosses the river near the old mill. It was opened in %s by the town council. Its main span is %d metres long.",
				i, year, 100+i),
			Question: fmt.Sprintf("When was bridge number %d opened?", i), Answers: []string{year}}
	}
	ps, err := dataset.Build(rows, tmpl, tokenstest.Counter(t))
	if err != nil {
		t.Fatal(err)
	}
	return &dataset.PromptSet{Source: "test", Hash: "test", Prompts: ps}
}

// runAgainst runs a plan against sims and returns the database and the run's id.
func runAgainst(t *testing.T, prompts *dataset.PromptSet, levels []int, req runner.RequestOptions, sims map[string]string) (*store.DB, int64) {
	t.Helper()
	var eps []runner.Endpoint
	names := make([]string, 0, len(sims))
	for name := range sims {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		eps = append(eps, runner.Endpoint{Name: name, BaseURL: sims[name] + "/v1", Model: "illustrative-model"})
	}
	if req.Timeout == 0 {
		req.Timeout = 60 * time.Second
	}
	db, out, err := measure(t, runner.Plan{Endpoints: eps, Prompts: prompts, Loads: runner.ClosedLoads(levels), Request: req})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != bench.RunCompleted {
		t.Fatalf("run status %s", out.Status)
	}
	return db, out.RunID
}

// column returns one column of a query's rows as float64s (NULL as NaN).
func column(t *testing.T, db *store.DB, q string, args ...any) []float64 {
	t.Helper()
	tb, err := db.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(tb.Rows))
	for i, r := range tb.Rows {
		out[i] = storetest.Float(r[0], math.NaN())
	}
	return out
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return math.NaN()
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// TestSingleStreamMatchesProfile: one stream at a time, each built-in profile's TTFT (request
// overhead + prefill) and TPOT (one decode step), as the runner measures them. The sim speaks
// SambaNova's wire, whose usage carries the server's own TTFT for each request.
//
// Lower bounds are tight: the sim never answers before its modelled delays (its timer aims
// at most 2 ms early, jitter is 2%), and the runner never sees a token before the server
// reports sending it. Upper bounds are loose: a loaded host delays the sim's steps (medians
// of 35-64 ms for illustrative-fast's 31 ms were seen at load 9-20, as late in the server's
// own TTFT as in the runner's), and a late first token is caught up by the next steps, so a
// request's TPOT can fall below one step while its end cannot come before the model's.
func TestSingleStreamMatchesProfile(t *testing.T) {
	prompts := squadPrompts(t, 6)
	for _, name := range BuiltinNames() {
		t.Run(name, func(t *testing.T) {
			p, _ := Builtin(name)
			p.Model = "illustrative-model"
			_, ts := startSimWith(t, p, Options{Wire: WireSambaNova})
			db, run := runAgainst(t, prompts, []int{1}, runner.RequestOptions{MaxTokens: 24, IgnoreEOS: true},
				map[string]string{name: ts.URL})
			q := func(col string) []float64 {
				return column(t, db, "SELECT "+col+" FROM v_requests WHERE run_id = ? AND status = 'ok' ORDER BY seq", run)
			}
			ttft, serverTTFT, tpot, e2e, in, out := q("ttft_ms"), q("server_ttft_ms"), q("tpot_ms"), q("e2e_ms"), q("input_tokens"), q("output_tokens")
			if len(ttft) != len(prompts.Prompts) {
				t.Fatalf("%d ok requests, want %d", len(ttft), len(prompts.Prompts))
			}
			for i, n := range out {
				if n != 24 {
					t.Fatalf("output tokens %v, want 24 (ignore_eos, max_tokens 24)", n)
				}
				// The runner's TTFT spans the server's (0.5 ms: the two clocks' readings) and
				// adds little to it: the sim's lateness under load is the server's own.
				if ttft[i] < serverTTFT[i]-0.5 || ttft[i] > serverTTFT[i]+50 {
					t.Errorf("request %d: TTFT %.2f ms, the server's own %.2f ms: want the server's, plus at most 50 ms", i, ttft[i], serverTTFT[i])
				}
			}
			wantTTFT := msOf(p.SingleStreamTTFT(int(median(in))))
			wantTPOT := msOf(p.SingleStreamTPOT(int(median(in)) + 12))
			wantE2E := wantTTFT + 23*wantTPOT
			gotTTFT, gotTPOT, gotE2E := median(ttft), median(tpot), median(e2e)
			t.Logf("%s: TTFT %.2f ms (model %.2f), TPOT %.3f ms (model %.3f), end %.1f ms (model %.1f)",
				name, gotTTFT, wantTTFT, gotTPOT, wantTPOT, gotE2E, wantE2E)
			if gotTTFT < 0.9*wantTTFT || gotTTFT > 2*wantTTFT+25 {
				t.Errorf("median TTFT %.2f ms, want %.2f ms (at least 90%%, at most twice + 25 ms)", gotTTFT, wantTTFT)
			}
			if gotE2E < 0.95*wantE2E || gotTPOT > 1.5*wantTPOT {
				t.Errorf("median TPOT %.3f ms, end %.1f ms; want TPOT at most 150%% of %.3f ms, the end at least 95%% of %.1f ms",
					gotTPOT, gotE2E, wantTPOT, wantE2E)
			}
		})
	}
}

// TestThroughputCurve: aggregate throughput rises with concurrency up to the batch limit
// (max_num_seqs 4), then stays flat; past the limit requests queue, which shows in TTFT.
//
// Each level runs on a fresh sim, so that the server's own counts (its largest batch and
// longest queue) are the level's. Wall-clock figures are bounded on the side
// a loaded host cannot move: a late step only lowers throughput (never above the model's for
// the level's batch) and only raises TTFT (at least the model's queueing). Comparing one
// level's figure with another's failed under load (one level slowed by 30-50% and not the
// next: 17 of 20 at load 14-19).
func TestThroughputCurve(t *testing.T) {
	p := testProfile()
	p.Model = "illustrative-model"
	p.MaxNumSeqs = 4
	p.PrefillOverhead, p.PrefillPerToken = 5*time.Millisecond, 0
	p.DecodeBase, p.DecodePerSeq = 8*time.Millisecond, time.Millisecond
	prompts := squadPrompts(t, 16)
	thr, ttft := map[int]float64{}, map[int]float64{}
	for _, c := range []int{1, 2, 4, 8, 16} {
		s, ts := startSim(t, p)
		db, run := runAgainst(t, prompts, []int{c}, runner.RequestOptions{MaxTokens: 12, IgnoreEOS: true},
			map[string]string{"sim": ts.URL})
		thr[c] = column(t, db, "SELECT output_tok_s FROM v_summary WHERE run_id = ?", run)[0]
		ttft[c] = column(t, db, "SELECT mean_ttft_ms FROM v_summary WHERE run_id = ?", run)[0]
		st := s.Stats()
		batch := min(c, p.MaxNumSeqs)
		// The model's best at that batch: batch requests prefilled together (their first
		// tokens), then 11 steps of batch tokens each.
		model := float64(batch*12) / (p.PrefillOverhead + 11*p.StepTime(batch)).Seconds()
		t.Logf("concurrency %2d: %6.1f output tok/s (model at most %.1f), mean TTFT %6.1f ms; server: batch <= %d, queue <= %d",
			c, thr[c], model, ttft[c], st.MaxBatch, st.MaxQueue)
		// A queue below the limit is no error: on a loaded host the engine's modelled clock
		// runs behind, and a request that came after it waits a step to be due.
		if st.MaxBatch != int64(batch) || (c > batch && st.MaxQueue < 1) || st.MaxQueue > int64(c-1) {
			t.Errorf("concurrency %d: the server's largest batch %d and longest queue %d; want %d, and a queue past the limit 4",
				c, st.MaxBatch, st.MaxQueue, batch)
		}
		// Rising up to the limit, flat past it (without the limit, 8 would give 96 tokens in
		// 5 + 11 x 16 ms, 530 tok/s); the lower bound only says the level ran like the model.
		if thr[c] > 1.05*model || thr[c] < 0.25*model {
			t.Errorf("throughput at %d = %.1f tok/s, want at most the model's %.1f (and not under a quarter of it)", c, thr[c], model)
		}
	}
	// Queueing: at 8, half the requests wait one whole batch (prefill 5 ms + 11 steps of 12 ms)
	// before their first token; at 16, three quarters wait one to three.
	wave := msOf(p.PrefillOverhead + 11*p.StepTime(4))
	single := msOf(p.SingleStreamTTFT(0))
	if ttft[8] < single+0.4*wave || ttft[16] < single+1.2*wave {
		t.Errorf("mean TTFT at 8 = %.1f ms, at 16 = %.1f ms; want at least %.1f and %.1f ms (queueing)",
			ttft[8], ttft[16], single+0.4*wave, single+1.2*wave)
	}
}

// TestFaultsReachTheRunner: every fault kind arrives at the runner and is recorded with its
// status and error class, while the run goes on. Which requests fail is deterministic: it
// depends on the seed and the request's number only.
func TestFaultsReachTheRunner(t *testing.T) {
	p := testProfile()
	p.Model = "illustrative-model"
	p.MaxNumSeqs = 8
	p.PrefillOverhead, p.DecodeBase, p.DecodePerSeq = 2*time.Millisecond, 2*time.Millisecond, 100*time.Microsecond
	for _, k := range FaultKinds() {
		f := Fault{Kind: k, Rate: 0.09, AfterTokens: 2, Duration: time.Second}
		f.setDefaults()
		p.Faults = append(p.Faults, f)
	}
	const n = 48
	want := map[string]int{}
	for i := uint64(1); i <= n; i++ {
		if f := pickFault(p.Faults, p.Seed, i); f != nil {
			want[f.Kind]++
		}
	}
	for _, k := range FaultKinds() {
		if want[k] == 0 {
			t.Fatalf("seed %d draws no %s fault in %d requests: pick another seed", p.Seed, k, n)
		}
	}
	s, ts := startSim(t, p)
	db, run := runAgainst(t, squadPrompts(t, n), []int{4},
		runner.RequestOptions{MaxTokens: 16, IgnoreEOS: true, StallTimeout: 300 * time.Millisecond},
		map[string]string{"sim": ts.URL})
	st := s.Stats()
	count := func(where string) int {
		return int(column(t, db, "SELECT count(*) FROM requests WHERE run_id = ? AND "+where, run)[0])
	}
	total := 0
	for _, tc := range []struct{ kind, where string }{
		{FaultRateLimit, "status = 'error' AND http_status = 429 AND error_class = 'http_429' AND error_message LIKE '%Retry-After: 1%'"},
		{FaultServerError, "status = 'error' AND http_status = 500 AND error_class = 'http_500'"},
		{FaultUnavailable, "status = 'error' AND http_status = 503 AND error_class = 'http_503'"},
		{FaultStall, "status = 'timeout' AND error_class = 'stall'"},
		{FaultDrop, "status = 'error' AND error_class = 'connection_dropped'"},
		{FaultMalformed, "status = 'error' AND error_class = 'malformed_chunk'"},
		{FaultNoDone, "status = 'ok' AND error_class = 'missing_done' AND usage_json IS NOT NULL"},
		{FaultNoUsage, "status = 'ok' AND error_class = '' AND usage_json IS NULL AND output_tokens_source = 'tokenizer'"},
	} {
		got := count(tc.where)
		total += got
		if got != want[tc.kind] || int(st.Faults[tc.kind]) != want[tc.kind] {
			t.Errorf("%s: %d requests recorded as %s; the sim injected %d; the seed draws %d",
				tc.kind, got, tc.where, st.Faults[tc.kind], want[tc.kind])
		}
	}
	clean := count("status = 'ok' AND error_class = '' AND usage_json IS NOT NULL AND output_tokens = 16")
	if all := count("1"); clean+total != n || all != n {
		t.Errorf("%d requests recorded, %d faulted + %d clean, want %d in all", all, total, clean, n)
	}
	t.Logf("faults injected: %v; clean requests %d of %d", st.Faults, clean, n)
}
