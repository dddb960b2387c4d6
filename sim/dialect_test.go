package sim

// The wire dialects end to end: a simulated endpoint speaking each one, measured by the real
// runner into a real SQLite file.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/runner"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
	"github.com/trackerbench/tracker/tokens/tokenstest"
)

// dialectProfile is quick and jitter-free, with reasoning before the answer and a fixed
// output length so every stream has enough gaps to show a relay.
func dialectProfile(faults ...Fault) Profile {
	p := testProfile()
	p.Output = Output{ReasoningTokens: 8} // with ignore_eos, max_tokens (64) tokens
	p.Faults = faults
	p.setDefaults()
	return p
}

func startWire(t *testing.T, wire string, relay RelayOptions, faults ...Fault) *httptest.Server {
	t.Helper()
	_, ts := startSimWith(t, dialectProfile(faults...), Options{Wire: wire, Relay: relay})
	return ts
}

type dialectRun struct {
	db    *store.DB
	runID int64
	err   error
}

func runWire(t *testing.T, url string, n, conc int, req runner.RequestOptions) dialectRun {
	t.Helper()
	if req.MaxTokens == 0 {
		req.MaxTokens = 64
	}
	eps := simEndpoint(url)
	if err := runner.Preflight(context.Background(), eps, nil,
		runner.PreflightOptions{Timeout: 10 * time.Second, NoStream: req.NoStream, Tokens: tokenstest.Counter(t)}); err != nil {
		t.Fatalf("preflight: %v", err)
	}
	db, out, err := measure(t, runner.Plan{Endpoints: eps, Prompts: squadPrompts(t, n), Loads: runner.ClosedLoads([]int{conc}), Request: req})
	return dialectRun{db, out.RunID, err}
}

func rowsOf(t *testing.T, db *store.DB, q string) []map[string]any {
	t.Helper()
	return storetest.Rows(t, db, q)
}

// num reads a numeric column; NULL is -1, below every duration the checks accept.
func num(v any) float64 { return storetest.Float(v, -1) }

// Every dialect, streaming, through the runner: all answers ok with reasoning first (TTFT
// before TTFC); SambaNova's (and Metis's) server timings land in their columns and are
// below the client's; only Sophia's relay is flagged.
func TestDialectsThroughRunner(t *testing.T) {
	for _, tc := range []struct {
		wire          string
		serverTimings bool
		relay         int64
	}{
		{WireVLLM, false, 0},
		{WireSambaNova, true, 0},
		{WireALCFMetis, true, 0},
		{WireALCFSophia, false, 1},
	} {
		t.Run(tc.wire, func(t *testing.T) {
			ts := startWire(t, tc.wire, RelayOptions{})
			res := runWire(t, ts.URL, 4, 2, runner.RequestOptions{IgnoreEOS: true})
			if res.err != nil {
				t.Fatal(res.err)
			}
			rows := rowsOf(t, res.db, `SELECT r.*, v.outside_server_ms FROM requests r JOIN v_requests v ON v.request_id = r.id`)
			if len(rows) != 4 {
				t.Fatalf("%d rows", len(rows))
			}
			for _, row := range rows {
				// With a relay, the reasoning and the first content may arrive in one burst.
				if row["status"] != "ok" || row["reasoning_text"] == "" || num(row["ttfc_ms"]) < num(row["ttft_ms"]) ||
					tc.relay == 0 && num(row["ttfc_ms"]) == num(row["ttft_ms"]) ||
					row["output_tokens_source"] != "usage" || row["output_tokens"] != int64(64) {
					t.Errorf("row: status %v class %v %v, reasoning %q, ttft %v ttfc %v, out %v (%v)", row["status"], row["error_class"],
						row["error_message"], row["reasoning_text"], row["ttft_ms"], row["ttfc_ms"], row["output_tokens"], row["output_tokens_source"])
				}
				if tc.serverTimings {
					sttft, se2e := num(row["server_ttft_ms"]), num(row["server_e2e_ms"])
					if sttft <= 0 || sttft >= num(row["ttft_ms"]) || se2e <= sttft || se2e >= num(row["elapsed_ms"]) ||
						row["reasoning_tokens"] != int64(8) || row["outside_server_ms"] == nil {
						t.Errorf("server ttft %v e2e %v, client ttft %v elapsed %v, reasoning tokens %v", row["server_ttft_ms"],
							row["server_e2e_ms"], row["ttft_ms"], row["elapsed_ms"], row["reasoning_tokens"])
					}
				} else if row["server_ttft_ms"] != nil || row["server_e2e_ms"] != nil {
					t.Errorf("server timings from a server that sends none: %v %v", row["server_ttft_ms"], row["server_e2e_ms"])
				}
				if row["relay_flag"] != tc.relay {
					t.Errorf("relay_flag %v, want %d; gaps %v", row["relay_flag"], tc.relay, row["itl_ms"])
				}
			}
			share := rowsOf(t, res.db, `SELECT relay_share FROM v_relay`)
			if len(share) != 1 || num(share[0]["relay_share"]) != float64(tc.relay) {
				t.Errorf("v_relay %v", share)
			}
		})
	}
}

// A server error during a streamed request: plain HTTP 500 from vLLM and SambaCloud, an
// error inside the HTTP 200 stream behind the ALCF gateway; never a success.
func TestDialectInBandErrors(t *testing.T) {
	for _, tc := range []struct {
		wire    string
		class   bench.ErrorClass
		status  string
		message string
		http    int64
	}{
		{WireVLLM, "http_500", "error", "Internal server error (simulated).", 500},
		{WireSambaNova, "http_500", "error", "Internal server error (simulated).", 500},
		{WireALCFMetis, runner.ClassInBand, "error", "[ERROR] Internal server error (simulated). (error id", 200},
		{WireALCFSophia, runner.ClassInBand, "error", "Internal server error (simulated). (type InternalServerError, code 500)", 200},
	} {
		t.Run(tc.wire, func(t *testing.T) {
			ts := startWire(t, tc.wire, RelayOptions{}, Fault{Kind: FaultServerError, Rate: 1})
			db, _, err := measure(t, runner.Plan{Endpoints: simEndpoint(ts.URL), Prompts: squadPrompts(t, 2),
				Loads: runner.ClosedLoads([]int{1}), Request: runner.RequestOptions{MaxTokens: 16, Timeout: 10 * time.Second}})
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range rowsOf(t, db, "SELECT * FROM requests") {
				if row["status"] != tc.status || row["error_class"] != string(tc.class) || row["http_status"] != tc.http ||
					!strings.Contains(row["error_message"].(string), tc.message) {
					t.Errorf("%v %v %v %q, want %s %s %d %q", row["status"], row["error_class"], row["http_status"],
						row["error_message"], tc.status, tc.class, tc.http, tc.message)
				}
			}
		})
	}
}

// Sophia's gateway ends a stream that brought nothing for its idle time with [DONE]: no
// finish_reason, no usage. The runner records it as truncated, not as a short success.
func TestSophiaSilentTruncation(t *testing.T) {
	ts := startWire(t, WireALCFSophia, RelayOptions{Idle: 300 * time.Millisecond},
		Fault{Kind: FaultStall, Rate: 1, AfterTokens: 5, Duration: 3 * time.Second})
	start := time.Now()
	db, _, err := measure(t, runner.Plan{Endpoints: simEndpoint(ts.URL), Prompts: squadPrompts(t, 1), Loads: runner.ClosedLoads([]int{1}),
		Request: runner.RequestOptions{MaxTokens: 64, IgnoreEOS: true, Timeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	row := rowsOf(t, db, "SELECT * FROM requests")[0]
	if row["status"] != "truncated" || row["error_class"] != string(runner.ClassNoFinish) || row["chunks"] != int64(5) || row["finish_reason"] != "" {
		t.Errorf("status %v class %v chunks %v finish %q: want truncated no_finish_reason after 5 chunks",
			row["status"], row["error_class"], row["chunks"], row["finish_reason"])
	}
	// Ground truth: the relay's idle limit is 300 ms (a lower bound) and the stall lasts 3 s, so a
	// stream that ended before the stall did was ended by the relay, however loaded the machine.
	if el := num(row["elapsed_ms"]); el < 300 || el >= 3000 {
		t.Errorf("elapsed %.0f ms: the relay should end the stream after its 300 ms idle time, before the 3 s stall ends", el)
	}
	if time.Since(start) > 8*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

// Non-streaming: Sophia's gateway adds response_time (the server's E2E) and
// throughput_tokens_per_second; SambaNova's usage carries its timings.
func TestDialectsNonStreaming(t *testing.T) {
	for _, tc := range []struct {
		wire, keep string
		ttft       bool
	}{
		{WireALCFSophia, "throughput_tokens_per_second", false},
		{WireSambaNova, "completion_tokens_after_first_per_sec", true},
	} {
		t.Run(tc.wire, func(t *testing.T) {
			ts := startWire(t, tc.wire, RelayOptions{})
			res := runWire(t, ts.URL, 2, 1, runner.RequestOptions{NoStream: true, IgnoreEOS: true})
			if res.err != nil {
				t.Fatal(res.err)
			}
			for _, row := range rowsOf(t, res.db, "SELECT * FROM requests") {
				se2e := num(row["server_e2e_ms"])
				if row["status"] != "ok" || row["ttft_ms"] != nil || se2e <= 0 || se2e >= num(row["e2e_ms"]) ||
					!strings.Contains(row["server_json"].(string), tc.keep) || (row["server_ttft_ms"] != nil) != tc.ttft {
					t.Errorf("row: %v %v e2e %v server e2e %v ttft %v server %v", row["status"], row["error_message"], row["e2e_ms"],
						row["server_e2e_ms"], row["server_ttft_ms"], row["server_json"])
				}
			}
		})
	}
}

// The gateway dialects have no /v1/models; SambaNova's created is a float; its first chunk
// has no choices.
func TestDialectShapes(t *testing.T) {
	for _, wire := range []string{WireALCFMetis, WireALCFSophia} {
		ts := startWire(t, wire, RelayOptions{})
		resp, err := http.Get(ts.URL + "/v1/models")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("%s: GET /v1/models answered %d, want 404 (the gateway has none)", wire, resp.StatusCode)
		}
	}
	ts := startWire(t, WireSambaNova, RelayOptions{})
	resp := post(t, ts.URL+"/v1/chat/completions", chatBody(squadPrompt, map[string]any{"max_tokens": 12}))
	evs, err := readSSE(t, resp.Body)
	resp.Body.Close()
	if err != nil || len(evs) < 3 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	var first struct {
		Created json.Number `json:"created"`
		Choices []any       `json:"choices"`
		FP      string      `json:"system_fingerprint"`
	}
	if err := json.Unmarshal([]byte(evs[0].data), &first); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(first.Created.String(), ".") || first.FP != "fastcoe" || len(first.Choices) != 0 {
		t.Errorf("first chunk %s: want a float created, fastcoe, no choices", evs[0].data)
	}
	if _, err := New(dialectProfile(), Options{Wire: "nope"}); err == nil || !strings.Contains(err.Error(), "alcf-sophia") {
		t.Errorf("unknown wire: %v", err)
	}
	if err := runner.Preflight(context.Background(), []runner.Endpoint{{Name: "m", BaseURL: startWire(t, WireALCFMetis, RelayOptions{}).URL + "/v1", Model: "wrong"}},
		nil, runner.PreflightOptions{Timeout: 5 * time.Second}); !errors.Is(err, runner.ErrUnreachable) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("preflight with a wrong model: %v", err)
	}
}
