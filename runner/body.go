package runner

import (
	"encoding/json"
	"fmt"

	"github.com/trackerbench/tracker/dataset"
)

// streamBody is a streaming chat request's JSON, encoded in one pass. Its fields are in the
// alphabetical order of their names, with go-openai's omissions, so the bytes are those the
// earlier two-pass encoding sent (go-openai's ChatCompletionRequest, then decoded into a map
// to add the fields go-openai cannot send, and encoded again with sorted keys):
// TestStreamBodyBytesUnchanged holds the two equal. That round trip was about 10 % of a
// request's CPU against a zero-delay server (BenchmarkStreamBody).
type streamBody struct {
	CachePrompt   any                 `json:"cache_prompt,omitempty"` // llama.cpp; nil = not sent
	IgnoreEOS     bool                `json:"ignore_eos,omitempty"`
	MaxTokens     int                 `json:"max_tokens,omitempty"` // not max_completion_tokens: every OpenAI-compatible server reads it
	Messages      []streamBodyMessage `json:"messages"`
	Model         string              `json:"model"`
	Stream        bool                `json:"stream"`
	StreamOptions streamBodyOptions   `json:"stream_options"`
	Temperature   float64             `json:"temperature"` // sent even when 0 (go-openai would omit it)
}

type streamBodyMessage struct {
	Role    string `json:"role"`
	Content string `json:"content,omitempty"` // go-openai omits an empty content
}

type streamBodyOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// encodeStreamBody is the body of one streaming request: the prompt's messages, the
// endpoint's model, max_tokens when positive, and generation's fields (temperature always,
// ignore_eos when the prompt or the run asks for it, cache_prompt when set).
func encodeStreamBody(model string, p dataset.Prompt, o RequestOptions, maxTokens int) ([]byte, error) {
	msgs := make([]streamBodyMessage, len(p.Messages))
	for i, m := range p.Messages {
		msgs[i] = streamBodyMessage(m)
	}
	b, err := json.Marshal(streamBody{
		CachePrompt:   o.cachePrompt,
		IgnoreEOS:     p.MaxTokens > 0 || o.IgnoreEOS,
		MaxTokens:     maxTokens,
		Messages:      msgs,
		Model:         model,
		Stream:        true,
		StreamOptions: streamBodyOptions{IncludeUsage: true},
		Temperature:   o.Temperature,
	})
	if err != nil {
		return nil, fmt.Errorf("encoding the request: %w", err)
	}
	return b, nil
}
