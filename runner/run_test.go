package runner

import (
	"context"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/internal/memstore"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
	"github.com/trackerbench/tracker/tokens/tokenstest"
)

func promptSet(n int) *dataset.PromptSet {
	ps := &dataset.PromptSet{Source: "test", Hash: "h"}
	for i := range n {
		msgs := []dataset.Message{{Role: "user", Content: "Question " + string(rune('a'+i%26)) + "?"}}
		ps.Prompts = append(ps.Prompts, dataset.Prompt{Idx: i, ID: "p" + string(rune('a'+i%26)), SourceRow: i,
			Messages: msgs, Hash: dataset.HashMessages(msgs), InputTokens: 3, Gold: []string{"w"}})
	}
	return ps
}

func plan(prompts int, levels []int, eps ...Endpoint) Plan {
	var loads []Load
	for _, c := range levels {
		loads = append(loads, Load{Concurrency: c})
	}
	return Plan{Label: "t", Endpoints: eps, Dataset: "test", Prompts: promptSet(prompts), Seed: 1,
		Loads: loads, Request: RequestOptions{MaxTokens: 64, Timeout: 30 * time.Second}}
}

func ep(name, url string) Endpoint { return Endpoint{Name: name, BaseURL: url + "/v1", Model: "m"} }

func newRunner(t *testing.T) (*Runner, *store.DB) {
	db := storetest.Open(t)
	return &Runner{DB: db, Tokens: tokenstest.Counter(t), Version: "test"}, db
}

// newMemRunner is a runner recording into memory, for tests of what is measured rather than
// of how it is stored.
func newMemRunner(t *testing.T) (*Runner, *memstore.Store) {
	m := memstore.New()
	return &Runner{DB: m, Tokens: tokenstest.Counter(t), Version: "test"}, m
}

// val is *p, or nil for a nil p: a record's optional number, comparable with == to a value
// of its own type.
func val[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func requests(t *testing.T, db *store.DB, where string) []map[string]any {
	t.Helper()
	return storetest.Rows(t, db, "SELECT * FROM requests WHERE "+where+" ORDER BY id")
}

// fl reads a numeric column; NULL is NaN.
func fl(v any) float64 { return storetest.Float(v, math.NaN()) }

// The recorded TTFT and E2E cannot be below what the server waited and are close above it.
func TestTimingMatchesServer(t *testing.T) {
	f := &fakeServer{ttft: 80 * time.Millisecond, gap: 15 * time.Millisecond, tokens: words(8)}
	srv := f.start(t)
	r, m := newMemRunner(t)
	out, err := r.Run(context.Background(), plan(3, []int{1}, ep("a", srv.URL)))
	if err != nil || out.Status != bench.RunCompleted {
		t.Fatalf("run: %v %v", out, err)
	}
	recs := m.Requests()
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	for i, rec := range recs {
		ttft, e2e := *rec.TTFTMS, *rec.E2EMS
		s := f.servedAt(i)
		// Lower bounds: the server's own delays. Upper bounds: loose, for a noisy CI machine.
		if ttft < 80 || ttft < ms(s.firstToken) || ttft > ms(s.firstToken)+250 {
			t.Errorf("request %d: ttft %.1f ms, server sent its first token at %.1f ms", i, ttft, ms(s.firstToken))
		}
		t.Logf("request %d: client TTFT − server first token %.3f ms, client E2E − server last token %.3f ms",
			i, ttft-ms(s.firstToken), e2e-ms(s.lastToken))
		wantE2E := 80 + 7*15.0
		if e2e < wantE2E || e2e < ms(s.lastToken) || e2e > ms(s.lastToken)+250 {
			t.Errorf("request %d: e2e %.1f ms, server sent its last token at %.1f ms", i, e2e, ms(s.lastToken))
		}
		if rec.Status != bench.StatusOK || val(rec.OutputTokens) != 8 || rec.OutputTokensSource != bench.SourceUsage ||
			val(rec.InputTokens) != 42 || rec.Chunks != 8 {
			t.Errorf("request %d: %+v", i, rec)
		}
		tpot := *rec.TPOTMS
		if want := (e2e - ttft) / 7; math.Abs(tpot-want) > 1e-6 || tpot < 15 {
			t.Errorf("tpot %.3f, want (e2e-ttft)/7 = %.3f and >= 15", tpot, want)
		}
		if len(rec.ITLMS) != 7 {
			t.Errorf("itl_ms %v: want 7 gaps", rec.ITLMS)
		}
	}
	// Temperature 0 must really be sent (go-openai would drop it), with streamed usage asked for.
	for _, b := range f.bodies {
		if v, ok := b["temperature"]; !ok || v != 0.0 {
			t.Errorf("request body temperature = %v (present %v), want 0", v, ok)
		}
		if so, _ := b["stream_options"].(map[string]any); so["include_usage"] != true || b["stream"] != true {
			t.Errorf("request body %v: want stream with include_usage", b)
		}
	}
}

// Without usage the tokenizer counts, and the source says so.
func TestNoUsageCountsWithTokenizer(t *testing.T) {
	f := &fakeServer{tokens: []string{"Denver", " Broncos", " won"}, noUsage: true}
	srv := f.start(t)
	r, m := newMemRunner(t)
	if _, err := r.Run(context.Background(), plan(2, []int{1}, ep("a", srv.URL))); err != nil {
		t.Fatal(err)
	}
	for _, rec := range m.Requests() {
		want := tokenstest.Counter(t).Count("Denver Broncos won")
		if val(rec.OutputTokens) != want || rec.OutputTokensSource != bench.SourceTokenizer ||
			rec.InputTokensSource != bench.SourceTokenizer || rec.UsageJSON != "" || rec.Status != bench.StatusOK {
			t.Errorf("record %+v: want %d tokenizer-counted output tokens", rec, want)
		}
	}
}

// Reasoning is a generated token for TTFT; the first content token is timed apart; the role-only
// chunk counts for nothing; both reasoning field names are read.
func TestReasoningDeltas(t *testing.T) {
	for _, field := range []string{"reasoning", "reasoning_content"} {
		t.Run(field, func(t *testing.T) {
			f := &fakeServer{ttft: 30 * time.Millisecond, gap: 40 * time.Millisecond, reasoning: []string{"think", " more"},
				reasonField: field, tokens: []string{"Paris"}, usage: map[string]any{"completion_tokens_details": map[string]any{"reasoning_tokens": 2}}}
			srv := f.start(t)
			r, m := newMemRunner(t)
			if _, err := r.Run(context.Background(), plan(1, []int{1}, ep("a", srv.URL))); err != nil {
				t.Fatal(err)
			}
			rec := m.Requests()[0]
			ttft, ttfc := *rec.TTFTMS, *rec.TTFCMS
			// Ground truth: the server sends the first reasoning token at 30 ms and the first content
			// token two 40 ms gaps later. A late read of the first chunk compresses the gaps the
			// client sees, so the bounds are the server's own times, not ttft + 80.
			if ttft < 30 || ttfc < 30+80 || ttfc <= ttft || ttft > 30+250 {
				t.Errorf("ttft %.1f ttfc %.1f: want ttft >= 30, ttfc >= 110 (the server's first content) and ttfc > ttft", ttft, ttfc)
			}
			if rec.ReasoningText != "think more" || rec.ResponseText != "Paris" || val(rec.ReasoningTokens) != 2 {
				t.Errorf("record %+v", rec)
			}
		})
	}
}

// The first chunk's role-only delta is not a token: with no delay before it and a long one
// before the first real token, TTFT must include the long one.
func TestRoleOnlyChunkIsNotFirstToken(t *testing.T) {
	f := &fakeServer{ttft: 120 * time.Millisecond, tokens: words(2)}
	srv := f.start(t)
	r, m := newMemRunner(t)
	if _, err := r.Run(context.Background(), plan(1, []int{1}, ep("a", srv.URL))); err != nil {
		t.Fatal(err)
	}
	if ttft := *m.Requests()[0].TTFTMS; ttft < 120 {
		t.Errorf("ttft %.1f ms < 120 ms: the role-only chunk was counted", ttft)
	}
}

// v_requests and v_summary return the right rows; percentiles interpolate like numpy.
func TestViews(t *testing.T) {
	fa := &fakeServer{ttft: 5 * time.Millisecond, gap: 2 * time.Millisecond, tokens: words(5)}
	fb := &fakeServer{ttft: 25 * time.Millisecond, gap: 2 * time.Millisecond, tokens: words(5)}
	sa, sb := fa.start(t), fb.start(t)
	r, db := newRunner(t)
	p := plan(7, []int{1, 3}, ep("a", sa.URL), ep("b", sb.URL))
	p.Warmup = 2
	out, err := r.Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tb, err := db.Query(ctx, `SELECT endpoint, concurrency, COUNT(*) FROM v_requests WHERE run_id = ? GROUP BY 1, 2 ORDER BY 1, 2`, out.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.Rows) != 4 {
		t.Fatalf("v_requests groups: %v", tb.Rows)
	}
	for _, row := range tb.Rows {
		if row[2] != int64(7) { // warm-ups excluded
			t.Errorf("v_requests %v: want 7 requests per endpoint and level", row)
		}
	}
	all, _ := db.Query(ctx, `SELECT COUNT(*) FROM requests WHERE warmup = 1`)
	if all.Rows[0][0] != int64(4) {
		t.Errorf("warm-up rows: %v, want 2 per endpoint", all.Rows[0][0])
	}
	sum, err := db.Summary(ctx, out.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum) != 4 {
		t.Fatalf("v_summary rows: %d, want 4", len(sum))
	}
	for _, s := range sum {
		e2e := column(t, db, "e2e_ms", s.LevelID)
		ttft := column(t, db, "ttft_ms", s.LevelID)
		checks := []struct {
			name      string
			got, want float64
		}{
			{"p50_e2e", *s.P50E2EMS, quantile(e2e, 0.5)},
			{"p90_e2e", *s.P90E2EMS, quantile(e2e, 0.9)},
			{"p99_e2e", *s.P99E2EMS, quantile(e2e, 0.99)},
			{"p50_ttft", *s.P50TTFTMS, quantile(ttft, 0.5)},
			{"p99_ttft", *s.P99TTFTMS, quantile(ttft, 0.99)},
			{"mean_e2e", *s.MeanE2EMS, mean(e2e)},
		}
		for _, c := range checks {
			if math.Abs(c.got-c.want) > 1e-9 {
				t.Errorf("%s c=%d %s: view %.6f, numpy-linear %.6f", s.Endpoint, s.Concurrency, c.name, c.got, c.want)
			}
		}
		if s.N != 7 || s.OK != 7 || s.SuccessRate != 1 || s.OutputTokens == nil || *s.OutputTokens != 35 || s.OutputTokS == nil || *s.OutputTokS <= 0 {
			t.Errorf("summary %+v", s)
		}
	}
	if *sum[0].MeanTTFTMS >= *sum[1].MeanTTFTMS {
		t.Errorf("a (5 ms) should have a lower TTFT than b (25 ms): %v vs %v", *sum[0].MeanTTFTMS, *sum[1].MeanTTFTMS)
	}
}

func column(t *testing.T, db *store.DB, col string, level int64) []float64 {
	tb, err := db.Query(context.Background(), "SELECT "+col+" FROM v_requests WHERE level_id = ? AND status = 'ok'", level)
	if err != nil {
		t.Fatal(err)
	}
	var xs []float64
	for _, r := range tb.Rows {
		xs = append(xs, fl(r[0]))
	}
	return xs
}

// quantile is numpy.percentile's default (linear) written independently of the SQL.
func quantile(xs []float64, p float64) float64 {
	s := append([]float64{}, xs...)
	sort.Float64s(s)
	h := float64(len(s)-1) * p
	lo := math.Floor(h)
	if int(lo)+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[int(lo)] + (h-lo)*(s[int(lo)+1]-s[int(lo)])
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// Ctrl-C: cancel the context mid-run. Completed rows stay, in-flight ones are recorded as
// canceled, the run and its level are marked interrupted.
func TestInterruptKeepsCompletedRows(t *testing.T) {
	f := &fakeServer{ttft: 60 * time.Millisecond, tokens: words(2)}
	srv := f.start(t)
	r, db := newRunner(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go cancelAfterRows(ctx, cancel, db, 3) // Ctrl-C once 3 of the 20 requests are committed
	out, err := r.Run(ctx, plan(20, []int{1}, ep("a", srv.URL)))
	if !IsInterrupted(err) || out.Status != bench.RunInterrupted {
		t.Fatalf("outcome %+v err %v: want interrupted", out, err)
	}
	run, _ := db.GetRun(context.Background(), out.RunID)
	if run.Status != bench.RunInterrupted || run.EndedAt.IsZero() {
		t.Errorf("run row %+v", run)
	}
	ok := requests(t, db, "status = 'ok'")
	canceled := requests(t, db, "status = 'canceled'")
	if len(ok) < 2 || len(ok) >= 20 {
		t.Errorf("%d ok rows recorded, want the few that completed", len(ok))
	}
	if len(canceled) != 1 || canceled[0]["error_class"] != string(ClassCanceled) {
		t.Errorf("canceled rows: %v, want the one in flight", canceled)
	}
	lv, _ := db.Query(context.Background(), "SELECT status FROM levels")
	if lv.Rows[0][0] != "interrupted" {
		t.Errorf("level status %v", lv.Rows[0][0])
	}
	// The canceled request has no outcome: not in n, not against the success rate.
	sum, _ := db.Summary(context.Background(), out.RunID)
	if len(sum) != 1 || sum[0].N != len(ok) || sum[0].Canceled != 1 || sum[0].SuccessRate != 1 {
		t.Errorf("summary after interrupt: n %d canceled %d success %v, want n %d canceled 1 success 1",
			sum[0].N, sum[0].Canceled, sum[0].SuccessRate, len(ok))
	}
}

// Server faults are recorded with their class, and the run goes on.
func TestHTTPErrorsRecorded(t *testing.T) {
	bad := &fakeServer{status: 429, retryAfter: "3"}
	good := &fakeServer{tokens: words(3)}
	sb, sg := bad.start(t), good.start(t)
	r, db := newRunner(t)
	out, err := r.Run(context.Background(), plan(3, []int{1}, ep("bad", sb.URL), ep("good", sg.URL)))
	if err != nil || out.Status != bench.RunCompleted {
		t.Fatalf("%+v %v", out, err)
	}
	rows := requests(t, db, "endpoint_id = (SELECT id FROM endpoints WHERE name = 'bad')")
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, row := range rows {
		if row["status"] != "error" || row["error_class"] != "http_429" || row["http_status"] != int64(429) ||
			!strings.Contains(row["error_message"].(string), "Retry-After: 3") {
			t.Errorf("row %v", row)
		}
	}
	if n := len(requests(t, db, "status = 'ok'")); n != 3 {
		t.Errorf("%d ok rows from the good endpoint, want 3", n)
	}
}

// Streams that end badly are never counted as successes.
func TestTruncatedAndMalformedStreams(t *testing.T) {
	cases := []struct {
		name, body string
		status     bench.RequestStatus
		cls        bench.ErrorClass
	}{
		{"done without finish or usage", `data: {"choices":[{"delta":{"content":"a"}}]}` + "\n\ndata: [DONE]\n\n", "truncated", ClassNoFinish},
		{"eof without done", `data: {"choices":[{"delta":{"content":"a"}}]}` + "\n\n", "truncated", ClassEOFBeforeDone},
		{"finished without done", `data: {"choices":[{"delta":{"content":"a"},"finish_reason":"stop"}]}` + "\n\n", "ok", ClassMissingDone},
		{"malformed", `data: {"choices":[{"delta":{"content":"a"}}]}` + "\n\ndata: {nope\n\n", "error", ClassMalformed},
		{"sophia in-band error", `data: {"object":"error","message":"upstream timeout","type":"Timeout","code":504}` + "\n\ndata: [DONE]\n\n", "error", ClassInBand},
		{"metis in-band error", `data: {"id":"chatcmpl-api-error","choices":[{"delta":{"content":"\n\n[ERROR] model overloaded"},"finish_reason":"stop"}]}` + "\n\ndata: [DONE]\n\n", "error", ClassInBand},
		{"openai error object", `data: {"error":{"message":"bad things"}}` + "\n\n", "error", ClassInBand},
		{"no tokens", `data: {"choices":[{"delta":{"role":"assistant"},"finish_reason":"stop"}]}` + "\n\ndata: [DONE]\n\n", "error", ClassEmpty},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeServer{custom: func(w http.ResponseWriter, flush func()) { io.WriteString(w, tc.body); flush() }}
			srv := f.start(t)
			r, m := newMemRunner(t)
			if _, err := r.Run(context.Background(), plan(1, []int{1}, ep("a", srv.URL))); err != nil {
				t.Fatal(err)
			}
			rec := m.Requests()[0]
			if rec.Status != tc.status || rec.ErrorClass != tc.cls {
				t.Errorf("status %v class %v (%v), want %s %s", rec.Status, rec.ErrorClass, rec.ErrorMessage, tc.status, tc.cls)
			}
		})
	}
}

// A stalled answer, streamed or not, ends as a timeout without holding up the level.
func TestStallTimeout(t *testing.T) {
	for name, noStream := range map[string]bool{"streamed": false, "not streamed": true} {
		t.Run(name, func(t *testing.T) {
			f := &fakeServer{hang: 5 * time.Second}
			srv := f.start(t)
			r, m := newMemRunner(t)
			p := plan(2, []int{2}, ep("a", srv.URL))
			p.Request.StallTimeout = 150 * time.Millisecond
			p.Request.NoStream = noStream
			start := time.Now()
			if _, err := r.Run(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			if el := time.Since(start); el > 4*time.Second {
				t.Errorf("the level waited %v on stalled answers", el)
			}
			recs := m.Requests()
			if len(recs) == 0 {
				t.Fatal("no records")
			}
			for _, rec := range recs {
				if rec.Status != bench.StatusTimeout || rec.ErrorClass != ClassStall {
					t.Errorf("record %+v", rec)
				}
			}
		})
	}
}

// The API key reaches the server but never the database.
func TestKeyNeverStored(t *testing.T) {
	f := &fakeServer{tokens: words(2)}
	srv := f.start(t)
	db := storetest.OpenAt(t, filepath.Join(t.TempDir(), "k.db"))
	r := &Runner{DB: db, Tokens: tokenstest.Counter(t), Version: "test"}
	e := ep("a", srv.URL)
	e.APIKeyEnv = "TRACKER_TEST_KEY"
	e.Headers = map[string]string{"X-Secret": "header-secret-value"}
	const key = "sk-very-secret-key-123"
	keys, err := ResolveKeys([]Endpoint{e}, func(string) string { return key })
	if err != nil {
		t.Fatal(err)
	}
	p := plan(2, []int{1}, e)
	p.Keys = keys
	if _, err := r.Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if f.auth[0] != "Bearer "+key {
		t.Errorf("server saw Authorization %q", f.auth[0])
	}
	db.Close()
	dir := filepath.Dir(db.Path())
	entries, _ := os.ReadDir(dir)
	for _, en := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, en.Name()))
		if strings.Contains(string(b), key) || strings.Contains(string(b), "header-secret-value") {
			t.Errorf("%s contains a secret", en.Name())
		}
	}
}

// cancelAfterRows cancels once n measured requests are committed (visible to another reader),
// so an interrupt lands mid-run however slow the machine is.
func cancelAfterRows(ctx context.Context, cancel context.CancelFunc, db *store.DB, n int64) {
	for ctx.Err() == nil {
		tb, err := db.Query(context.Background(), "SELECT COUNT(*) FROM requests WHERE warmup = 0")
		if err == nil && tb.Rows[0][0].(int64) >= n {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
}
