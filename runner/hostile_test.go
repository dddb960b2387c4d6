package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store/storetest"
	"github.com/trackerbench/tracker/tokens/tokenstest"
)

// The run's secrets, which hostile servers echo back.
const (
	hostileKey    = "sk-hostile-secret-0123456789"
	hostileHeader = "hdr-secret-abcdefgh"
)

// heapMargin is how far the heap may grow during one hostile request: far above what a
// bounded client holds (a 1 MiB line, a 1 MiB text prefix, buffers), far below what the
// unbounded client reached (1.35 GB in 30 s; every endless mode here sends more than this
// within the test's timeout).
const heapMargin = 96 << 20

// hostileCase is one kind of hostile server and what the record of its request must say.
type hostileCase struct {
	name       string
	serve      func(w http.ResponseWriter, r *http.Request, flush func())
	setup      func(e *Endpoint, p *Plan, srv *httptest.Server)
	wantStatus bench.RequestStatus
	wantClass  bench.ErrorClass
	check      func(t *testing.T, row map[string]any, other *otherOrigin)
}

// otherOrigin is the host a redirect points to: it records what reached it.
type otherOrigin struct {
	mu      sync.Mutex
	apiKeys []string
}

func (o *otherOrigin) handler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.apiKeys = append(o.apiKeys, r.Header.Get("X-Api-Key")+"|"+r.Header.Get("Authorization"))
		o.mu.Unlock()
		okStream(w, 3, nil)
	}
}

func (o *otherOrigin) seen() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.apiKeys...)
}

// okStream writes a valid stream of n tokens with the given usage (nil = a correct one).
func okStream(w http.ResponseWriter, n int, usage any) {
	w.Header().Set("Content-Type", "text/event-stream")
	for i := range n {
		finish := "null"
		if i == n-1 {
			finish = `"stop"`
		}
		fmt.Fprintf(w, "data: {\"choices\":[{\"delta\":{\"content\":\" w%d\"},\"finish_reason\":%s}]}\n\n", i, finish)
	}
	if usage == nil {
		usage = map[string]any{"prompt_tokens": 5, "completion_tokens": n}
	}
	b, _ := json.Marshal(map[string]any{"choices": []any{}, "usage": usage})
	fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", b)
}

// endless writes piece until the client goes away.
func endless(w http.ResponseWriter, r *http.Request, piece []byte, flush func()) {
	for r.Context().Err() == nil {
		if _, err := w.Write(piece); err != nil {
			return
		}
		flush()
	}
}

func hostileCases() []hostileCase {
	return append(append(endlessCases(), secretAndProtocolCases()...), textCases()...)
}

// textCases are servers whose text must be kept intact where it is cut.
func textCases() []hostileCase {
	return []hostileCase{
		{name: "long multi-byte error body", wantStatus: bench.StatusError, wantClass: "http_500",
			serve: func(w http.ResponseWriter, r *http.Request, flush func()) {
				w.WriteHeader(500)
				fmt.Fprintf(w, `{"error":{"message":"x%s"}}`, strings.Repeat("é", 400)) // byte 500 is mid-rune
			},
			check: func(t *testing.T, row map[string]any, _ *otherOrigin) {
				if m := row["error_message"].(string); !utf8.ValidString(m) || !strings.HasSuffix(m, "é…") {
					t.Errorf("error_message %q: want valid UTF-8 cut on a rune boundary", m)
				}
			}},
	}
}

// endlessCases are the hostile servers that send without end.
func endlessCases() []hostileCase {
	bigChunk := []byte(`data: {"choices":[{"delta":{"content":"` + strings.Repeat("ab ", 2730) + `"}}]}` + "\n\n")
	return []hostileCase{
		{name: "endless chunks", wantStatus: bench.StatusError, wantClass: ClassOverrun,
			setup: func(e *Endpoint, p *Plan, _ *httptest.Server) { p.Request.MaxTokens = 8192 },
			serve: func(w http.ResponseWriter, r *http.Request, flush func()) {
				w.Header().Set("Content-Type", "text/event-stream")
				endless(w, r, bigChunk, flush)
			},
			check: func(t *testing.T, row map[string]any, _ *otherOrigin) {
				if n := len(row["response_text"].(string)); n != maxStoredText {
					t.Errorf("stored %d bytes of text, want the %d-byte prefix", n, maxStoredText)
				}
				var sj struct{ Tracker map[string]any }
				json.Unmarshal([]byte(row["server_json"].(string)), &sj)
				if fl(sj.Tracker["response_bytes"]) <= maxStoredText || sj.Tracker["output_tokens_of_prefix"] != true {
					t.Errorf("server_json %v: want the full response_bytes", row["server_json"])
				}
			}},
		{name: "endless line", wantStatus: bench.StatusError, wantClass: ClassLineTooLong,
			serve: func(w http.ResponseWriter, r *http.Request, flush func()) {
				w.Header().Set("Content-Type", "text/event-stream")
				fmt.Fprint(w, `data: {"choices":[{"delta":{"content":"`)
				endless(w, r, bytes.Repeat([]byte("a"), 64<<10), flush)
			}},
		{name: "endless error body", wantStatus: bench.StatusError, wantClass: "http_500",
			serve: func(w http.ResponseWriter, r *http.Request, flush func()) {
				w.WriteHeader(500)
				endless(w, r, bytes.Repeat([]byte("x"), 64<<10), flush)
			},
			check: func(t *testing.T, row map[string]any, _ *otherOrigin) {
				if m := row["error_message"].(string); len(m) > 600 || !strings.HasPrefix(m, "xxx") {
					t.Errorf("error_message of %d bytes %.40q: want a short prefix of the body", len(m), m)
				}
			}},
		{name: "endless headers", wantStatus: bench.StatusError, wantClass: ClassProtocol,
			serve: func(w http.ResponseWriter, r *http.Request, flush func()) {
				for i := range 64 {
					w.Header().Set(fmt.Sprintf("X-Junk-%d", i), strings.Repeat("j", 16<<10))
				}
				okStream(w, 2, nil)
			},
			check: func(t *testing.T, row map[string]any, _ *otherOrigin) {
				if !strings.Contains(row["error_message"].(string), "headers exceeded") {
					t.Errorf("error_message %q", row["error_message"])
				}
			}},
	}
}

// secretAndProtocolCases are the hostile servers that echo secrets, redirect, lie in their
// usage or are not event streams.
func secretAndProtocolCases() []hostileCase {
	return []hostileCase{
		{name: "key echoed in a 401", wantStatus: bench.StatusError, wantClass: "http_401",
			serve: func(w http.ResponseWriter, r *http.Request, flush func()) {
				w.WriteHeader(401)
				fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s (header %s)"}}`,
					strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), r.Header.Get("X-Api-Key"))
			},
			check: wantRedacted},
		{name: "key echoed in-band", wantStatus: bench.StatusError, wantClass: ClassInBand,
			serve: func(w http.ResponseWriter, r *http.Request, flush func()) {
				w.Header().Set("Content-Type", "text/event-stream")
				fmt.Fprintf(w, "data: {\"object\":\"error\",\"message\":\"bad token %s\",\"code\":400}\n\ndata: [DONE]\n\n",
					r.Header.Get("Authorization"))
			},
			check: wantRedacted},
		{name: "cross-origin redirect", wantStatus: bench.StatusError, wantClass: ClassCrossOriginRedirect,
			setup: func(e *Endpoint, p *Plan, srv *httptest.Server) { e.BaseURL = srv.URL + "/redirect/v1" },
			check: func(t *testing.T, row map[string]any, other *otherOrigin) {
				if s := other.seen(); len(s) > 0 {
					t.Errorf("the other origin received %q", s)
				}
				if !strings.Contains(row["error_message"].(string), "follow_redirects") {
					t.Errorf("error_message %q does not say how to allow it", row["error_message"])
				}
			}},
		{name: "cross-origin redirect allowed", wantStatus: bench.StatusOK,
			setup: func(e *Endpoint, p *Plan, srv *httptest.Server) {
				e.BaseURL, e.FollowRedirects = srv.URL+"/redirect/v1", RedirectCrossOrigin
			},
			check: func(t *testing.T, row map[string]any, other *otherOrigin) {
				if s := other.seen(); len(s) != 1 || s[0] != hostileHeader+"|Bearer "+hostileKey {
					t.Errorf("the opted-in origin received %q, want the header and the key", s)
				}
			}},
		{name: "negative usage", wantStatus: bench.StatusOK,
			serve: func(w http.ResponseWriter, r *http.Request, flush func()) {
				okStream(w, 4, map[string]any{"prompt_tokens": -5, "completion_tokens": int64(1<<63 - 1)})
			},
			check: wantTokenizerCounts},
		{name: "overflowing usage", wantStatus: bench.StatusOK,
			serve: func(w http.ResponseWriter, r *http.Request, flush func()) {
				okStream(w, 4, map[string]any{"prompt_tokens": 1e20, "completion_tokens": 1e20,
					"total_latency": 1e305, "completion_tokens_after_first_per_sec": -3e21})
			},
			check: func(t *testing.T, row map[string]any, o *otherOrigin) {
				wantTokenizerCounts(t, row, o)
				if row["server_e2e_ms"] != nil || strings.Contains(row["server_json"].(string), "-3e") {
					t.Errorf("server_e2e_ms %v, server_json %v: want impossible timings left out", row["server_e2e_ms"], row["server_json"])
				}
			}},
		{name: "keep-alive comments", wantStatus: bench.StatusOK,
			serve: func(w http.ResponseWriter, r *http.Request, flush func()) {
				w.Header().Set("Content-Type", "text/event-stream")
				fmt.Fprint(w, strings.Repeat(": keepalive\n\n", 1000))
				for range 3 {
					fmt.Fprintf(w, "data: {\"choices\":[{\"delta\":{\"content\":\" w\"}}]}\n\n%s", strings.Repeat(": keepalive\n", 400))
				}
				fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
			},
			check: func(t *testing.T, row map[string]any, _ *otherOrigin) {
				if row["chunks"] != int64(3) {
					t.Errorf("chunks %v, want 3", row["chunks"])
				}
			}},
		{name: "endless keep-alive comments", wantStatus: bench.StatusTimeout, wantClass: ClassTimeout,
			// Legal: only the request timeout ends it (go-openai's reader kept every comment line
			// in memory and failed after 2^20 of them).
			setup: func(e *Endpoint, p *Plan, _ *httptest.Server) { p.Request.Timeout = 1500 * time.Millisecond },
			serve: func(w http.ResponseWriter, r *http.Request, flush func()) {
				w.Header().Set("Content-Type", "text/event-stream")
				endless(w, r, bytes.Repeat([]byte(": keepalive\n"), 4096), flush)
			}},
		{name: "HTML page", wantStatus: bench.StatusError, wantClass: ClassNotSSE,
			serve: func(w http.ResponseWriter, r *http.Request, flush func()) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprint(w, "<!DOCTYPE html>\n<html><body>Sign in</body></html>\n")
			},
			check: func(t *testing.T, row map[string]any, _ *otherOrigin) {
				if !strings.Contains(row["error_message"].(string), "not an SSE stream: got text/html") {
					t.Errorf("error_message %q", row["error_message"])
				}
			}},
		{name: "terminal escapes", wantStatus: bench.StatusError, wantClass: "http_400",
			serve: func(w http.ResponseWriter, r *http.Request, flush func()) {
				w.WriteHeader(400)
				fmt.Fprint(w, `{"error":{"message":"bad \u001b[2J\u001b]0;pwned\u0007 request\r"}}`)
			},
			check: func(t *testing.T, row map[string]any, _ *otherOrigin) {
				m := row["error_message"].(string)
				if strings.ContainsAny(m, "\x1b\x07\r") || !strings.Contains(m, `\x1b[2J`) {
					t.Errorf("error_message %q: want control characters escaped", m)
				}
			}},
	}
}

func wantRedacted(t *testing.T, row map[string]any, _ *otherOrigin) {
	if m := row["error_message"].(string); !strings.Contains(m, "[REDACTED]") {
		t.Errorf("error_message %q: want the echoed secrets redacted", m)
	}
}

func wantTokenizerCounts(t *testing.T, row map[string]any, _ *otherOrigin) {
	if row["output_tokens_source"] != string(bench.SourceTokenizer) || row["input_tokens_source"] != string(bench.SourceTokenizer) {
		t.Errorf("sources %v/%v, want tokenizer", row["input_tokens_source"], row["output_tokens_source"])
	}
	if n := fl(row["output_tokens"]); n < 1 || n > 20 {
		t.Errorf("output_tokens %v", row["output_tokens"])
	}
	if !strings.Contains(fmt.Sprint(row["server_json"]), "usage_rejected") {
		t.Errorf("server_json %v: want the rejected usage noted", row["server_json"])
	}
	if o, ok := row["tpot_ms"].(float64); ok && o < 0 {
		t.Errorf("tpot_ms %v", o)
	}
}

// A hostile server gets a record with the right status and class, the client's heap stays
// bounded, and no secret reaches the database.
func TestHostileServers(t *testing.T) {
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			other := &otherOrigin{}
			otherSrv := httptest.NewServer(other.handler())
			defer otherSrv.Close()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/redirect/") {
					http.Redirect(w, r, otherSrv.URL+strings.TrimPrefix(r.URL.Path, "/redirect"), http.StatusTemporaryRedirect)
					return
				}
				tc.serve(w, r, w.(http.Flusher).Flush)
			}))
			defer srv.Close()
			row, peak := runHostile(t, tc, srv)
			if row["status"] != string(tc.wantStatus) || row["error_class"] != string(tc.wantClass) {
				t.Errorf("status %v class %v (%.200v), want %s %s", row["status"], row["error_class"],
					row["error_message"], tc.wantStatus, tc.wantClass)
			}
			t.Logf("heap growth %.1f MiB", float64(peak)/(1<<20))
			if peak > heapMargin {
				t.Errorf("the heap grew by %d MiB during the request, want < %d MiB", peak>>20, heapMargin>>20)
			}
			if tc.check != nil {
				tc.check(t, row, other)
			}
		})
	}
}

// runHostile runs one request against srv, recorded in a fresh database file, and returns
// its row and the peak heap growth; it fails the test if a secret is in the file.
func runHostile(t *testing.T, tc hostileCase, srv *httptest.Server) (map[string]any, uint64) {
	path := filepath.Join(t.TempDir(), "h.db")
	db := storetest.OpenAt(t, path)
	r := &Runner{DB: db, Tokens: tokenstest.Counter(t), Version: "test"}
	e := ep("h", srv.URL)
	e.Headers = map[string]string{"X-Api-Key": hostileHeader}
	p := plan(1, []int{1}, e)
	p.Request.Timeout = 20 * time.Second
	if tc.setup != nil {
		tc.setup(&p.Endpoints[0], &p, srv)
	}
	p.Keys = map[string]string{"h": hostileKey}
	stop := watchHeap()
	_, err := r.Run(context.Background(), p)
	peak := stop()
	if err != nil {
		t.Fatal(err)
	}
	rows := requests(t, db, "warmup = 0")
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	db.Close()
	assertNoSecrets(t, filepath.Dir(path))
	return rows[0], peak
}

func assertNoSecrets(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, en := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, en.Name()))
		for _, s := range []string{hostileKey, hostileHeader} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains the secret %q", en.Name(), s)
			}
		}
	}
}

// watchHeap samples the heap until the returned function is called, which returns the
// largest growth over the heap in use at the start.
func watchHeap() func() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > base && m.HeapInuse-base > peak.Load() {
				peak.Store(m.HeapInuse - base)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return peak.Load()
	}
}

// Ctrl-C during an endless answer (no max_tokens, so no overrun for a long while) ends the
// run at once: only a bounded prefix of the text is kept and tokenized.
func TestCancelEndlessStreamIsQuick(t *testing.T) {
	piece := []byte(`data: {"choices":[{"delta":{"content":"` + strings.Repeat("lorem ipsum dolor ", 400) + `"}}]}` + "\n\n")
	var sent atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for r.Context().Err() == nil {
			if _, err := w.Write(piece); err != nil {
				return
			}
			sent.Add(int64(len(piece)))
		}
	}))
	defer srv.Close()
	db := storetest.Open(t)
	r := &Runner{DB: db, Tokens: tokenstest.Counter(t), Version: "test"}
	p := plan(1, []int{1}, ep("h", srv.URL))
	p.Request.MaxTokens = 0
	ctx, cancel := context.WithCancel(context.Background())
	canceled := make(chan time.Time, 1)
	go func() {
		for sent.Load() < 64<<20 { // megabytes of text have arrived (tokenizing 50 MB took 25 s)
			time.Sleep(5 * time.Millisecond)
		}
		canceled <- time.Now()
		cancel()
	}()
	out, _ := r.Run(ctx, p)
	if took := time.Since(<-canceled); took > 5*time.Second {
		t.Errorf("the run took %s to end after the interrupt", took)
	}
	rows := requests(t, db, "warmup = 0")
	if out.Status != bench.RunInterrupted || len(rows) != 1 || rows[0]["status"] != string(bench.StatusCanceled) {
		t.Fatalf("outcome %+v, %d rows", out, len(rows))
	}
	if n := len(rows[0]["response_text"].(string)); n > maxStoredText {
		t.Errorf("stored %d bytes of text", n)
	}
}

// A preflight check whose error body quotes the key prints it redacted.
func TestPreflightRedactsEchoedKey(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s"}}`, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	err := Preflight(context.Background(), []Endpoint{ep("h", srv.URL)}, map[string]string{"h": hostileKey}, PreflightOptions{})
	if err == nil || strings.Contains(err.Error(), hostileKey) || !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("err = %v, want the key redacted", err)
	}
}

// follow_redirects takes only its two values, in endpoints.yaml as in code.
func TestFollowRedirectsValues(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ value, wantErr string }{{"cross_origin", ""}, {"same_origin", ""}, {"always", "follow_redirects \"always\""}} {
		path := filepath.Join(dir, c.value+".yaml")
		yaml := "endpoints:\n  - name: a\n    base_url: http://127.0.0.1:1/v1\n    model: m\n    follow_redirects: " + c.value + "\n"
		os.WriteFile(path, []byte(yaml), 0o600)
		cfg, err := LoadConfig(path)
		switch {
		case c.wantErr == "" && (err != nil || string(cfg.Endpoints[0].FollowRedirects) != c.value):
			t.Errorf("%s: %v", c.value, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: err = %v, want %q", c.value, err, c.wantErr)
		}
	}
	for _, v := range []RedirectPolicy{"", RedirectSameOrigin, RedirectCrossOrigin} {
		if err := validRedirectPolicy(v); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
	if err := validRedirectPolicy("always"); err == nil || !strings.Contains(err.Error(), "cross_origin") {
		t.Errorf("always: %v, want an error naming the values", err)
	}
}

// A non-streamed answer without end is stopped as an overrun with bounded memory.
func TestNonStreamEndlessAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"choices":[{"message":{"content":"`)
		endless(w, r, bytes.Repeat([]byte("a"), 64<<10), w.(http.Flusher).Flush)
	}))
	defer srv.Close()
	c := NewClient(ep("h", srv.URL), "", &doer{hc: newHTTPClient(1)}, tokenstest.Counter(t))
	stop := watchHeap()
	rec := c.Do(context.Background(), fuzzPrompt, RequestOptions{MaxTokens: 16, NoStream: true, Timeout: 20 * time.Second})
	peak := stop()
	if rec.Status != bench.StatusError || rec.ErrorClass != ClassOverrun {
		t.Errorf("status %s class %s (%s), want error overrun", rec.Status, rec.ErrorClass, rec.ErrorMessage)
	}
	if peak > heapMargin {
		t.Errorf("the heap grew by %d MiB", peak>>20)
	}
}
