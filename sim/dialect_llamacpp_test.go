package sim

import (
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trackerbench/tracker/runner"

	"github.com/trackerbench/tracker/internal/testenv"
)

const llamaCaptures = "../../shared/wire/llamacpp"

// startConfigured serves a sim the way Serve does (its connection behaviour included) and
// counts the connections the server closed.
func startConfigured(t *testing.T, p Profile, opts Options) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	s, err := New(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(s.Handler())
	s.ConfigureServer(ts.Config)
	var closed atomic.Int32
	inner := ts.Config.ConnState
	ts.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if inner != nil {
			inner(c, st)
		}
		if st == http.StateClosed {
			closed.Add(1)
		}
	}
	ts.Start()
	t.Cleanup(func() { ts.Close(); s.Close() })
	return ts, &closed
}

// captureEvents reads the JSON events of a captured stream (elisions skipped).
func captureEvents(t *testing.T, file string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(llamaCaptures, file))
	if err != nil {
		testenv.Missing(t, "no capture: %v", err)
	}
	var out []map[string]any
	for _, line := range strings.Split(string(b), "\n") {
		var m map[string]any
		if d, ok := strings.CutPrefix(line, "data: "); ok && json.Unmarshal([]byte(d), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

func keysOf(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

func streamEvents(t *testing.T, url string, body map[string]any) ([]map[string]any, string) {
	t.Helper()
	http.DefaultClient.CloseIdleConnections() // the last stream's connection is closed by the server
	resp := post(t, url+"/v1/chat/completions", body)
	defer resp.Body.Close()
	evs, err := readSSE(t, resp.Body)
	if err != nil || len(evs) < 2 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	var out []map[string]any
	for _, ev := range evs[:len(evs)-1] {
		var m map[string]any
		if err := json.Unmarshal([]byte(ev.data), &m); err != nil {
			t.Fatalf("event %q: %v", ev.data, err)
		}
		out = append(out, m)
	}
	return out, evs[len(evs)-1].data
}

// The llamacpp wire sends what the real llama-server sent (the captures): the same fields
// in first and last chunks, no role chunk, usage and timings in the finish chunk without
// stream_options, [DONE], the request's model echoed; a repeated prompt is served by the
// prompt cache (prompt_n 1) unless cache_prompt is false; non-streamed answers carry timings.
func TestLlamaCppWireMatchesCaptures(t *testing.T) {
	capture := captureEvents(t, "stream-200-tokens.excerpt.sse")
	ts, _ := startConfigured(t, dialectProfile(), Options{Wire: WireLlamaCpp})
	body := map[string]any{"model": "any-name", "stream": true, "max_tokens": 12,
		"messages": []map[string]any{{"role": "user", "content": squadPrompt}}}
	evs, done := streamEvents(t, ts.URL, body)
	first, last := evs[0], evs[len(evs)-1]
	if done != "[DONE]" || !slices.Equal(keysOf(first), keysOf(capture[0])) || !slices.Equal(keysOf(last), keysOf(capture[len(capture)-1])) {
		t.Errorf("first %v last %v end %q: want the capture's fields %v and %v, then [DONE]", keysOf(first), keysOf(last), done,
			keysOf(capture[0]), keysOf(capture[len(capture)-1]))
	}
	delta := first["choices"].([]any)[0].(map[string]any)["delta"].(map[string]any)
	if _, role := delta["role"]; role || first["model"] != "any-name" {
		t.Errorf("first chunk %v: want a token, no role, the request's model", first)
	}
	capTimings := capture[len(capture)-1]["timings"].(map[string]any)
	timings := last["timings"].(map[string]any)
	if !slices.Equal(keysOf(timings), keysOf(capTimings)) || last["choices"].([]any)[0].(map[string]any)["finish_reason"] == nil {
		t.Errorf("last chunk %v: want finish_reason and the capture's timings fields %v", last, keysOf(capTimings))
	}
	promptTokens := last["usage"].(map[string]any)["prompt_tokens"].(float64)
	if timings["prompt_n"].(float64) != promptTokens {
		t.Errorf("first sending: prompt_n %v of %v prompt tokens, want all", timings["prompt_n"], promptTokens)
	}
	evs, _ = streamEvents(t, ts.URL, body)
	if n := evs[len(evs)-1]["timings"].(map[string]any)["prompt_n"]; n != 1.0 {
		t.Errorf("repeated prompt: prompt_n %v, want 1 (served by the prompt cache)", n)
	}
	body["cache_prompt"] = false
	evs, _ = streamEvents(t, ts.URL, body)
	if n := evs[len(evs)-1]["timings"].(map[string]any)["prompt_n"]; n != promptTokens {
		t.Errorf("cache_prompt false: prompt_n %v, want %v", n, promptTokens)
	}

	b, err := os.ReadFile(filepath.Join(llamaCaptures, "nonstream.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want, got map[string]any
	json.Unmarshal(b, &want)
	body["stream"] = false
	http.DefaultClient.CloseIdleConnections()
	resp := post(t, ts.URL+"/v1/chat/completions", body)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(raw, &got); err != nil || !slices.Equal(keysOf(got), keysOf(want)) ||
		!slices.Equal(keysOf(got["timings"].(map[string]any)), keysOf(want["timings"].(map[string]any))) {
		t.Errorf("non-streamed answer %s: want the capture's fields", raw)
	}
}

// Like llama-server, the llamacpp wire closes the connection after every streamed answer
// (while its headers promise keep-alive) and keeps it after a non-streamed one.
func TestLlamaCppClosesAfterStream(t *testing.T) {
	ts, closed := startConfigured(t, dialectProfile(), Options{Wire: WireLlamaCpp})
	body := chatBody(squadPrompt, map[string]any{"max_tokens": 4, "stream": false})
	for range 3 {
		resp := post(t, ts.URL+"/v1/chat/completions", body)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	time.Sleep(50 * time.Millisecond)
	if n := closed.Load(); n != 0 {
		t.Errorf("%d connections closed after non-streamed answers, want 0", n)
	}
	body["stream"] = true
	resp := post(t, ts.URL+"/v1/chat/completions", body)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Connection") == "close" || resp.Close {
		t.Errorf("the stream announced its close; llama-server does not")
	}
	deadline := time.Now().Add(5 * time.Second)
	for closed.Load() != 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := closed.Load(); n != 1 {
		t.Errorf("%d connections closed after a stream, want 1", n)
	}
}

// Through the runner, at concurrency 1, 8 and 64, streamed and not: a sim closing
// connections (llamacpp's way, after N requests, when idle) gives no failed request;
// against the llamacpp wire every answer has the server's TTFT, and repeated prompts show
// cached tokens.
func TestConnectionClosingSimsThroughRunner(t *testing.T) {
	cases := []struct {
		name string
		opts Options
	}{
		{"llamacpp", Options{Wire: WireLlamaCpp}},
		{"keepalive-max-5", Options{Conn: ConnOptions{KeepaliveMax: 5}}},
		{"idle-close", Options{Conn: ConnOptions{IdleClose: 20 * time.Millisecond}}},
	}
	for _, tc := range cases {
		for _, noStream := range []bool{false, true} {
			t.Run(tc.name+map[bool]string{false: "-stream", true: "-nostream"}[noStream], func(t *testing.T) {
				p := dialectProfile()
				p.Output = Output{Length: LengthFixed, Tokens: 4}
				p.MaxNumSeqs = 64
				p.PrefillOverhead, p.DecodeBase, p.DecodePerSeq = time.Millisecond, time.Millisecond, 0
				ts, _ := startConfigured(t, p, tc.opts)
				db, _, err := measure(t, runner.Plan{Endpoints: simEndpoint(ts.URL), Prompts: squadPrompts(t, 16), Requests: 128,
					Loads: runner.ClosedLoads([]int{1, 8, 64}), Request: runner.RequestOptions{MaxTokens: 4, NoStream: noStream}})
				if err != nil {
					t.Fatal(err)
				}
				if bad := rowsOf(t, db, "SELECT error_class, error_message FROM requests WHERE status <> 'ok'"); len(bad) > 0 {
					t.Fatalf("%d of 384 failed, e.g. %v", len(bad), bad[0])
				}
				if tc.opts.Wire != WireLlamaCpp {
					return
				}
				c := rowsOf(t, db, `SELECT count(*) n, count(server_ttft_ms) timed, sum(cached_tokens > 0) hits,
					sum(server_ttft_ms > elapsed_ms) over FROM requests`)[0]
				if c["n"] != c["timed"] || num(c["hits"]) < 1 || num(c["over"]) != 0 {
					t.Errorf("%v: want server_ttft_ms on every answer, within the client's time, and cache hits", c)
				}
			})
		}
	}
}

// The sim speaks HTTP/2 by prior knowledge on plain TCP, so `tracker run --http 2` can be
// tried against it; every request records the protocol.
func TestSimSpeaksH2C(t *testing.T) {
	ts, _ := startConfigured(t, dialectProfile(), Options{})
	db, _, err := measure(t, runner.Plan{Endpoints: simEndpoint(ts.URL), Prompts: squadPrompts(t, 4), Loads: runner.ClosedLoads([]int{4}),
		Conn: runner.ConnOptions{HTTP: runner.HTTP2}, Request: runner.RequestOptions{MaxTokens: 8}})
	if err != nil {
		t.Fatal(err)
	}
	rows := rowsOf(t, db, "SELECT status, http_proto FROM requests WHERE warmup = 0")
	for _, row := range rows {
		if row["status"] != "ok" || row["http_proto"] != "HTTP/2.0" {
			t.Errorf("%v over %v, want ok over HTTP/2.0", row["status"], row["http_proto"])
		}
	}
}
