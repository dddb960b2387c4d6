package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackerbench/tracker/internal/testenv"
	"github.com/trackerbench/tracker/sim"
	"github.com/trackerbench/tracker/store/storetest"
)

const squadDir = "../shared/squad"

// streamServer answers every chat request with a short stream after delay, and records the
// Authorization headers it saw.
func streamServer(t *testing.T, delay time.Duration) (*httptest.Server, *[]string) {
	var auths []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		for i, tok := range []string{"Denver", " Broncos"} {
			time.Sleep(delay)
			finish := "null"
			if i == 1 {
				finish = `"stop"`
			}
			fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":%s}]}\n\n", tok, finish)
			w.(http.Flusher).Flush()
		}
		fmt.Fprint(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":150,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n")
	}))
	t.Cleanup(srv.Close)
	return srv, &auths
}

type result struct {
	code           int
	stdout, stderr string
}

func tracker(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"tracker"}, args...), &out, &errb)
	return result{code, out.String(), errb.String()}
}

func needSquad(t *testing.T) {
	if _, err := os.Stat(filepath.Join(squadDir, "squad_v1.1_validation.jsonl")); err != nil {
		testenv.Missing(t, "the real SQuAD set is not at %s: %v", squadDir, err)
	}
}

// The whole slice: real SQuAD prompts to two endpoints at two levels, then runs and query.
func TestRunQueryEndToEnd(t *testing.T) {
	needSquad(t)
	fast, _ := streamServer(t, 2*time.Millisecond)
	slow, auths := streamServer(t, 20*time.Millisecond)
	db := filepath.Join(t.TempDir(), "t.db")
	t.Setenv("SLOW_KEY", "sk-secret-do-not-print")
	r := tracker(t, "--db", db, "run",
		"--endpoint", "fast="+fast.URL+"/v1,model=m",
		"--endpoint", "slow="+slow.URL+"/v1,model=m,key_env=SLOW_KEY",
		"--dataset", filepath.Join(squadDir, "squad_v1.1_validation.jsonl"),
		"--limit", "10", "--concurrency", "1,4", "--max-tokens", "16", "--label", "hw5", "--warmup", "1")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"Run 1 (completed)", "fast", "slow", "At c=1: fast was", "At c=4: fast was", "n=10 vs 10",
		"paired by prompt, faster on 10 of 10 prompts (sign test p = 0.002)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
	if (*auths)[0] != "Bearer sk-secret-do-not-print" {
		t.Errorf("slow endpoint saw Authorization %q", (*auths)[0])
	}
	if strings.Contains(r.stdout+r.stderr, "sk-secret") {
		t.Error("the key reached the terminal")
	}

	q := tracker(t, "--db", db, "query", "--format", "json",
		"SELECT endpoint, concurrency, n, ok, success_rate FROM v_summary WHERE run_id = 1 ORDER BY endpoint, concurrency")
	if q.code != 0 {
		t.Fatalf("query: %d %s", q.code, q.stderr)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(q.stdout), &rows); err != nil {
		t.Fatalf("json: %v\n%s", err, q.stdout)
	}
	if len(rows) != 4 || rows[0]["endpoint"] != "fast" || rows[0]["n"] != 10.0 || rows[0]["success_rate"] != 1.0 {
		t.Errorf("v_summary: %v", rows)
	}
	csv := tracker(t, "--db", db, "query", "--format", "csv", "SELECT prompt_id FROM v_requests WHERE endpoint = 'fast' AND concurrency = 1 ORDER BY prompt_idx")
	if lines := strings.Split(strings.TrimSpace(csv.stdout), "\n"); len(lines) != 11 || lines[0] != "prompt_id" {
		t.Errorf("csv: %q", csv.stdout)
	}
	// median() through `tracker query`: per endpoint and concurrency, the stored p50 of the run's level.
	med := tracker(t, "--db", db, "query", "--format", "csv", `SELECT v.endpoint, v.concurrency, median(v.ttft_ms) = s.p50_ttft_ms
		FROM v_requests v JOIN v_summary s ON s.level_id = v.level_id WHERE v.status = 'ok' GROUP BY 1, 2`)
	if med.code != 0 || strings.Count(med.stdout, ",1\n") != 4 {
		t.Errorf("median(ttft_ms) against v_summary's p50: exit %d\n%s%s", med.code, med.stdout, med.stderr)
	}
	md := tracker(t, "--db", db, "query", "--format", "markdown", "SELECT label FROM runs")
	if !strings.Contains(md.stdout, "| label |") || !strings.Contains(md.stdout, "hw5") {
		t.Errorf("markdown: %q", md.stdout)
	}
	runs := tracker(t, "--db", db, "runs")
	if runs.code != 0 || !strings.Contains(runs.stdout, "hw5") || !strings.Contains(runs.stdout, "fast,slow") {
		t.Errorf("runs: %d %s %s", runs.code, runs.stdout, runs.stderr)
	}
	w := tracker(t, "--db", db, "query", "DELETE FROM runs")
	if w.code != exitUsage || !strings.Contains(w.stderr, "read-only") {
		t.Errorf("a write through query: exit %d, %q", w.code, w.stderr)
	}
	raw, _ := os.ReadFile(db)
	if bytes.Contains(raw, []byte("sk-secret")) {
		t.Error("the key reached the database")
	}
}

// The original SQuAD JSON and the HF-shaped JSONL hold the same questions in the same order:
// with one seed both give the same prompt set, and the runs prove it by hash.
func TestSquadJSONAndJSONLSamePromptSet(t *testing.T) {
	needSquad(t)
	srv, _ := streamServer(t, 0)
	db := filepath.Join(t.TempDir(), "t.db")
	for _, f := range []string{"squad_v1.1_validation.jsonl", "dev-v1.1.json"} {
		r := tracker(t, "--db", db, "run", "--endpoint", "a="+srv.URL+"/v1,model=m", "--dataset", filepath.Join(squadDir, f), "--limit", "5", "--seed", "7")
		if r.code != 0 {
			t.Fatalf("%s: exit %d %s", f, r.code, r.stderr)
		}
	}
	q := tracker(t, "--db", db, "query", "--format", "csv", "SELECT COUNT(DISTINCT prompt_set_hash), COUNT(DISTINCT dataset_hash) FROM runs")
	if strings.TrimSpace(q.stdout) != "COUNT(DISTINCT prompt_set_hash),COUNT(DISTINCT dataset_hash)\n1,2" {
		t.Errorf("hashes: %q", q.stdout)
	}
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func writeFile(t *testing.T, name, content string) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Bad input: one clear line naming the file, line or field, and the right exit code. Nothing
// is recorded for a run that never started.
func TestBadInput(t *testing.T) {
	srv, _ := streamServer(t, 0)
	good := writeFile(t, "d.jsonl", `{"id":"1","context":"c","question":"q?","answers":{"text":["a"]}}`+"\n")
	url := srv.URL + "/v1"
	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"unknown endpoint field", []string{"--config", writeFile(t, "e.yaml", "endpoints:\n  - name: a\n    base_url: "+url+"\n    model: m\n    modle: x\n"), "--dataset", good},
			2, []string{"e.yaml", "modle", "[5:"}},
		{"missing key variable", []string{"--endpoint", "a=" + url + ",model=m,key_env=TRACKER_UNSET_VAR", "--dataset", good},
			2, []string{"endpoint a", "TRACKER_UNSET_VAR"}},
		{"unreachable url", []string{"--endpoint", "down=http://" + closedPort(t) + "/v1,model=m", "--dataset", good},
			1, []string{"endpoint down", "unreachable", "connection refused"}},
		{"malformed dataset line", []string{"--endpoint", "a=" + url + ",model=m", "--dataset", writeFile(t, "bad.jsonl", `{"question":"q?"}`+"\n{oops\n")},
			2, []string{"bad.jsonl", "line 2"}},
		{"row without question", []string{"--endpoint", "a=" + url + ",model=m", "--dataset", writeFile(t, "noq.jsonl", `{"context":"c"}`+"\n")},
			2, []string{"noq.jsonl", "line 1", "question"}},
		{"empty dataset", []string{"--endpoint", "a=" + url + ",model=m", "--dataset", writeFile(t, "empty.jsonl", "\n")},
			2, []string{"empty.jsonl", "no rows"}},
		{"no endpoints", []string{"--dataset", good}, 2, []string{"no endpoints"}},
		{"bad concurrency", []string{"--endpoint", "a=" + url + ",model=m", "--dataset", good, "--concurrency", "0"}, 2, []string{`--concurrency "0"`}},
		{"unknown flag", []string{"--bogus"}, 2, []string{"bogus"}},
		{"negative limit", []string{"--endpoint", "a=" + url + ",model=m", "--dataset", good, "--limit", "-1"}, 2, []string{"--limit -1"}},
		{"zero repeat", []string{"--endpoint", "a=" + url + ",model=m", "--dataset", good, "--repeat", "0"}, 2, []string{"--repeat 0"}},
		{"negative retries", []string{"--endpoint", "a=" + url + ",model=m", "--dataset", good, "--retries", "-1"}, 2, []string{"--retries -1"}},
		{"negative max tokens", []string{"--endpoint", "a=" + url + ",model=m", "--dataset", good, "--max-tokens", "-1"}, 2, []string{"--max-tokens -1"}},
		{"nan rate", []string{"--endpoint", "a=" + url + ",model=m", "--dataset", good, "--rate", "nan"}, 2, []string{`--rate "nan"`}},
		{"tiny rate", []string{"--endpoint", "a=" + url + ",model=m", "--dataset", good, "--rate", "1e-9"}, 2, []string{`--rate "1e-9"`}},
		{"nan temperature", []string{"--endpoint", "a=" + url + ",model=m", "--dataset", good, "--temperature", "nan"}, 2, []string{"--temperature NaN"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "t.db")
			r := tracker(t, append([]string{"--db", db, "run"}, tc.args...)...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d: %s", r.code, tc.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q: %s", w, r.stderr)
				}
			}
			if _, err := os.Stat(db); err == nil {
				q := tracker(t, "--db", db, "query", "--format", "csv", "SELECT COUNT(*) FROM runs")
				if strings.TrimSpace(q.stdout) != "COUNT(*)\n0" {
					t.Errorf("a run was recorded: %s", q.stdout)
				}
			}
		})
	}
}

// Ctrl-C then --resume through the command line: the resumed run is rebuilt from the stored
// arguments and completes with every request recorded once.
func TestInterruptThenResume(t *testing.T) { storetest.ForEach(t, testInterruptThenResume) }

func testInterruptThenResume(t *testing.T, b storetest.Backend) {
	srv, _ := streamServer(t, 15*time.Millisecond)
	db := b.Path(t)
	data := writeFile(t, "d.jsonl", strings.Repeat(`{"id":"1","context":"c","question":"q?","answers":{"text":["Denver Broncos"]}}`+"\n", 30))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // Ctrl-C once some requests are committed, however slow the machine is
		for committed(t, db) < 4 && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"tracker", "--db", db, "run", "--endpoint", "a=" + srv.URL + "/v1,model=m", "--dataset", data, "--concurrency", "2"}, &out, &errb)
	if code != 1 || !strings.Contains(out.String(), "Run 1 (interrupted)") || !strings.Contains(errb.String(), "--resume 1") {
		t.Fatalf("interrupted run: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	r := tracker(t, "--db", db, "run", "--resume", "1")
	if r.code != 0 || !strings.Contains(r.stdout, "Run 1 (completed)") {
		t.Fatalf("resume: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	q := tracker(t, "--db", db, "query", "--format", "csv", "SELECT COUNT(*) AS n, COUNT(DISTINCT seq) AS seqs, COUNT(*) FILTER (WHERE status = 'ok') AS ok, AVG(em) AS em FROM v_requests")
	if strings.TrimSpace(q.stdout) != "n,seqs,ok,em\n30,30,30,1" {
		t.Errorf("after resume: %q", q.stdout)
	}
	again := tracker(t, "--db", db, "run", "--resume", "1")
	if again.code != 2 || !strings.Contains(again.stderr, "already completed") {
		t.Errorf("second resume: exit %d %s", again.code, again.stderr)
	}
}

// An open-loop run with SLOs shows the achieved rate and goodput; a sweep says where it stopped.
func TestRateSLOAndSweepOutput(t *testing.T) {
	srv, _ := streamServer(t, 2*time.Millisecond)
	db := filepath.Join(t.TempDir(), "t.db")
	data := writeFile(t, "d.jsonl", `{"id":"1","question":"q?"}`+"\n"+`{"id":"2","question":"r?"}`+"\n")
	r := tracker(t, "--db", db, "run", "--endpoint", "a="+srv.URL+"/v1,model=m", "--dataset", data,
		"--rate", "20", "--requests", "10", "--slo", "ttft=1s,e2e=5s", "--burstiness", "inf")
	if r.code != 0 {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
	for _, want := range []string{"achieved req/s", "slo %", "20 req/s"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("rate summary lacks %q:\n%s", want, r.stdout)
		}
	}
	s := tracker(t, "--db", db, "run", "--endpoint", "a="+srv.URL+"/v1,model=m", "--dataset", data,
		"--sweep", "concurrency", "--sweep-max-concurrency", "4", "--requests", "8")
	if s.code != 0 || !strings.Contains(s.stdout, "sweep stopped") {
		t.Errorf("sweep: exit %d\n%s\n%s", s.code, s.stdout, s.stderr)
	}
	bad := tracker(t, "--db", db, "run", "--endpoint", "a="+srv.URL+"/v1,model=m", "--dataset", data, "--rate", "2", "--concurrency", "4")
	if bad.code != 2 || !strings.Contains(bad.stderr, "--max-concurrency") {
		t.Errorf("--rate with --concurrency: exit %d %s", bad.code, bad.stderr)
	}
}

// Every SQL example in docs/schema.md runs against a real database.
func TestSchemaDocExamplesRun(t *testing.T) {
	srv, _ := streamServer(t, 0)
	db := filepath.Join(t.TempDir(), "t.db")
	data := writeFile(t, "d.jsonl", `{"id":"1","context":"c","question":"q?","answers":{"text":["Denver Broncos"]}}`+"\n")
	for range 3 {
		if r := tracker(t, "--db", db, "run", "--endpoint", "sophia="+srv.URL+"/v1,model=m", "--dataset", data, "--concurrency", "1,8"); r.code != 0 {
			t.Fatal(r.stderr)
		}
	}
	stmts := schemaDocExamples(t, "sql")
	for _, stmt := range stmts {
		if r := tracker(t, "--db", db, "query", "--", stmt); r.code != 0 {
			t.Errorf("docs/schema.md example fails:\n%s\n%s", stmt, r.stderr)
		}
	}
	if len(stmts) < 8 {
		t.Errorf("found only %d examples", len(stmts))
	}
}

// schemaDocExamples are the statements of docs/schema.md's code blocks fenced as lang (the
// text between ```lang and ```, split at semicolons), those that are only comments left out.
func schemaDocExamples(t *testing.T, lang string) []string {
	t.Helper()
	doc, err := os.ReadFile("docs/schema.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, block := range strings.Split(string(doc), "```"+lang)[1:] {
		block, _, _ = strings.Cut(block, "```")
		for _, stmt := range strings.Split(block, ";") {
			if strings.TrimSpace(stripComments(stmt)) != "" {
				out = append(out, stmt)
			}
		}
	}
	return out
}

func stripComments(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// tracker report over a recorded history writes its three files; bad selections are usage errors.
func TestReportCommand(t *testing.T) {
	fast, _ := streamServer(t, 1*time.Millisecond)
	slow, _ := streamServer(t, 10*time.Millisecond)
	db := filepath.Join(t.TempDir(), "t.db")
	data := writeFile(t, "d.jsonl", `{"id":"1","context":"c","question":"q?","answers":{"text":["Denver Broncos"]}}`+"\n"+`{"id":"2","question":"r?"}`+"\n")
	r := tracker(t, "--db", db, "run", "--endpoint", "fast="+fast.URL+"/v1,model=m", "--endpoint", "slow="+slow.URL+"/v1,model=m",
		"--dataset", data, "--requests", "6", "--label", "hw5")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	out := filepath.Join(t.TempDir(), "rep")
	rep := tracker(t, "--db", db, "report", "--label", "hw5", "--baseline", "slow", "--out", out)
	if rep.code != 0 {
		t.Fatalf("report: exit %d %s", rep.code, rep.stderr)
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil || !strings.Contains(string(md), "fast") || !strings.Contains(string(md), "too few") {
		t.Errorf("report.md (%v):\n%.600s", err, md)
	}
	for _, f := range []string{"index.html", "report.json"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if bad := tracker(t, "--db", db, "report", "--baseline", "nosuch", "--out", out); bad.code != 2 || !strings.Contains(bad.stderr, "nosuch") {
		t.Errorf("unknown baseline: exit %d %s", bad.code, bad.stderr)
	}
	if none := tracker(t, "--db", filepath.Join(t.TempDir(), "none.db"), "report"); none.code == 0 {
		t.Errorf("report on a missing database succeeded")
	}
}

// Prices in endpoints.yaml reach the report as cost beside speed.
func TestCostFromConfigPrices(t *testing.T) {
	a, _ := streamServer(t, 1*time.Millisecond)
	b, _ := streamServer(t, 3*time.Millisecond)
	cfg := writeFile(t, "endpoints.yaml", "endpoints:\n"+
		"  - name: cheap\n    base_url: "+a.URL+"/v1\n    model: m\n    input_price_per_mtok: 0.5\n    output_price_per_mtok: 1.5\n"+
		"  - name: dear\n    base_url: "+b.URL+"/v1\n    model: m\n    price_per_hour: 40\n    nodes: 2\n")
	db := filepath.Join(t.TempDir(), "t.db")
	data := writeFile(t, "d.jsonl", `{"id":"1","question":"q?"}`+"\n")
	if r := tracker(t, "--db", db, "run", "--config", cfg, "--dataset", data, "--requests", "4"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	q := tracker(t, "--db", db, "query", "--format", "csv", "SELECT name, json_extract(config_json, '$.output_price_per_mtok') AS out, "+
		"json_extract(config_json, '$.price_per_hour') AS hour, json_extract(config_json, '$.nodes') AS nodes FROM endpoints ORDER BY name")
	if strings.TrimSpace(q.stdout) != "name,out,hour,nodes\ncheap,1.5,,\ndear,,40,2" {
		t.Errorf("stored prices: %q", q.stdout)
	}
	out := filepath.Join(t.TempDir(), "rep")
	if r := tracker(t, "--db", db, "report", "--out", out); r.code != 0 {
		t.Fatal(r.stderr)
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if strings.Contains(string(md), "Cost was not measured") || !strings.Contains(string(md), "$") {
		t.Errorf("report without cost:\n%s", md)
	}
	var rep struct {
		Groups []struct {
			Endpoints []struct {
				Endpoint       string   `json:"endpoint"`
				CostPerMTokOut *float64 `json:"cost_per_mtok_out"`
			} `json:"endpoints"`
		} `json:"groups"`
	}
	js, _ := os.ReadFile(filepath.Join(out, "report.json"))
	if err := json.Unmarshal(js, &rep); err != nil || len(rep.Groups) == 0 {
		t.Fatalf("report.json: %v", err)
	}
	for _, e := range rep.Groups[0].Endpoints {
		if e.CostPerMTokOut == nil || *e.CostPerMTokOut <= 0 {
			t.Errorf("%s: no cost per million output tokens", e.Endpoint)
		}
	}
	neg := writeFile(t, "neg.yaml", "endpoints:\n  - name: x\n    base_url: "+a.URL+"/v1\n    model: m\n    output_price_per_mtok: -1\n")
	if r := tracker(t, "--db", db, "run", "--config", neg, "--dataset", data); r.code != 2 || !strings.Contains(r.stderr, "negative") {
		t.Errorf("negative price: exit %d %s", r.code, r.stderr)
	}
	nodes := writeFile(t, "nodes.yaml", "endpoints:\n  - name: x\n    base_url: "+a.URL+"/v1\n    model: m\n    nodes: 4\n")
	if r := tracker(t, "--db", db, "run", "--config", nodes, "--dataset", data); r.code != 2 || !strings.Contains(r.stderr, "price_per_hour") {
		t.Errorf("nodes without a price: exit %d %s", r.code, r.stderr)
	}
}

// A relayed endpoint (the simulator speaking ALCF Sophia's dialect) gets a warning in the run
// summary and in the report: its TTFT and TPOT describe the relay.
func TestRelayWarnings(t *testing.T) {
	p, _ := sim.Builtin("illustrative-fast")
	p.Jitter, p.Faults = 0, nil
	s, err := sim.New(p, sim.Options{Wire: "alcf-sophia"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer func() { srv.Close(); s.Close() }()
	db := filepath.Join(t.TempDir(), "t.db")
	data := writeFile(t, "d.jsonl", `{"id":"1","question":"q?"}`+"\n")
	r := tracker(t, "--db", db, "run", "--endpoint", "sophia="+srv.URL+"/v1,model="+p.Model, "--dataset", data,
		"--requests", "4", "--max-tokens", "64", "--ignore-eos", "--no-preflight")
	if r.code != 0 || !strings.Contains(r.stdout, "arrived in relayed bursts") {
		t.Fatalf("summary without a relay warning: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	out := filepath.Join(t.TempDir(), "rep")
	if rep := tracker(t, "--db", db, "report", "--out", out); rep.code != 0 {
		t.Fatal(rep.stderr)
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if !strings.Contains(string(md), "arrived in relayed bursts") {
		t.Errorf("report without a relay warning:\n%s", md)
	}

	direct, err := sim.New(p, sim.Options{Wire: "vllm"})
	if err != nil {
		t.Fatal(err)
	}
	dsrv := httptest.NewServer(direct.Handler())
	defer func() { dsrv.Close(); direct.Close() }()
	r = tracker(t, "--db", db, "run", "--endpoint", "vllm="+dsrv.URL+"/v1,model="+p.Model, "--dataset", data,
		"--requests", "4", "--max-tokens", "64", "--ignore-eos", "--no-preflight")
	if r.code != 0 || strings.Contains(r.stdout, "relayed bursts") {
		t.Errorf("a direct stream was called relayed: exit %d\n%s", r.code, r.stdout)
	}
}
