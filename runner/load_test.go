package runner_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"net/http"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/runner"
	"github.com/trackerbench/tracker/sim"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
	"github.com/trackerbench/tracker/tokens/tokenstest"
)

// simServer starts a simulator with a profile whose timing is fixed (no jitter, no faults).
func simServer(t *testing.T, edit func(*sim.Profile)) *httptest.Server {
	t.Helper()
	p, ok := sim.Builtin(sim.BuiltinNames()[0])
	if !ok {
		t.Fatal("no built-in profile")
	}
	p.Jitter, p.Faults = 0, nil
	p.RequestOverhead, p.PrefillOverhead, p.PrefillPerToken = 0, 5*time.Millisecond, 0
	p.DecodeBase, p.DecodePerSeq, p.DecodePerContextToken = 4*time.Millisecond, 0, 0
	p.Output = sim.Output{Length: sim.LengthFixed, Tokens: 8}
	p.MaxNumSeqs, p.KVCacheTokens = 1024, 1<<30
	p.Model = "m"
	if edit != nil {
		edit(&p)
	}
	s, err := sim.New(p, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	return srv
}

// mustRun runs p and returns the run's id; an error fails the test.
func mustRun(t *testing.T, r *runner.Runner, p runner.Plan) int64 {
	t.Helper()
	out, err := r.Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return out.RunID
}

func prompts(t *testing.T, n int) *dataset.PromptSet {
	tok := tokenstest.Counter(t)
	var rows []dataset.Row
	for i := range n {
		rows = append(rows, dataset.Row{ID: "q" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Index: i,
			Context: "The sky over the plain is blue in summer.", Question: "What colour is the sky?", Answers: []string{"blue"}})
	}
	tmpl, _ := dataset.NewTemplate("", "")
	ps, err := dataset.Build(rows, tmpl, tok)
	if err != nil {
		t.Fatal(err)
	}
	return &dataset.PromptSet{Source: "test", Hash: "h", Prompts: ps}
}

func newRunner(t *testing.T) (*runner.Runner, *store.DB) {
	db := storetest.Open(t)
	return &runner.Runner{DB: db, Tokens: tokenstest.Counter(t), Version: "test"}, db
}

func ep(name, url string) runner.Endpoint {
	return runner.Endpoint{Name: name, BaseURL: url + "/v1", Model: "m"}
}

func basePlan(n int, eps ...runner.Endpoint) runner.Plan {
	return runner.Plan{Label: "load", Endpoints: eps, Dataset: "test", Seed: 3,
		Request: runner.RequestOptions{MaxTokens: 8, Timeout: 30 * time.Second}}
}

func summary(t *testing.T, db *store.DB, run int64) []store.SummaryRow {
	rows, err := db.Summary(context.Background(), run)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// An open loop reaches its requested rate, records scheduled times, and is not flagged.
func TestOpenLoopAchievesRate(t *testing.T) {
	srv := simServer(t, nil)
	r, db := newRunner(t)
	p := basePlan(0, ep("a", srv.URL))
	p.Prompts = prompts(t, 10)
	p.Loads = runner.OpenLoads([]float64{40}, 0)
	p.Requests = 120
	p.Burstiness = 1e9 // nearly constant spacing: the achieved rate is then exact to a few percent
	run := mustRun(t, r, p)
	s := summary(t, db, run)[0]
	if s.N != 120 || s.AchievedRPS == nil || *s.AchievedRPS < 40*0.95 || *s.AchievedRPS > 40*1.05 {
		t.Errorf("n %d achieved %v req/s, want 120 requests at 40 ± 5%%", s.N, deref(s.AchievedRPS))
	}
	if s.LagFlag || s.MaxLagMS == nil || *s.MaxLagMS > 200 {
		t.Errorf("lag flag %v, max lag %v ms", s.LagFlag, deref(s.MaxLagMS))
	}
	tb, _ := db.Query(context.Background(), "SELECT COUNT(*) FROM v_requests WHERE scheduled_ms IS NOT NULL AND send_lag_ms >= 0")
	if tb.Rows[0][0] != int64(120) {
		t.Errorf("requests with a schedule and non-negative lag: %v", tb.Rows[0][0])
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}

// A rate above what a capped server can take: send lag grows, the level is flagged, and the
// achieved rate is below the requested one. Latency from the schedule exposes the queueing
// that latency from the send hides.
func TestOpenLoopFallsBehindIsFlagged(t *testing.T) {
	srv := simServer(t, func(p *sim.Profile) { p.DecodeBase = 12 * time.Millisecond }) // ~100 ms a request
	r, db := newRunner(t)
	p := basePlan(0, ep("a", srv.URL))
	p.Prompts = prompts(t, 10)
	p.Loads = runner.OpenLoads([]float64{60}, 2) // capacity about 2 / 0.1 s = 20 req/s
	p.Requests = 48
	p.Burstiness = 1e9
	run := mustRun(t, r, p)
	s := summary(t, db, run)[0]
	if !s.LagFlag || *s.AchievedRPS > 40 || !strings.Contains(levelNote(t, db, s.LevelID), "send lag grew") {
		t.Errorf("lag flag %v achieved %.1f req/s note %q", s.LagFlag, deref(s.AchievedRPS), levelNote(t, db, s.LevelID))
	}
	tb, _ := db.Query(context.Background(), "SELECT AVG(e2e_from_scheduled_ms - e2e_ms) FROM v_requests")
	if lag, _ := tb.Rows[0][0].(float64); lag < 100 {
		t.Errorf("mean lag between schedule and send %.1f ms: the cap's queueing is hidden", lag)
	}
}

func levelNote(t *testing.T, db *store.DB, id int64) string {
	tb, err := db.Query(context.Background(), "SELECT note || ' ' || stop_reason FROM levels WHERE id = ?", id)
	if err != nil {
		t.Fatal(err)
	}
	return tb.Rows[0][0].(string)
}

// sweepToBatchLimit runs a concurrency sweep (up to 64, stopping below a 15% gain) over
// nPrompts prompts on a simulated server that batches at most maxNumSeqs sequences, and
// returns the levels' summaries.
func sweepToBatchLimit(t *testing.T, maxNumSeqs, nPrompts int) []store.SummaryRow {
	t.Helper()
	srv := simServer(t, func(p *sim.Profile) { p.MaxNumSeqs = maxNumSeqs; p.DecodeBase = 8 * time.Millisecond })
	r, db := newRunner(t)
	p := basePlan(0, ep("a", srv.URL))
	p.Prompts = prompts(t, nPrompts)
	p.Sweep = &runner.Sweep{Kind: bench.SweepConcurrency, MinGain: 0.15, MaxConcurrency: 64}
	run := mustRun(t, r, p)
	return summary(t, db, run)
}

// A concurrency sweep on a server with a batch limit of 4 stops once doubling past it no
// longer raises throughput, and says why. Where exactly it stops is decided by throughputs
// measured in real time, which a loaded host moves (the level at 4 or at 8 slowed more than
// the next one: stops at 16 and 32 were seen at load 9-25), so this end-to-end test bounds
// the stop: tightly below (never at or before the limit, throughput rose up to it), loosely
// above (before the sweep's maximum 64). TestSweepStopsAtFirstLevelPastLimit checks the exact
// stop, at 8, on modelled throughputs that no scheduling can move.
func TestSweepStopsAtBatchLimit(t *testing.T) {
	rows := sweepToBatchLimit(t, 4, 32)
	var levels []int
	last := rows[len(rows)-1]
	for _, s := range rows {
		levels = append(levels, s.Concurrency)
	}
	if last.Concurrency <= 4 || last.Concurrency >= 64 || !strings.Contains(last.StopReason, "output throughput rose") {
		t.Errorf("sweep ran %v and stopped at %d (%q), want a throughput stop past the batch limit 4 and before the maximum 64",
			levels, last.Concurrency, last.StopReason)
	}
	for i := 1; i < len(rows) && rows[i].Concurrency <= 4; i++ {
		if *rows[i].OutputTokS <= *rows[i-1].OutputTokS*1.15 {
			t.Errorf("throughput did not rise below the limit: %v", levels)
		}
	}
}

// Early stop: a level whose error rate passes the limit stops after the minimum sample.
func TestMaxErrorRateStopsLevel(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"error":{"message":"down"}}`))
	}))
	defer srv.Close()
	r, db := newRunner(t)
	p := basePlan(0, ep("a", srv.URL))
	p.Prompts = prompts(t, 50)
	p.Loads = runner.ClosedLoads([]int{1})
	p.MaxErrorRate = 0.5
	run := mustRun(t, r, p)
	s := summary(t, db, run)[0]
	if s.N >= 50 || s.N < 10 || !strings.Contains(s.StopReason, "error rate") {
		t.Errorf("n %d stop %q: want an early stop after about 10 requests", s.N, s.StopReason)
	}
}

// Resume after a cancel sends exactly the requests that did not complete.
func TestResumeSendsOnlyMissing(t *testing.T) {
	var mu sync.Mutex
	sent := map[string]int{}
	srv := simServer(t, func(p *sim.Profile) { p.DecodeBase = 10 * time.Millisecond })
	count := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/chat/completions" {
			mu.Lock()
			sent[r.URL.Path]++
			mu.Unlock()
		}
		proxy(w, r, srv.URL)
	})
	counting, counting2 := httptest.NewServer(count), httptest.NewServer(count)
	defer counting.Close()
	defer counting2.Close()
	r, db := newRunner(t)
	p := basePlan(0, ep("a", counting.URL), ep("b", counting2.URL))
	p.Prompts = prompts(t, 12)
	p.Loads = runner.ClosedLoads([]int{1, 3})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // Ctrl-C once 5 of the 48 requests are committed
		for countRows(t, db, "1") < 5 && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	out, err := r.Run(ctx, p)
	if !runner.IsInterrupted(err) || out.Status != bench.RunInterrupted {
		t.Fatalf("%+v %v", out, err)
	}
	checkLevelSummaries(t, db, out.RunID, "after the interruption")
	before := countRows(t, db, "status <> 'canceled'")
	canceled := countRows(t, db, "status = 'canceled'")
	if before == 0 || before >= 48 {
		t.Fatalf("%d requests completed before the cancel; the test needs a partial run", before)
	}
	mu.Lock()
	sentBefore := sent["/v1/chat/completions"]
	mu.Unlock()

	r2 := &runner.Runner{DB: db, Tokens: tokenstest.Counter(t), Version: "test"}
	p2 := basePlan(0, ep("a", counting.URL), ep("b", counting2.URL))
	p2.Prompts, p2.Loads = prompts(t, 12), runner.ClosedLoads([]int{1, 3})
	out2, err := r2.Resume(context.Background(), out.RunID, p2)
	if err != nil || out2.Status != bench.RunCompleted {
		t.Fatalf("resume: %+v %v", out2, err)
	}
	mu.Lock()
	resent := sent["/v1/chat/completions"] - sentBefore
	mu.Unlock()
	if resent != 48-before {
		t.Errorf("resume sent %d requests, want exactly the %d missing (%d completed, %d canceled)", resent, 48-before, before, canceled)
	}
	checkLevelSummaries(t, db, out.RunID, "after the resume")
	tb, _ := db.Query(context.Background(), `SELECT COUNT(*), COUNT(DISTINCT level_id || ':' || seq) FROM v_requests`)
	if tb.Rows[0][0] != int64(48) || tb.Rows[0][1] != int64(48) {
		t.Errorf("v_requests %v: want every (level, seq) exactly once", tb.Rows[0])
	}
	if _, err := r2.Resume(context.Background(), out.RunID, p2); err == nil || !strings.Contains(err.Error(), "already completed") {
		t.Errorf("resuming a completed run: %v", err)
	}
}

// checkLevelSummaries checks that every level of an ended run has its stored summary and
// that it agrees with the SQL form (v_level_stats) on the figures a resume changes.
func checkLevelSummaries(t *testing.T, db *store.DB, runID int64, when string) {
	t.Helper()
	tb, err := db.Query(context.Background(), `SELECT
		(SELECT COUNT(*) FROM levels WHERE run_id = ?1 AND id NOT IN (SELECT level_id FROM level_summary)),
		(SELECT COUNT(*) FROM levels WHERE run_id = ?1 AND status = 'running'),
		(SELECT COUNT(*) FROM level_summary s JOIN v_level_stats v ON v.level_id = s.level_id
		 WHERE v.run_id = ?1 AND (s.n <> v.n OR s.ok <> v.ok OR s.canceled <> v.canceled
		   OR abs(s.p50_e2e_ms - v.p50_e2e_ms) > 1e-9 OR (s.p50_e2e_ms IS NULL) <> (v.p50_e2e_ms IS NULL)))`, runID)
	if err != nil {
		t.Fatal(err)
	}
	if row := tb.Rows[0]; row[0] != int64(0) || row[1] != int64(0) || row[2] != int64(0) {
		t.Errorf("%s: %v levels without a summary, %v still running, %v whose summary disagrees with v_level_stats", when, row[0], row[1], row[2])
	}
}

func countRows(t *testing.T, db *store.DB, where string) int {
	tb, err := db.Query(context.Background(), "SELECT COUNT(*) FROM requests WHERE warmup = 0 AND "+where)
	if err != nil {
		t.Fatal(err)
	}
	return int(tb.Rows[0][0].(int64))
}

// --order concurrent runs the endpoints' levels at the same time.
func TestConcurrentOrderOverlaps(t *testing.T) {
	a, b := simServer(t, nil), simServer(t, nil)
	r, db := newRunner(t)
	for _, order := range []bench.Order{bench.OrderConcurrent, bench.OrderInterleaved} {
		p := basePlan(0, ep("a", a.URL), ep("b", b.URL))
		p.Prompts, p.Loads, p.Order = prompts(t, 10), runner.OpenLoads([]float64{30}, 0), order
		run := mustRun(t, r, p)
		tb, _ := db.Query(context.Background(), `SELECT MIN(e), MAX(s) FROM (SELECT l.id, MIN(r.started_at) s, MAX(r.started_at) e
			FROM levels l JOIN requests r ON r.level_id = l.id WHERE l.run_id = ? GROUP BY l.id)`, run)
		firstEnd, lastStart := tb.Rows[0][0].(string), tb.Rows[0][1].(string)
		overlap := lastStart < firstEnd
		if overlap != (order == bench.OrderConcurrent) {
			t.Errorf("order %s: levels overlap %v (one ends %s, the other starts %s)", order, overlap, firstEnd, lastStart)
		}
	}
}

// Repeats are separate trials; goodput counts the requests meeting every SLO.
func TestRepeatsAndGoodput(t *testing.T) {
	srv := simServer(t, func(p *sim.Profile) { p.PrefillOverhead = 40 * time.Millisecond })
	r, db := newRunner(t)
	p := basePlan(0, ep("a", srv.URL))
	p.Prompts, p.Loads, p.Repeat = prompts(t, 4), runner.ClosedLoads([]int{1}), 2
	p.SLO = runner.SLO{TTFT: 20 * time.Millisecond} // every TTFT is >= 40 ms: none is good
	out, err := r.Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	rows := summary(t, db, out.RunID)
	if len(rows) != 2 || rows[0].Trial != 1 || rows[1].Trial != 2 {
		t.Fatalf("trials: %+v", rows)
	}
	for _, s := range rows {
		if s.SLOAttain != 0 || s.GoodputRPS == nil || *s.GoodputRPS != 0 || s.SuccessRate != 1 {
			t.Errorf("attainment %v goodput %v success %v", s.SLOAttain, deref(s.GoodputRPS), s.SuccessRate)
		}
	}
	p.SLO = runner.SLO{TTFT: 5 * time.Second, E2E: 10 * time.Second}
	out, _ = r.Run(context.Background(), p)
	for _, s := range summary(t, db, out.RunID) {
		if s.SLOAttain != 1 || *s.GoodputRPS <= 0 {
			t.Errorf("loose SLO: attainment %v goodput %v", s.SLOAttain, deref(s.GoodputRPS))
		}
	}
}

// --requests cycles through the prompts in the same order for every endpoint.
func TestRequestsCyclePrompts(t *testing.T) {
	srv, srv2 := simServer(t, nil), simServer(t, nil)
	r, db := newRunner(t)
	p := basePlan(0, ep("a", srv.URL), ep("b", srv2.URL))
	p.Prompts, p.Loads, p.Requests = prompts(t, 3), runner.ClosedLoads([]int{2}), 7
	run := mustRun(t, r, p)
	tb, _ := db.Query(context.Background(), `SELECT endpoint, group_concat(prompt_idx, '') FROM
		(SELECT endpoint, prompt_idx FROM v_requests WHERE run_id = ? ORDER BY endpoint, seq) GROUP BY endpoint`, run)
	for _, row := range tb.Rows {
		if row[1] != "0120120" {
			t.Errorf("%v: prompt order %v, want 0120120", row[0], row[1])
		}
	}
}

// A rate sweep measures single-stream and saturated throughput, then runs rates strictly
// between them, evenly spaced.
func TestRateSweep(t *testing.T) {
	srv := simServer(t, func(p *sim.Profile) { p.MaxNumSeqs = 4 })
	r, db := newRunner(t)
	p := basePlan(0, ep("a", srv.URL))
	p.Prompts, p.Requests = prompts(t, 16), 16
	p.Sweep = &runner.Sweep{Kind: bench.SweepRate, MaxConcurrency: 8, Steps: 3}
	run := mustRun(t, r, p)
	rows := summary(t, db, run)
	if len(rows) != 5 || rows[0].Concurrency != 1 || rows[1].Concurrency != 8 || rows[0].Rate != nil {
		t.Fatalf("levels: %d rows, first %+v", len(rows), rows[0])
	}
	lo, hi := *rows[0].ReqS, *rows[1].ReqS
	for k, s := range rows[2:] {
		want := lo + (hi-lo)*float64(k+1)/4
		if s.Rate == nil || *s.Rate < want*0.999 || *s.Rate > want*1.001 || *s.Rate <= lo || *s.Rate >= hi {
			t.Errorf("rate %d: %v, want %.3f strictly between %.3f and %.3f", k+1, deref(s.Rate), want, lo, hi)
		}
	}
}

// --duration bounds a level in time (prompts cycle), --warmup-duration warms for a time, and
// --timeout ends a slow request as a timeout without holding up the level.
func TestDurationWarmupAndTimeout(t *testing.T) {
	srv := simServer(t, nil) // about 40 ms a request
	r, db := newRunner(t)
	p := basePlan(0, ep("a", srv.URL))
	p.Prompts, p.Loads = prompts(t, 3), runner.ClosedLoads([]int{1})
	p.Duration, p.WarmupDuration = 400*time.Millisecond, 150*time.Millisecond
	out, err := r.Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	s := summary(t, db, out.RunID)[0]
	if s.N < 4 || s.N > 40 || *s.DurationS < 0.35 || *s.DurationS > 1.5 {
		t.Errorf("a 400 ms level sent %d requests over %.2f s", s.N, deref(s.DurationS))
	}
	if w := countRows(t, db, "1"); w != s.N {
		t.Errorf("%d measured rows, summary says %d", w, s.N)
	}
	// Warm-up requests go one after another until they span 150 ms, first t0 to last end, on
	// the clock their start_ms and elapsed_ms are recorded with (the runner compares the same
	// sums): the floor is exact. The last one may pass it by a request (~40 ms); 2 s is slack
	// for a loaded machine.
	tb, _ := db.Query(context.Background(),
		"SELECT COUNT(*), MAX(start_ms + elapsed_ms) - MIN(start_ms) FROM requests WHERE warmup = 1")
	if n, span := tb.Rows[0][0].(int64), tb.Rows[0][1].(float64); n < 1 || span < 150 || span > 2000 {
		t.Errorf("%d warm-up requests spanning %.3f ms, want at least the 150 ms of --warmup-duration", n, span)
	}

	slow := simServer(t, func(p *sim.Profile) { p.DecodeBase = 100 * time.Millisecond })
	p = basePlan(0, ep("slow", slow.URL))
	p.Prompts, p.Loads = prompts(t, 2), runner.ClosedLoads([]int{2})
	p.Request.Timeout = 150 * time.Millisecond
	start := time.Now()
	out, err = r.Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("level took %v with a 150 ms timeout", el)
	}
	tb, _ = db.Query(context.Background(),
		"SELECT status, error_class, queue_ms + elapsed_ms FROM requests WHERE run_id = ?", out.RunID)
	for _, row := range tb.Rows {
		// The timeout starts when the client begins the request: after the moment it was due,
		// before t0 (the wait for a connection is queue time). So due to end, queue_ms +
		// elapsed_ms on the same monotonic clock, is at least the timeout; elapsed_ms alone is
		// not (on a loaded machine t0 comes tens of ms after the start). 1e-6 ms: float rounding.
		if row[0] != "timeout" || row[1] != "timeout" || row[2].(float64) < 150-1e-6 {
			t.Errorf("row %v: want a timeout, due to end at least the 150 ms timeout", row)
		}
	}
}

// A sweep on a handful of prompts still reaches the server's batch limit: each level sends
// enough requests (prompts cycle) to hold its concurrency.
func TestSweepWithFewPromptsReachesBatchLimit(t *testing.T) {
	rows := sweepToBatchLimit(t, 16, 4)
	for _, s := range rows {
		if s.N < 4*s.Concurrency {
			t.Errorf("level %d sent %d requests: it cannot hold its concurrency", s.Concurrency, s.N)
		}
	}
	last := rows[len(rows)-1]
	if last.Concurrency <= 16 || !strings.Contains(last.StopReason, "output throughput rose") {
		t.Errorf("sweep on 4 prompts stopped at %d (%q): want past the batch limit 16, stopped by throughput",
			last.Concurrency, last.StopReason)
	}
}
