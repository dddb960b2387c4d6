package runner

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/internal/testenv"
)

// llamaCaptures is where the captures of a real llama-server are (../shared/wire/llamacpp).
const llamaCaptures = "../../shared/wire/llamacpp"

// serveCapture answers every chat request with a captured llama-server answer: the SSE
// events of a stream (an excerpt's elisions skipped), or a JSON body.
func serveCapture(t *testing.T, file string) http.HandlerFunc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(llamaCaptures, file))
	if err != nil {
		testenv.Missing(t, "no capture %s: %v", file, err)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			return
		}
		if strings.HasSuffix(file, ".json") {
			w.Header().Set("Content-Type", "application/json")
			w.Write(b)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "data: ") {
				w.Write([]byte(line + "\n\n"))
			}
		}
	}
}

// llama.cpp's timings and prompt cache, from the captures, streamed and not: server TTFT is
// prompt_ms, server E2E prompt_ms + predicted_ms, cached tokens prompt_tokens - prompt_n
// (this build has no cache_n), and the timings' fields in server_json.
func TestLlamaCppTimingsFromCaptures(t *testing.T) {
	cases := []struct {
		file           string
		noStream       bool
		ttft, e2e      float64
		cached, output int64
		promptN        float64
	}{
		{"stream-200-tokens.excerpt.sse", false, 27.618, 27.618 + 936.035, 0, 200, 38},
		{"stream-repeated-prompt.sse", false, 4.687, 4.687 + 25.186, 37, 8, 1},
		{"nonstream.json", true, 14.07, 14.07 + 24.081, 10, 8, 19},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			srv := serve(t, serveCapture(t, tc.file))
			r, db := newRunner(t)
			p := plan(1, []int{1}, ep("llama", srv.URL))
			p.Request.NoStream = tc.noStream
			if _, err := r.Run(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			rows := requests(t, db, "warmup = 0")
			if len(rows) != 1 {
				t.Fatalf("%d rows", len(rows))
			}
			row := rows[0]
			if row["status"] != "ok" || math.Abs(fl(row["server_ttft_ms"])-tc.ttft) > 1e-9 ||
				math.Abs(fl(row["server_e2e_ms"])-tc.e2e) > 1e-9 || row["cached_tokens"] != tc.cached ||
				row["output_tokens"] != tc.output {
				t.Errorf("%v %v: server ttft %v e2e %v cached %v output %v; want %v %v %v %v", row["status"], row["error_message"],
					row["server_ttft_ms"], row["server_e2e_ms"], row["cached_tokens"], row["output_tokens"], tc.ttft, tc.e2e, tc.cached, tc.output)
			}
			var sj map[string]any
			if err := json.Unmarshal([]byte(row["server_json"].(string)), &sj); err != nil {
				t.Fatal(err)
			}
			if sj["prompt_n"] != tc.promptN || sj["predicted_per_second"] == nil || sj["timings"] != nil {
				t.Errorf("server_json %v: want the timings' fields at its top level", sj)
			}
		})
	}
}

// cached_tokens: the standard usage field first, then llama.cpp's cache_n, then the older
// builds' prompt_tokens - prompt_n; nothing reported is NULL.
func TestCachedTokensSources(t *testing.T) {
	cases := []struct {
		usage, timings string
		want           any
	}{
		{`{"prompt_tokens":50,"prompt_tokens_details":{"cached_tokens":32}}`, `{"prompt_n":18,"cache_n":30}`, 32},
		{`{"prompt_tokens":50}`, `{"prompt_n":18,"cache_n":30}`, 30},
		{`{"prompt_tokens":50}`, `{"prompt_n":18}`, 32},
		{`{"prompt_tokens":50}`, ``, nil},
		{``, `{"prompt_n":18}`, nil},
		{`{"prompt_tokens":10}`, `{"prompt_n":18}`, nil}, // impossible: not a count
		{`{"prompt_tokens_details":{"cached_tokens":-1}}`, ``, nil},
		{`{"prompt_tokens":50}`, `{"cache_n":1e300}`, nil},
		{`{"prompt_tokens":50}`, `{"cache_n":2.5}`, nil},
	}
	for _, tc := range cases {
		u, _ := parseUsage(json.RawMessage(tc.usage))
		got := cachedTokens(u, json.RawMessage(tc.timings))
		var g any
		if got != nil {
			g = *got
		}
		if g != tc.want {
			t.Errorf("usage %s timings %s: %v, want %v", tc.usage, tc.timings, g, tc.want)
		}
	}
}

// An impossible llama.cpp timing (huge, negative) is neither a server TTFT nor kept.
func TestImplausibleLlamaTimings(t *testing.T) {
	var rec bench.Measurement
	applyLlamaTimings(&rec, json.RawMessage(`{"prompt_n":3,"prompt_ms":1e305,"predicted_ms":-4,"predicted_n":2}`))
	if rec.ServerTTFTMS != nil || rec.ServerE2EMS != nil || strings.Contains(rec.ServerJSON, "e+305") || strings.Contains(rec.ServerJSON, "-4") {
		t.Errorf("server ttft %v e2e %v json %s: want impossible timings left out", rec.ServerTTFTMS, rec.ServerE2EMS, rec.ServerJSON)
	}
}
