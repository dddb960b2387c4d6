package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"
	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/tokens/tokenstest"
)

// replay serves a recorded stream from testdata/wire (the format is in its README): lines
// are sent as they are; ": sleep D" flushes and waits; other comments are not sent.
func replay(t *testing.T, file string) http.HandlerFunc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "wire", file))
	if err != nil {
		t.Fatal(err)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if strings.HasSuffix(file, ".json") {
			w.Header().Set("Content-Type", "application/json")
			w.Write(b)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, ":") {
				if d, ok := strings.CutPrefix(line, ": sleep "); ok {
					fl.Flush()
					dur, err := time.ParseDuration(d)
					if err != nil {
						panic(file + ": " + line)
					}
					select {
					case <-time.After(dur):
					case <-r.Context().Done():
						return
					}
				}
				continue
			}
			io.WriteString(w, line+"\n")
		}
		fl.Flush()
	}
}

func serve(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// Each dialect's recorded stream, through the real runner into SQLite: TTFT (reasoning
// counts, the role-only chunk does not), token counts, server timings, error classes,
// truncation and the relay flag.
func TestWireDialects(t *testing.T) {
	cases := []struct {
		file              string
		status            string
		class             bench.ErrorClass
		ttftMin           float64 // the stream's own delay before its first token-bearing chunk
		outTokens         int64   // 0 = count "Denver Broncos" with the tokenizer
		source            string
		reasoning, answer string
		reasoningTokens   any
		serverTTFT        any // ms, or nil
		serverE2E         any
		relay             int64
		message           string
	}{
		{file: "sambanova_gptoss.sse", status: "ok", ttftMin: 60, outTokens: 62, source: "usage",
			reasoning: "The user asks who won.", answer: "Denver Broncos", reasoningTokens: int64(48),
			serverTTFT: 51.52531623840332, serverE2E: 168.01691055297852},
		{file: "sambanova_nochoices.sse", status: "ok", ttftMin: 40, source: "tokenizer", answer: "Denver Broncos"},
		{file: "vllm_reasoning_content.sse", status: "ok", ttftMin: 70, outTokens: 21, source: "usage",
			reasoning: "Super Bowl 50 winner.", answer: "Denver Broncos"},
		{file: "vllm_both_reasoning.sse", status: "ok", ttftMin: 50, outTokens: 4, source: "usage",
			reasoning: "Think.", answer: "Denver"},
		{file: "sophia_relay.sse", status: "ok", ttftMin: 60, outTokens: 32, source: "usage", relay: 1,
			reasoning: " r1 r2 r3 r4 r5 r6 r7 r8 r9 r10 r11 r12",
			answer:    " w13 w14 w15 w16 w17 w18 w19 w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32"},
		{file: "metis_error.sse", status: "error", class: ClassInBand,
			message: "[ERROR] Model gpt-oss-120b is overloaded (error id 7f3c2a)"},
		{file: "sophia_error.sse", status: "error", class: ClassInBand, message: "Upstream request timed out after 120 s"},
		{file: "sophia_truncated.sse", status: "truncated", class: ClassNoFinish, ttftMin: 20, reasoning: "Let me think"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			srv := serve(t, replay(t, tc.file))
			r, db := newRunner(t)
			out, err := r.Run(context.Background(), plan(1, []int{1}, ep("a", srv.URL)))
			if err != nil || out.Status != "completed" {
				t.Fatalf("run: %+v %v", out, err)
			}
			row := requests(t, db, "1")[0]
			if row["status"] != tc.status || row["error_class"] != string(tc.class) {
				t.Fatalf("status %v class %v (%v), want %s %q", row["status"], row["error_class"], row["error_message"], tc.status, tc.class)
			}
			if tc.message != "" && !strings.Contains(row["error_message"].(string), tc.message) {
				t.Errorf("error_message %q, want the server's %q", row["error_message"], tc.message)
			}
			if row["relay_flag"] != tc.relay {
				t.Errorf("relay_flag %v, want %d (itl %v)", row["relay_flag"], tc.relay, row["itl_ms"])
			}
			if tc.status == "error" {
				if row["ttft_ms"] != nil {
					t.Errorf("an error has a TTFT: %v", row["ttft_ms"])
				}
				return
			}
			ttft := fl(row["ttft_ms"])
			if ttft < tc.ttftMin || ttft > tc.ttftMin+1000 {
				t.Errorf("ttft %.1f ms, want >= %.0f (the stream's delay before its first token)", ttft, tc.ttftMin)
			}
			if row["reasoning_text"] != tc.reasoning {
				t.Errorf("reasoning %q, want %q", row["reasoning_text"], tc.reasoning)
			}
			if tc.status != "ok" {
				return
			}
			if row["response_text"] != tc.answer {
				t.Errorf("answer %q, want %q", row["response_text"], tc.answer)
			}
			want := tc.outTokens
			if want == 0 {
				want = int64(tokenstest.Counter(t).Count(tc.answer + tc.reasoning))
			}
			if row["output_tokens"] != want || row["output_tokens_source"] != tc.source {
				t.Errorf("output tokens %v (%v), want %d (%s)", row["output_tokens"], row["output_tokens_source"], want, tc.source)
			}
			if tc.reasoningTokens != nil && row["reasoning_tokens"] != tc.reasoningTokens {
				t.Errorf("reasoning tokens %v, want %v", row["reasoning_tokens"], tc.reasoningTokens)
			}
			for _, c := range []struct {
				col  string
				want any
			}{{"server_ttft_ms", tc.serverTTFT}, {"server_e2e_ms", tc.serverE2E}} {
				got := row[c.col]
				if (got == nil) != (c.want == nil) || got != nil && math.Abs(fl(got)-c.want.(float64)) > 1e-9 {
					t.Errorf("%s = %v, want %v", c.col, got, c.want)
				}
			}
			if tc.serverTTFT != nil {
				var sj map[string]any
				if err := json.Unmarshal([]byte(row["server_json"].(string)), &sj); err != nil ||
					sj["completion_tokens_after_first_per_sec"] != 522.9332759819093 {
					t.Errorf("server_json %v: want SambaNova's timings as sent", row["server_json"])
				}
			}
		})
	}
}

// go-openai's typed chunk is checked against every recorded shape: it cannot read
// SambaNova's float `created` and has no `reasoning` field, which is why the runner reads
// the raw chunk. The runner's own chunk reads every shape.
func TestTypedStructsAgainstShapes(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "wire", "*.sse"))
	typedFails := map[string]bool{}
	lostReasoning := map[string]bool{}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok || data == "[DONE]" {
				continue
			}
			var ours chunk
			if err := json.Unmarshal([]byte(data), &ours); err != nil {
				t.Errorf("%s: the runner's chunk cannot read %s: %v", f, data, err)
			}
			var typed openai.ChatCompletionStreamResponse
			if err := json.Unmarshal([]byte(data), &typed); err != nil {
				typedFails[filepath.Base(f)] = true
				continue
			}
			if d := ours.delta(); d.reasoning != "" && len(typed.Choices) > 0 && typed.Choices[0].Delta.ReasoningContent == "" {
				lostReasoning[filepath.Base(f)] = true
			}
		}
	}
	for _, f := range []string{"sambanova_gptoss.sse", "sambanova_nochoices.sse"} {
		if !typedFails[f] {
			t.Errorf("%s: go-openai's typed chunk read the float created; the raw parsing note is out of date", f)
		}
	}
	if !lostReasoning["sophia_relay.sse"] {
		t.Errorf("go-openai's typed delta read `reasoning`; the raw parsing note is out of date")
	}
	if typedFails["vllm_reasoning_content.sse"] {
		t.Errorf("go-openai's typed chunk should read vLLM's integer-created chunks")
	}
}

// A relay's bursts are flagged; a steady decoder, a fast one and a short answer are not.
func TestRelayed(t *testing.T) {
	burst := func(groups, per int, long float64) []float64 {
		var g []float64
		for i := range groups {
			if i > 0 {
				g = append(g, long)
			}
			for range per - 1 {
				g = append(g, 0.05)
			}
		}
		return g
	}
	steady := func(n int, gap float64) []float64 {
		g := make([]float64, n)
		for i := range g {
			g[i] = gap + 0.1*float64(i%3)
		}
		return g
	}
	cases := []struct {
		name string
		gaps []float64
		want bool
	}{
		{"sophia 20-chunk batches", burst(4, 20, 25), true},
		{"sophia 0.5 s batches at 10 tok/s", burst(6, 5, 500), true},
		{"steady 20 ms decoder", steady(40, 20), false},
		{"fast 1.5 ms decoder", steady(200, 1.5), false},
		{"too few gaps", burst(2, 4, 60), false},
		{"near-zero without long gaps", burst(5, 8, 5), false},
		{"half bursty", append(steady(20, 15), burst(2, 10, 100)...), false},
	}
	for _, tc := range cases {
		if got := relayed(tc.gaps); got != tc.want {
			t.Errorf("%s: relayed = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The reasoning field under each of its names, and the harmony channel, give one reasoning
// text, never counted twice.
func TestDeltaReasoningNames(t *testing.T) {
	for _, tc := range []struct{ raw, reasoning, content string }{
		{`{"choices":[{"delta":{"reasoning":"a"}}]}`, "a", ""},
		{`{"choices":[{"delta":{"reasoning_content":"a"}}]}`, "a", ""},
		{`{"choices":[{"delta":{"reasoning":"a","reasoning_content":"a"}}]}`, "a", ""},
		{`{"choices":[{"delta":{"reasoning":"a","channel":"analysis"}}]}`, "a", ""},
		{`{"choices":[{"delta":{"content":"a","channel":"analysis"}}]}`, "a", ""},
		{`{"choices":[{"delta":{"content":"b","channel":"final"}}]}`, "", "b"},
		{`{"choices":[{"delta":{"role":"assistant","content":""}}]}`, "", ""},
	} {
		var c chunk
		if err := json.Unmarshal([]byte(tc.raw), &c); err != nil {
			t.Fatal(err)
		}
		d := c.delta()
		if d.reasoning != tc.reasoning || d.content != tc.content {
			t.Errorf("%s: reasoning %q content %q, want %q %q", tc.raw, d.reasoning, d.content, tc.reasoning, tc.content)
		}
	}
}
