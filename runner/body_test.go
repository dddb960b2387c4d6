package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/trackerbench/tracker/dataset"
)

// legacyStreamBody is the body as streamOnce built it before body.go: go-openai's request
// encoded, then decoded into a map, generation's fields added, and encoded again by patchBody.
func legacyStreamBody(t testing.TB, model string, p dataset.Prompt, o RequestOptions) []byte {
	t.Helper()
	extra, maxTokens := generation(p, o)
	req := openai.ChatCompletionRequest{Model: model, Messages: toOpenAI(p.Messages), Stream: true,
		StreamOptions: &openai.StreamOptions{IncludeUsage: true}}
	if maxTokens > 0 {
		req.MaxTokens = maxTokens //lint:ignore SA1019 the field streamOnce sent
	}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	hreq, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://x/", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := patchBody(hreq, extra); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(hreq.Body)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStreamBodyBytesUnchanged: the one-pass body is byte for byte the two-pass one, for
// every field generation sets and messages a hostile dataset may hold.
func TestStreamBodyBytesUnchanged(t *testing.T) {
	msgs := func(m ...dataset.Message) dataset.Prompt { return dataset.Prompt{Messages: m} }
	user := func(s string) dataset.Message { return dataset.Message{Role: "user", Content: s} }
	tests := []struct {
		name  string
		model string
		p     dataset.Prompt
		o     RequestOptions
	}{
		{"plain", "m", msgs(user("hello there")), RequestOptions{MaxTokens: 4}},
		{"temperature", "m", msgs(user("hi")), RequestOptions{MaxTokens: 4, Temperature: 0.7}},
		{"no max_tokens", "m", msgs(user("hi")), RequestOptions{}},
		{"ignore_eos by the run", "m", msgs(user("hi")), RequestOptions{MaxTokens: 8, IgnoreEOS: true}},
		{"ignore_eos by the prompt", "m", dataset.Prompt{Messages: []dataset.Message{user("hi")}, MaxTokens: 16}, RequestOptions{MaxTokens: 8}},
		{"cache_prompt false", "m", msgs(user("hi")), RequestOptions{MaxTokens: 4, cachePrompt: false}},
		{"cache_prompt true", "m", msgs(user("hi")), RequestOptions{MaxTokens: 4, cachePrompt: true}},
		{"several messages", "org/model-7b", msgs(dataset.Message{Role: "system", Content: "be brief"}, user("q"), dataset.Message{Role: "assistant", Content: "a"}), RequestOptions{MaxTokens: 4}},
		{"hostile text", "m<&>\"", msgs(user("<script>&amp;\u2028\u2029 \"quoted\" \\ \x00\x1f\t\n é 日本 \U0001F600 \xff")), RequestOptions{MaxTokens: 4}},
		{"empty content", "m", msgs(user("")), RequestOptions{MaxTokens: 4}},
		{"no messages", "", dataset.Prompt{}, RequestOptions{}},
		{"large temperature", "m", msgs(user("x")), RequestOptions{Temperature: 1e-7, MaxTokens: 1 << 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, maxTokens := generation(tt.p, tt.o)
			got, err := encodeStreamBody(tt.model, tt.p, tt.o, maxTokens)
			if err != nil {
				t.Fatal(err)
			}
			if want := legacyStreamBody(t, tt.model, tt.p, tt.o); !bytes.Equal(got, want) {
				t.Errorf("body changed:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// BenchmarkStreamBody is the encoding of one streaming request's body (a 32-token prompt):
// one pass (encodeStreamBody) against the earlier two passes (go-openai, then patchBody).
func BenchmarkStreamBody(b *testing.B) {
	p := dataset.Prompt{Messages: []dataset.Message{{Role: "user", Content: "the quick brown fox jumps over the lazy dog and then some more words to make thirty two tokens of prompt text"}}}
	o := RequestOptions{MaxTokens: 4, cachePrompt: true}
	b.Run("one-pass", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeStreamBody("m", p, o, 4); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("two-pass", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			legacyStreamBody(b, "m", p, o)
		}
	})
}

// patchBody is how the body got the fields go-openai cannot send before body.go: decoded
// into a map, the fields added, encoded again (sorted keys).
func patchBody(req *http.Request, extra map[string]any) error {
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return fmt.Errorf("reading request body: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("patching request body: %w", err)
	}
	for k, v := range extra {
		raw, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("patching request body field %s: %w", k, err)
		}
		m[k] = raw
	}
	b, err = json.Marshal(m)
	if err != nil {
		return fmt.Errorf("patching request body: %w", err)
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.ContentLength = int64(len(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return nil
}
