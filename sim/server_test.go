package sim

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestStreamWireFormat(t *testing.T) {
	p := testProfile()
	p.Output.ReasoningTokens = 5
	s, ts := startSim(t, p)
	resp := post(t, ts.URL+"/v1/chat/completions", chatBody(squadPrompt, map[string]any{"max_tokens": 64, "temperature": 0, "seed": 3}))
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	evs, err := readSSE(t, resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) < 4 || evs[len(evs)-1].data != "[DONE]" {
		t.Fatalf("want chunks ending in [DONE], got %d events, last %q", len(evs), evs[len(evs)-1].data)
	}
	var chunks []testChunk
	for _, e := range evs[:len(evs)-1] {
		var c testChunk
		if err := json.Unmarshal([]byte(e.data), &c); err != nil {
			t.Fatalf("event %q: %v", e.data, err)
		}
		chunks = append(chunks, c)
	}
	first := chunks[0]
	if !strings.HasPrefix(first.ID, "chatcmpl-") || first.Object != "chat.completion.chunk" || first.Model != "sim-test" || first.Created == 0 {
		t.Errorf("first chunk header: %+v", first)
	}
	if d := first.Choices[0].Delta; d.Role == nil || *d.Role != "assistant" || d.Content == nil || *d.Content != "" {
		t.Errorf("first chunk should be role-only with empty content: %s", evs[0].data)
	}
	last := chunks[len(chunks)-1]
	if last.Usage == nil || len(last.Choices) != 0 || !strings.Contains(evs[len(evs)-2].data, `"choices":[]`) {
		t.Fatalf("last chunk should carry usage and choices []: %s", evs[len(evs)-2].data)
	}
	var content, reasoning strings.Builder
	finish, reasonChunks, afterContent := "", 0, false
	for i, c := range chunks[1 : len(chunks)-1] {
		if c.ID != first.ID {
			t.Errorf("chunk %d id %q, want %q", i+1, c.ID, first.ID)
		}
		d := c.Choices[0].Delta
		if d.Reasoning != nil {
			if afterContent {
				t.Errorf("reasoning after content")
			}
			reasoning.WriteString(*d.Reasoning)
			reasonChunks++
		}
		if d.Content != nil {
			content.WriteString(*d.Content)
			afterContent = afterContent || *d.Content != ""
		}
		if c.Choices[0].FinishReason != nil {
			finish = *c.Choices[0].FinishReason
		}
	}
	if reasonChunks == 0 || reasonChunks > 5 {
		t.Errorf("reasoning chunks %d, want 1..5", reasonChunks)
	}
	if finish != "stop" || content.String() != "1889" {
		t.Errorf("finish %q content %q, want stop and the extractive answer 1889", finish, content.String())
	}
	u := last.Usage
	if u.PromptTokens != s.tok.Count(squadPrompt) || u.CompletionTokens != 5+s.tok.Count("1889")+1 ||
		u.TotalTokens != u.PromptTokens+u.CompletionTokens {
		t.Errorf("usage %+v (prompt counted %d)", *u, s.tok.Count(squadPrompt))
	}
	st := s.Stats()
	if st.Finished != 1 || st.Status[200] != 1 || st.CompletionTokens != int64(u.CompletionTokens) {
		t.Errorf("stats %+v", st)
	}
}

func TestNonStreamingAndOtherRoutes(t *testing.T) {
	_, ts := startSim(t, testProfile())
	resp := post(t, ts.URL+"/v1/chat/completions", map[string]any{"model": "sim-test",
		"messages": []map[string]any{{"role": "user", "content": squadPrompt}}, "max_completion_tokens": 10, "ignore_eos": true})
	var chat struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Choices []struct {
			Message      struct{ Role, Content string } `json:"message"`
			FinishReason string                         `json:"finish_reason"`
		} `json:"choices"`
		Usage *usage `json:"usage"`
	}
	json.NewDecoder(resp.Body).Decode(&chat)
	resp.Body.Close()
	if chat.Object != "chat.completion" || chat.Usage == nil || chat.Usage.CompletionTokens != 10 ||
		chat.Choices[0].FinishReason != "length" || !strings.HasPrefix(chat.Choices[0].Message.Content, "1889") {
		t.Errorf("non-streaming chat: %+v", chat)
	}

	resp = post(t, ts.URL+"/v1/completions", map[string]any{"model": "sim-test", "prompt": squadPrompt, "max_tokens": 2})
	var cmpl struct {
		ID, Object string
		Choices    []struct {
			Text         string `json:"text"`
			FinishReason string `json:"finish_reason"`
		}
	}
	json.NewDecoder(resp.Body).Decode(&cmpl)
	resp.Body.Close()
	if cmpl.Object != "text_completion" || !strings.HasPrefix(cmpl.ID, "cmpl-") || cmpl.Choices[0].FinishReason != "length" {
		t.Errorf("completions: %+v", cmpl)
	}

	resp = post(t, ts.URL+"/v1/completions", map[string]any{"model": "sim-test", "prompt": squadPrompt, "stream": true})
	evs, _ := readSSE(t, resp.Body)
	resp.Body.Close()
	if len(evs) < 2 || !strings.Contains(evs[0].data, `"object":"text_completion"`) || evs[len(evs)-1].data != "[DONE]" {
		t.Errorf("streamed completions: %v", evs)
	}

	r, err := http.Get(ts.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if !strings.Contains(string(b), `"id":"sim-test"`) || !strings.Contains(string(b), `"object":"list"`) {
		t.Errorf("models: %s", b)
	}
	r, _ = http.Get(ts.URL + "/health")
	r.Body.Close()
	if r.StatusCode != 200 {
		t.Errorf("health: %d", r.StatusCode)
	}

	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		want   string
	}{
		{"wrong model", map[string]any{"model": "other", "messages": []map[string]any{{"role": "user", "content": "hi"}}}, 404, "does not exist"},
		{"no messages", map[string]any{"model": "sim-test"}, 400, "messages"},
		{"zero max_tokens", map[string]any{"messages": []map[string]any{{"role": "user", "content": "hi"}}, "max_tokens": 0}, 400, "max_tokens"},
	} {
		resp := post(t, ts.URL+"/v1/chat/completions", tc.body)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct {
			Error struct {
				Message, Type string
				Code          int
			}
		}
		if resp.StatusCode != tc.status || json.Unmarshal(b, &e) != nil || !strings.Contains(e.Error.Message, tc.want) || e.Error.Code != tc.status {
			t.Errorf("%s: status %d body %s", tc.name, resp.StatusCode, b)
		}
	}
}

func TestContextLengthLimit(t *testing.T) {
	p := testProfile()
	p.MaxModelLen = 50
	_, ts := startSim(t, p)
	resp := post(t, ts.URL+"/v1/chat/completions", chatBody(squadPrompt, map[string]any{"max_tokens": 10}))
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "maximum context length is 50") {
		t.Errorf("status %d body %s", resp.StatusCode, b)
	}
}

// TestManyConcurrentStreams runs a thousand streams at once: the engine batches up to its
// limit, queues the rest, and every stream completes.
func TestManyConcurrentStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("1000 streams")
	}
	p := testProfile()
	p.MaxNumSeqs, p.DecodeBase, p.DecodePerSeq, p.PrefillOverhead = 256, 2*time.Millisecond, 10*time.Microsecond, time.Millisecond
	s, ts := startSim(t, p)
	tr := &http.Transport{MaxIdleConnsPerHost: 1000}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	const n = 1000
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(chatBody("Question: what is item "+string(rune('A'+i%26))+"?\nAnswer:", map[string]any{"max_tokens": 32, "ignore_eos": true}))
			resp, err := hc.Post(ts.URL+"/v1/chat/completions", "application/json", strings.NewReader(string(body)))
			if err != nil {
				errs <- err.Error()
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if !strings.HasSuffix(strings.TrimSpace(string(b)), "data: [DONE]") || !strings.Contains(string(b), `"completion_tokens":32`) {
				errs <- "incomplete stream"
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	// The batch never exceeds its limit and fills most of it; whether the very last slot fills
	// depends on how fast a thousand connections arrive on a loaded machine (255 was seen in CI:
	// the first streams finish before the last ones are admitted), so that is not asserted.
	st := s.Stats()
	if st.Finished != n || st.MaxBatch > 256 || st.MaxBatch < 192 || st.MaxQueue == 0 {
		t.Errorf("finished %d, max batch %d (want 192..256), max queue %d (want > 0)", st.Finished, st.MaxBatch, st.MaxQueue)
	}
}

// TestCanceledClientFreesSlot: a client that leaves mid-stream frees its batch slot.
func TestCanceledClientFreesSlot(t *testing.T) {
	p := testProfile()
	p.MaxNumSeqs = 1
	p.DecodeBase = 20 * time.Millisecond
	s, ts := startSim(t, p)
	resp := post(t, ts.URL+"/v1/chat/completions", chatBody(squadPrompt, map[string]any{"max_tokens": 1000, "ignore_eos": true}))
	buf := make([]byte, 512)
	resp.Body.Read(buf)
	resp.Body.Close() // leave after the first bytes
	start := time.Now()
	resp = post(t, ts.URL+"/v1/chat/completions", chatBody(squadPrompt, map[string]any{"max_tokens": 3, "ignore_eos": true}))
	io.ReadAll(resp.Body)
	resp.Body.Close()
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("second request waited %s: the first's slot was not freed", el)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Canceled != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := s.Stats(); st.Canceled != 1 || st.Finished != 1 {
		t.Errorf("canceled %d finished %d, want 1 and 1", st.Canceled, st.Finished)
	}
}

// TestKVBudgetLimitsBatch: the KV budget, not max_num_seqs, caps the batch when prompts
// are long, and a request that can never fit is refused.
func TestKVBudgetLimitsBatch(t *testing.T) {
	p := testProfile()
	p.MaxNumSeqs = 8
	tok := func() int {
		s, _ := New(p, Options{})
		defer s.Close()
		return s.tok.Count(squadPrompt)
	}()
	p.KVCacheTokens = 2*(tok+10) + 5 // room for two sequences of this prompt + 10 tokens
	s, ts := startSim(t, p)
	postAll(t, ts.URL+"/v1/chat/completions", 6, chatBody(squadPrompt, map[string]any{"max_tokens": 10, "ignore_eos": true}))
	if st := s.Stats(); st.Finished != 6 || st.MaxBatch != 2 {
		t.Errorf("finished %d, max batch %d: want 6 and 2 (the KV budget's limit)", st.Finished, st.MaxBatch)
	}
	resp := post(t, ts.URL+"/v1/chat/completions", chatBody(squadPrompt, map[string]any{"max_tokens": 1000, "ignore_eos": true}))
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "KV-cache") {
		t.Errorf("oversized request: %d %s", resp.StatusCode, b)
	}
}

// TestServeDrains: when Serve's context ends, a stream in flight still finishes, new
// connections are refused, and Serve returns.
func TestServeDrains(t *testing.T) {
	p := testProfile()
	p.DecodeBase = 10 * time.Millisecond
	s, err := New(p, Options{DrainTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	url := "http://" + ln.Addr().String()
	resp := post(t, url+"/v1/chat/completions", chatBody(squadPrompt, map[string]any{"max_tokens": 30, "ignore_eos": true}))
	cancel() // SIGINT while the stream runs: ~300 ms of tokens still to come
	evs, err := readSSE(t, resp.Body)
	resp.Body.Close()
	if err != nil || len(evs) == 0 || evs[len(evs)-1].data != "[DONE]" {
		t.Fatalf("the stream in flight did not finish: %d events, %v", len(evs), err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after draining")
	}
	if _, err := http.Get(url + "/health"); err == nil {
		t.Error("a new request was served after shutdown")
	}
	if st := s.Stats(); st.Finished != 1 {
		t.Errorf("finished %d, want 1", st.Finished)
	}
}
