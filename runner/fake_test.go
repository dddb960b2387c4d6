package runner

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer is an OpenAI-compatible streaming server whose timing is known: it waits
// ttft before the first token and gap between tokens, and records what it did.
type fakeServer struct {
	ttft, gap   time.Duration
	tokens      []string // content deltas
	reasoning   []string // reasoning deltas sent before the content
	reasonField string   // "reasoning" (default) or "reasoning_content"
	noUsage     bool
	noRoleChunk bool
	status      int // non-200 answers with this status and an OpenAI error body
	retryAfter  string
	usage       map[string]any // extra usage fields
	hang        time.Duration  // wait this long (or until the client leaves) before answering
	custom      func(w http.ResponseWriter, flush func())
	// holdFor > 0: a request that has sent its tokens stays in the handler until holdFor
	// requests have been inside it at once (or holdMax passes), so peakInFlight shows whether
	// the client sent them all together whatever the machine's speed, without touching TTFT.
	holdFor  int
	holdMax  time.Duration
	gathered chan struct{} // closed when peak reaches holdFor

	mu       sync.Mutex
	bodies   []map[string]any
	served   []served
	auth     []string
	inFlight int // requests inside the handler now
	peak     int // the most inside the handler at once
}

type served struct {
	firstToken time.Duration // after the handler started
	lastToken  time.Duration
}

func (f *fakeServer) start(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(f.handle))
	t.Cleanup(srv.Close)
	return srv
}

func (f *fakeServer) handle(w http.ResponseWriter, r *http.Request) {
	begin := time.Now()
	if r.URL.Path == "/v1/models" {
		fmt.Fprint(w, `{"object":"list","data":[]}`)
		return
	}
	var body map[string]any
	b, _ := io.ReadAll(r.Body)
	json.Unmarshal(b, &body)
	f.mu.Lock()
	f.bodies = append(f.bodies, body)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.inFlight++
	f.peak = max(f.peak, f.inFlight)
	gathered := f.gatheredLocked()
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	if f.hang > 0 {
		select {
		case <-time.After(f.hang):
		case <-r.Context().Done():
			return
		}
	}
	if f.status != 0 {
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		w.WriteHeader(f.status)
		fmt.Fprintf(w, `{"error":{"message":"fake failure %d","type":"server_error","code":%d}}`, f.status, f.status)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	send := func(v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
		fl.Flush()
	}
	if f.custom != nil {
		f.custom(w, fl.Flush)
		return
	}
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1764022113.9,
			"model": "m", "choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
	}
	if !f.noRoleChunk {
		send(chunk(map[string]any{"role": "assistant", "content": ""}, nil))
	}
	var s served
	wait := f.ttft
	field := f.reasonField
	if field == "" {
		field = "reasoning"
	}
	all := append(append([]string{}, f.reasoning...), f.tokens...)
	for i, tok := range all {
		select {
		case <-time.After(wait):
		case <-r.Context().Done():
			return
		}
		wait = f.gap
		d := map[string]any{"content": tok}
		if i < len(f.reasoning) {
			d = map[string]any{field: tok}
		}
		var finish any
		if i == len(all)-1 {
			finish = "stop"
		}
		// Stamped before the write: the client cannot see the token earlier than this.
		if i == 0 {
			s.firstToken = time.Since(begin)
		}
		s.lastToken = time.Since(begin)
		send(chunk(d, finish))
	}
	f.mu.Lock()
	f.served = append(f.served, s) // before the end of the stream: the client may look at once
	f.mu.Unlock()
	if !f.hold(r, gathered) {
		return
	}
	if !f.noUsage {
		u := map[string]any{"prompt_tokens": 42, "completion_tokens": len(all), "total_tokens": 42 + len(all)}
		for k, v := range f.usage {
			u[k] = v
		}
		send(map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
			"choices": []any{}, "usage": u})
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	fl.Flush()
}

// hold keeps a request in the handler until gathered is closed or holdMax passes (at once
// when gathered is nil); false if the client left first.
func (f *fakeServer) hold(r *http.Request, gathered chan struct{}) bool {
	if gathered == nil {
		return true
	}
	select {
	case <-gathered:
	case <-time.After(f.holdMax):
	case <-r.Context().Done():
		return false
	}
	return true
}

// gatheredLocked is the channel closed once holdFor requests were in the handler at once
// (closing it when that happens now), or nil without holdFor. f.mu is held.
func (f *fakeServer) gatheredLocked() chan struct{} {
	if f.holdFor <= 0 {
		return nil
	}
	if f.gathered == nil {
		f.gathered = make(chan struct{})
	}
	select {
	case <-f.gathered:
	default:
		if f.inFlight >= f.holdFor {
			close(f.gathered)
		}
	}
	return f.gathered
}

func (f *fakeServer) servedAt(i int) served {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.served[i]
}

// peakInFlight is the most requests the server held at once: a count that scheduling
// delays cannot raise.
func (f *fakeServer) peakInFlight() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.peak
}

func words(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = " w" + strings.Repeat("x", i%3)
	}
	return out
}
