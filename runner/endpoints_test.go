package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
)

// keyScript writes a key command that counts its runs in a file and prints key-N.
func keyScript(t *testing.T) (command string, runs func() int) {
	dir := t.TempDir()
	count := filepath.Join(dir, "count")
	script := filepath.Join(dir, "key.sh")
	body := fmt.Sprintf("#!/bin/sh\nn=$(($(cat %q 2>/dev/null || echo 0) + 1))\necho $n > %q\necho \"notice: fetching a token\"\necho key-$n\n", count, count)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, func() int {
		b, err := os.ReadFile(count)
		if err != nil {
			return 0
		}
		var n int
		fmt.Sscan(string(b), &n)
		return n
	}
}

// authServer streams a short answer to requests bearing an accepted key and answers 401
// (as the ALCF gateway does, with its own message) to the others.
func authServer(t *testing.T, accept func(key string) bool) (url string, seen func() []string) {
	var mu sync.Mutex
	var keys []string
	stream := replay(t, "vllm_both_reasoning.sse")
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		mu.Lock()
		keys = append(keys, k)
		mu.Unlock()
		if !accept(k) {
			w.WriteHeader(401)
			io.WriteString(w, `{"detail":"Invalid or expired access token"}`)
			return
		}
		stream(w, r)
	}))
	return srv.URL, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string{}, keys...) }
}

// A token that expires mid-run: the first 401 re-runs the key command exactly once (even
// with several requests in flight), the request is sent again with the new key, and the
// key is never stored.
func TestKeyCommandRerunOnceOn401(t *testing.T) {
	command, runs := keyScript(t)
	url, seen := authServer(t, func(k string) bool { return k == "key-2" })
	e := ep("alcf", url)
	e.APIKeyCommand = command
	keys, err := ResolveKeys([]Endpoint{e}, os.Getenv)
	if err != nil || keys["alcf"] != "key-1" || runs() != 1 {
		t.Fatalf("ResolveKeys: %v %v, %d runs: want key-1 (the last line) after one run", keys, err, runs())
	}
	r, db := newRunner(t)
	p := plan(6, []int{3}, e)
	p.Keys = keys
	out, err := r.Run(context.Background(), p)
	if err != nil || out.Status != bench.RunCompleted {
		t.Fatalf("run: %+v %v", out, err)
	}
	if n := runs(); n != 2 {
		t.Errorf("the key command ran %d times, want 2 (once at the start, once on the 401)", n)
	}
	final := requests(t, db, "final = 1")
	if len(final) != 6 {
		t.Fatalf("%d final rows, want 6", len(final))
	}
	for _, row := range final {
		if row["status"] != "ok" {
			t.Errorf("final row %v", row)
		}
	}
	refused := requests(t, db, "final = 0")
	if len(refused) == 0 || len(refused) > 3 {
		t.Errorf("%d superseded 401 attempts, want 1 to 3 (the requests in flight with the old key)", len(refused))
	}
	for _, row := range refused {
		if row["error_class"] != "http_401" || !strings.Contains(row["error_message"].(string), "Invalid or expired") {
			t.Errorf("superseded attempt %v", row)
		}
	}
	for _, k := range seen() {
		if k != "key-1" && k != "key-2" {
			t.Errorf("server saw key %q", k)
		}
	}
	dump, _ := db.Query(context.Background(), "SELECT * FROM requests")
	if b, _ := json.Marshal(dump.Rows); strings.Contains(string(b), "key-1") || strings.Contains(string(b), "key-2") {
		t.Error("a key reached the requests table")
	}
}

// A 401 with the re-run key stops the run with an error naming the endpoint; the command
// ran exactly twice.
func TestSecond401StopsRun(t *testing.T) {
	command, runs := keyScript(t)
	url, _ := authServer(t, func(string) bool { return false })
	e := ep("metis", url)
	e.APIKeyCommand = command
	r, db := newRunner(t)
	p := plan(20, []int{1}, e)
	start := time.Now()
	out, err := r.Run(context.Background(), p) // no ResolveKeys: the client runs the command itself
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "endpoint metis") || IsInterrupted(err) {
		t.Fatalf("err = %v, want ErrAuth naming endpoint metis", err)
	}
	if out.Status != bench.RunFailed {
		t.Errorf("run status %s, want failed", out.Status)
	}
	if n := runs(); n != 2 {
		t.Errorf("the key command ran %d times, want exactly 2", n)
	}
	if n := len(requests(t, db, "1")); n != 2 {
		t.Errorf("%d requests recorded, want 2 (the 401 and the 401 after the re-run): the run must stop", n)
	}
	run, _ := db.GetRun(context.Background(), out.RunID)
	if !strings.Contains(run.Error, "HTTP 401 again") {
		t.Errorf("run error %q", run.Error)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("stopping took %v", time.Since(start))
	}
}

// A failing key command stops before anything is sent, with its stderr and never its stdout.
func TestKeyCommandFails(t *testing.T) {
	e := Endpoint{Name: "x", BaseURL: "http://127.0.0.1:1/v1", Model: "m",
		APIKeyCommand: "echo s3cr3t | tr 3 e; echo 'token expired: log in again' >&2; exit 3"}
	_, err := ResolveKeys([]Endpoint{e}, os.Getenv)
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "token expired") || strings.Contains(err.Error(), "secret") {
		t.Errorf("err = %v: want ErrAuth with stderr, without stdout", err)
	}
	e.APIKeyCommand = "true"
	if _, err := ResolveKeys([]Endpoint{e}, os.Getenv); err == nil || !strings.Contains(err.Error(), "printed no key") {
		t.Errorf("err = %v, want 'printed no key'", err)
	}
}

// A key command's error names the endpoint, its exit status and its (redacted) stderr,
// never the command's text: a key may be written inline in it.
func TestKeyCommandErrorHidesTheCommand(t *testing.T) {
	const inline = "sk-inline-0123456789"
	cases := []struct{ command, want string }{
		{"KEY=" + inline + "; echo \"login refused for $KEY\" >&2; exit 7", "(exit status 7): login refused for [REDACTED]"},
		{"curl --header 'Authorization: Bearer " + inline + "' http://127.0.0.1:1/ >&2; exit 9", "exit status 9"},
		{"true " + inline, "exited 0 but printed no key"},
		{"echo 'no session' >&2 # " + inline, "printed no key: no session"},
		{"kill -9 $$ # " + inline, "signal: killed"},
	}
	for _, c := range cases {
		e := Endpoint{Name: "metis", BaseURL: "http://127.0.0.1:1/v1", Model: "m", APIKeyCommand: c.command}
		_, err := ResolveKeys([]Endpoint{e}, os.Getenv)
		if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "endpoint metis") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want ErrAuth naming the endpoint and %q", c.command, err, c.want)
		}
		if err != nil && (strings.Contains(err.Error(), inline) || strings.Contains(err.Error(), "0123456789")) {
			t.Errorf("%q: err = %v: the key is printed", c.command, err)
		}
	}
}

// flaky answers chat requests with the given statuses in turn, then streams (GET
// /models, which warms connections, gets a model list).
func flaky(t *testing.T, statuses []int, header map[string]string, body string) (string, *atomic.Int32) {
	var n atomic.Int32
	stream := replay(t, "vllm_both_reasoning.sse")
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			io.WriteString(w, `{"object":"list","data":[]}`)
			return
		}
		i := int(n.Add(1)) - 1
		if i < len(statuses) {
			for k, v := range header {
				w.Header().Set(k, v)
			}
			w.WriteHeader(statuses[i])
			io.WriteString(w, body)
			return
		}
		stream(w, r)
	}))
	return srv.URL, &n
}

// Retries: every attempt is recorded with its class; the backoff doubles; the final
// attempt keeps its own latency and v_requests also gives it with its retries.
func TestRetriesRecordEveryAttempt(t *testing.T) {
	url, n := flaky(t, []int{429, 504}, nil, `{"error":{"message":"too many requests in process","code":"queue_full"}}`)
	r, db := newRunner(t)
	p := plan(1, []int{1}, ep("s", url))
	p.Request.Retries, p.Request.RetryBackoff = 3, 40*time.Millisecond
	if _, err := r.Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	rows := requests(t, db, "1")
	if len(rows) != 3 || n.Load() != 3 {
		t.Fatalf("%d rows, %d requests served: want 3", len(rows), n.Load())
	}
	wantClass := []string{"http_429", string(ClassQueueFull), ""}
	for i, row := range rows {
		if row["attempt"] != int64(i+1) || row["final"] != boolInt(i == 2) || row["error_class"] != wantClass[i] {
			t.Errorf("attempt %d: %v %v %v", i+1, row["attempt"], row["final"], row["error_class"])
		}
	}
	// Backoff: 40 ms, then 80 ms, between one attempt's end and the next one's t0.
	for i, minGap := range []float64{40, 80} {
		end := fl(rows[i]["start_ms"]) + fl(rows[i]["elapsed_ms"])
		if gap := fl(rows[i+1]["start_ms"]) - end; gap < minGap || gap > minGap+1000 {
			t.Errorf("wait before attempt %d: %.1f ms, want >= %.0f", i+2, gap, minGap)
		}
	}
	tb, err := db.Query(context.Background(), "SELECT e2e_ms, e2e_with_retries_ms, attempt FROM v_requests")
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.Rows) != 1 {
		t.Fatalf("v_requests rows %v, want the final attempt only", tb.Rows)
	}
	e2e, with := fl(tb.Rows[0][0]), fl(tb.Rows[0][1])
	wantWith := fl(rows[2]["start_ms"]) + e2e - fl(rows[0]["start_ms"])
	if math.Abs(with-wantWith) > 1e-6 || with < e2e+120 {
		t.Errorf("e2e %.1f, with retries %.1f: want %.1f (from the first attempt's t0), >= e2e + the 120 ms of backoff", e2e, with, wantWith)
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Retry-After is honoured; a 400 is not retried; no --retries means one attempt.
func TestRetryPolicy(t *testing.T) {
	t.Run("retry-after", func(t *testing.T) {
		url, _ := flaky(t, []int{503}, map[string]string{"Retry-After": "1"}, `{"error":{"message":"maintenance"}}`)
		r, db := newRunner(t)
		p := plan(1, []int{1}, ep("s", url))
		p.Request.Retries, p.Request.RetryBackoff = 1, time.Millisecond
		if _, err := r.Run(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		rows := requests(t, db, "1")
		if len(rows) != 2 || rows[1]["status"] != "ok" {
			t.Fatalf("rows %v", rows)
		}
		if gap := fl(rows[1]["start_ms"]) - fl(rows[0]["start_ms"]); gap < 1000 || gap > 4000 {
			t.Errorf("retried after %.0f ms, want Retry-After's 1 s", gap)
		}
	})
	for _, tc := range []struct {
		name    string
		status  int
		retries int
		want    int
	}{{"400 not retried", 400, 2, 1}, {"no retries", 503, 0, 1}, {"408 retried", 408, 2, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			url, _ := flaky(t, []int{tc.status}, nil, `{"error":{"message":"x"}}`)
			r, db := newRunner(t)
			p := plan(1, []int{1}, ep("s", url))
			p.Request.Retries, p.Request.RetryBackoff = tc.retries, time.Millisecond
			if _, err := r.Run(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			if n := len(requests(t, db, "1")); n != tc.want {
				t.Errorf("%d attempts, want %d", n, tc.want)
			}
		})
	}
}

func TestRetryDelays(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{{"", 0}, {"3", 3 * time.Second}, {"0.5", 500 * time.Millisecond}, {"-1", 0}, {"soon", 0},
		{now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second}} {
		if got := parseRetryAfter(tc.header, now); got != tc.want {
			t.Errorf("Retry-After %q: %v, want %v", tc.header, got, tc.want)
		}
	}
	if d := retryDelay(time.Second, 3, 0); d != 4*time.Second {
		t.Errorf("third retry waits %v, want 4s", d)
	}
	if d := retryDelay(time.Second, 30, 0); d != maxBackoff {
		t.Errorf("backoff %v, want the cap", d)
	}
	if d := retryDelay(time.Second, 1, 2*time.Second); d != 2*time.Second {
		t.Errorf("Retry-After ignored: %v", d)
	}
}

// max_rps spaces t0s at least 1/rps apart whatever the concurrency; the wait is queue
// time, never TTFT.
func TestRateLimit(t *testing.T) {
	srv := serve(t, replay(t, "vllm_both_reasoning.sse"))
	r, db := newRunner(t)
	e := ep("a", srv.URL)
	e.MaxRPS = ptr(20.0)
	if _, err := r.Run(context.Background(), plan(8, []int{4}, e)); err != nil {
		t.Fatal(err)
	}
	rows := requests(t, db, "1")
	var starts []float64
	queued := 0.0
	for _, row := range rows {
		starts = append(starts, fl(row["start_ms"]))
		queued += fl(row["queue_ms"])
		if ttft := fl(row["ttft_ms"]); ttft > 50+1000 || ttft < 50 {
			t.Errorf("ttft %.1f: the limiter's wait leaked into it", ttft)
		}
	}
	// The limiter releases one request per 50 ms from the level's start: the k-th t0
	// cannot come before k × 50 ms (each t0 follows its own slot; slots are 50 ms apart).
	sortFloats(starts)
	for k, s := range starts {
		if s < float64(k)*50-0.01 {
			t.Errorf("t0 number %d at %.1f ms, want >= %d ms (20 req/s)", k, s, k*50)
		}
	}
	if queued < 100 {
		t.Errorf("total queue time %.0f ms: the limiter's waits belong there", queued)
	}
}

func sortFloats(xs []float64) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

// --stream=false: E2E only, tokens from usage, the gateway's top-level fields kept and
// response_time (or SambaNova's total_latency) as the server's E2E.
func TestNonStreaming(t *testing.T) {
	for _, tc := range []struct {
		file                 string
		out                  int
		serverE2E, serverTTF any
		keep                 string
	}{
		{"sophia_nonstream.json", 31, 1234.5, nil, `"throughput_tokens_per_second":25.11`},
		{"sambanova_nonstream.json", 24, 95.1, 43.2, `"completion_tokens_after_first_per_sec":442.3`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var mu sync.Mutex // the handler's goroutine writes body; the race detector cannot see the answer as the handover
			var body map[string]any
			h := replay(t, tc.file)
			srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				json.Unmarshal(b, &body)
				mu.Unlock()
				time.Sleep(30 * time.Millisecond)
				h(w, r)
			}))
			r, m := newMemRunner(t)
			p := plan(1, []int{1}, ep("s", srv.URL))
			p.Request.NoStream = true
			out, err := r.Run(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			if body["stream"] != false || body["temperature"] != 0.0 || body["model"] != "m" {
				t.Errorf("request body %v", body)
			}
			mu.Unlock()
			rec := m.Requests()[0]
			if rec.Status != bench.StatusOK || rec.TTFTMS != nil || rec.TPOTMS != nil || rec.E2EMS == nil || *rec.E2EMS < 30 ||
				val(rec.OutputTokens) != tc.out || rec.OutputTokensSource != bench.SourceUsage || rec.ResponseText != "Denver Broncos" {
				t.Errorf("record %+v", rec)
			}
			if rec.ServerE2EMS == nil || math.Abs(*rec.ServerE2EMS-tc.serverE2E.(float64)) > 1e-6 {
				t.Errorf("server e2e %v, want %v", val(rec.ServerE2EMS), tc.serverE2E)
			}
			if tc.serverTTF != nil && (rec.ServerTTFTMS == nil || math.Abs(*rec.ServerTTFTMS-tc.serverTTF.(float64)) > 1e-6) {
				t.Errorf("server ttft %v, want %v", val(rec.ServerTTFTMS), tc.serverTTF)
			}
			if !strings.Contains(rec.ServerJSON, tc.keep) {
				t.Errorf("server json %s lacks %s", rec.ServerJSON, tc.keep)
			}
			run, _ := m.GetRun(context.Background(), out.RunID)
			if run.Stream {
				t.Error("runs.stream = 1 for a non-streaming run")
			}
		})
	}
}

// Non-streamed failures are classified like streamed ones.
func TestNonStreamingErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		wantStatus bench.RequestStatus
		class      bench.ErrorClass
		want       string
	}{
		{"408", `{"error":{"message":"Request timed out after 300 s"}}`, 408, "error", "http_408", "timed out"},
		{"sophia in-band", `{"object":"error","message":"model crashed","type":"InternalServerError","param":null,"code":500}`, 200, "error", ClassInBand, "model crashed"},
		{"metis in-band", `{"id":"chatcmpl-api-error","choices":[{"message":{"content":"\n\n[ERROR] bad"},"finish_reason":"stop"}]}`, 200, "error", ClassInBand, "[ERROR] bad"},
		{"no finish no usage", `{"choices":[{"message":{"content":"Den"}}]}`, 200, "truncated", ClassNoFinish, ""},
		{"not json", `<html>gateway</html>`, 200, "error", ClassMalformed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			r, m := newMemRunner(t)
			p := plan(1, []int{1}, ep("s", srv.URL))
			p.Request.NoStream = true
			if _, err := r.Run(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			rec := m.Requests()[0]
			if rec.Status != tc.wantStatus || rec.ErrorClass != tc.class || !strings.Contains(rec.ErrorMessage, tc.want) {
				t.Errorf("%v %v %q, want %s %s %q", rec.Status, rec.ErrorClass, rec.ErrorMessage, tc.wantStatus, tc.class, tc.want)
			}
		})
	}
}

// Preflight: one tiny chat request per endpoint; wrong URL, key or model fail with the
// endpoint's name and the server's own message; a 503 is cold, waited for on request.
func TestPreflight(t *testing.T) {
	ok := serve(t, replay(t, "vllm_both_reasoning.sse"))
	answer := func(status int, body string) string {
		return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			io.WriteString(w, body)
		})).URL
	}
	var bodies []map[string]any
	var mu sync.Mutex
	var cold atomic.Int32
	warming := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		json.NewDecoder(r.Body).Decode(&b)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		if cold.Add(1) <= 2 {
			w.WriteHeader(503)
			io.WriteString(w, `{"error":{"message":"Model openai/gpt-oss-120b is starting"}}`)
			return
		}
		replay(t, "vllm_both_reasoning.sse")(w, r)
	}))
	closed := serve(t, http.NotFoundHandler())
	closed.Close()
	cases := []struct {
		name string
		url  string
		o    PreflightOptions
		is   error
		want string
	}{
		{"ok", ok.URL, PreflightOptions{}, nil, ""},
		{"wrong model", answer(404, `{"object":"error","message":"The model `+"`nope`"+` does not exist.","type":"NotFoundError","code":404}`), PreflightOptions{}, ErrUnreachable, "The model `nope` does not exist."},
		{"wrong key", answer(401, `{"detail":"Invalid token"}`), PreflightOptions{}, ErrAuth, "Invalid token"},
		{"bad request", answer(400, `{"error":{"message":"max_tokens must be at least 1"}}`), PreflightOptions{}, ErrUnreachable, "max_tokens must be at least 1"},
		{"wrong url", closed.URL, PreflightOptions{}, ErrUnreachable, "cannot connect"},
		{"cold", answer(503, `{"error":{"message":"model not ready"}}`), PreflightOptions{}, ErrCold, "--wait-cold"},
		{"cold, waited", warming.URL, PreflightOptions{WaitCold: 5 * time.Second, Poll: 20 * time.Millisecond}, nil, ""},
		{"in-band", serve(t, replay(t, "sophia_error.sse")).URL, PreflightOptions{}, ErrUnreachable, "Upstream request timed out"},
		{"non-streaming ok", serve(t, replay(t, "sophia_nonstream.json")).URL, PreflightOptions{NoStream: true}, nil, ""},
		{"HTML page", answer(200, "<!DOCTYPE html><html><body>Sign in</body></html>"), PreflightOptions{}, ErrNotOpenAI, "not an SSE stream: got text/html"},
		{"HTML page, not streaming", answer(200, "<!DOCTYPE html><html><body>Sign in</body></html>"), PreflightOptions{NoStream: true}, ErrNotOpenAI, "not JSON (got text/html)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := ep("sophia", tc.url)
			err := Preflight(context.Background(), []Endpoint{e}, nil, tc.o)
			if tc.is == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), "endpoint sophia") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %v naming endpoint sophia and saying %q", err, tc.is, tc.want)
			}
		})
	}
	if len(bodies) != 3 || bodies[0]["max_tokens"] != 4.0 {
		t.Errorf("cold endpoint got %d checks (want 3), first body %v (want max_tokens 4)", len(bodies), bodies)
	}
}

// Presets fill what an endpoint leaves empty; the endpoint's own fields win.
func TestPresets(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "endpoints.yaml")
	os.WriteFile(path, []byte(`endpoints:
  - name: metis
    preset: alcf-metis
  - name: sophia
    preset: alcf-sophia
    model: openai/gpt-oss-20b
    max_rps: 0
  - name: samba
    preset: sambanova
    api_key_env: MY_KEY
    max_rps: 2.5
`), 0o644)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	m, s, sn := cfg.Endpoints[0], cfg.Endpoints[1], cfg.Endpoints[2]
	if m.BaseURL != "https://inference-api.alcf.anl.gov/resource_server/metis/api/v1" || m.Model != "gpt-oss-120b" ||
		m.APIKeyCommand != alcfTokenCommand || m.rateLimit() != 10 || m.Hardware == "" {
		t.Errorf("metis %+v", m)
	}
	if s.Model != "openai/gpt-oss-20b" || s.rateLimit() != 0 || !strings.Contains(s.BaseURL, "/sophia/vllm/v1") {
		t.Errorf("sophia overrides lost: %+v", s)
	}
	if sn.APIKeyEnv != "MY_KEY" || sn.APIKeyCommand != "" || sn.rateLimit() != 2.5 {
		t.Errorf("sambanova %+v", sn)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"endpoints:\n  - name: x\n    preset: nope\n", `unknown preset "nope"`},
		{"endpoints:\n  - name: x\n    preset: openai\n", "no default model"},
		{"endpoints:\n  - name: x\n    preset: vllm\n    max_rps: -1\n", "max_rps"},
		{"endpoints:\n  - name: x\n    preset: vllm\n    api_key_env: A\n    api_key_command: b\n", "not both"},
	} {
		os.WriteFile(path, []byte(tc.yaml), 0o644)
		if _, err := LoadConfig(path); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.want)
		}
	}
	os.WriteFile(path, []byte("endpoints:\n  - name: x\n    preset: sambanova\n    api_key_env: none\n"), 0o644)
	if cfg, err := LoadConfig(path); err != nil || cfg.Endpoints[0].APIKeyEnv != "" || cfg.Endpoints[0].APIKeyCommand != "" {
		t.Errorf("api_key_env: none: %+v %v", cfg, err)
	}
	e, err := ParseEndpointFlag("name=m,preset=alcf-metis,max_rps=3")
	if err != nil || e.BaseURL == "" || e.rateLimit() != 3 {
		t.Errorf("--endpoint with a preset: %+v %v", e, err)
	}
	if pub := e.Public(); pub["preset"] != "alcf-metis" || pub["api_key_command_set"] != true || pub["api_key_command"] != nil {
		t.Errorf("Public %v: want the preset, and only that a key command is set (it may hold a key inline)", pub)
	}
}
