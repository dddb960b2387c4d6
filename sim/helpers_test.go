package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// testProfile is a small, quick, jitter-free profile for tests.
func testProfile() Profile {
	p := Profile{
		Name: "test", Model: "sim-test",
		MaxNumSeqs: 4, KVCacheTokens: 100000,
		PrefillOverhead: 5 * time.Millisecond, DecodeBase: 3 * time.Millisecond, DecodePerSeq: time.Millisecond,
		Seed: 7,
	}
	p.setDefaults()
	return p
}

// startSim serves a profile on a loopback httptest server.
func startSim(t testing.TB, p Profile) (*Server, *httptest.Server) {
	t.Helper()
	return startSimWith(t, p, Options{})
}

// startSimWith serves a profile with opts (a wire dialect, a relay) on a loopback httptest
// server; both close when the test ends.
func startSimWith(t testing.TB, p Profile, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return s, ts
}

const squadPrompt = `Answer the question using the context below. Reply with only the answer, as a short phrase taken from the context.

Context: The Eiffel Tower is a wrought-iron lattice tower in Paris. It was designed by the engineering company of Gustave Eiffel. The tower was completed in 1889 for the World's Fair. It is 330 metres tall.

Question: When was the tower completed?
Answer:`

// sseEvent is one received SSE event with its arrival time.
type sseEvent struct {
	data string
	at   time.Time
}

// post sends a JSON body and returns the response (the caller closes it).
func post(t testing.TB, url string, body any) *http.Response {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// postAll posts body to url n times at once and reads every answer to its end.
func postAll(t testing.TB, url string, n int, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, err := http.Post(url, "application/json", bytes.NewReader(b))
			if err != nil {
				t.Error(err) // not Fatal: this is not the test's goroutine
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	wg.Wait()
}

// readSSE reads every "data:" event of a stream; lines that are not events fail the test.
func readSSE(t testing.TB, r io.Reader) ([]sseEvent, error) {
	t.Helper()
	var out []sseEvent
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("not an SSE data line: %q", line)
		}
		out = append(out, sseEvent{data: data, at: time.Now()})
	}
	return out, sc.Err()
}

type testChunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Role      *string `json:"role"`
			Content   *string `json:"content"`
			Reasoning *string `json:"reasoning"`
		} `json:"delta"`
		Text         *string `json:"text"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *usage `json:"usage"`
}

func chatBody(prompt string, extra map[string]any) map[string]any {
	b := map[string]any{"model": "sim-test", "messages": []map[string]any{{"role": "user", "content": prompt}},
		"stream": true, "stream_options": map[string]any{"include_usage": true}}
	for k, v := range extra {
		b[k] = v
	}
	return b
}
