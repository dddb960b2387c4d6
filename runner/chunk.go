package runner

import (
	"encoding/json"
	"fmt"
	"strings"
)

// chunk is one SSE event's JSON, read tolerantly: `created` may be a float (SambaNova) and is
// ignored; `choices` may be missing or empty; reasoning arrives as `reasoning` (vLLM >= 0.17,
// SambaNova) or `reasoning_content` (older vLLM); errors may arrive inside a 200 stream.
type chunk struct {
	ID      string          `json:"id"`
	Object  string          `json:"object"`
	Choices []chunkChoice   `json:"choices"`
	Usage   json.RawMessage `json:"usage"`
	Timings json.RawMessage `json:"timings"` // llama.cpp's own (llamacpp.go)

	// In-band error shapes: {"object":"error","message":...,"code":504} (vLLM, ALCF Sophia)
	// and {"error":{...}}.
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Code    any             `json:"code"`
	Error   json.RawMessage `json:"error"`
}

type chunkChoice struct {
	Delta struct {
		Role             string          `json:"role"`
		Content          *string         `json:"content"`
		Reasoning        *string         `json:"reasoning"`
		ReasoningContent *string         `json:"reasoning_content"`
		Channel          string          `json:"channel"` // gpt-oss harmony channel: "analysis" is reasoning
		ToolCalls        json.RawMessage `json:"tool_calls"`
	} `json:"delta"`
	Message *struct { // non-streaming responses
		Content          *string `json:"content"`
		Reasoning        *string `json:"reasoning"`
		ReasoningContent *string `json:"reasoning_content"`
	} `json:"message"`
	Text         *string `json:"text"` // /v1/completions
	FinishReason *string `json:"finish_reason"`
}

// delta is what one chunk contributed.
type delta struct {
	content   string
	reasoning string
	toolCall  bool
	finish    string
}

// tokenBearing reports whether the chunk carried a generated token: content, reasoning or
// a tool call. Role-only, empty and usage-only chunks do not.
func (d delta) tokenBearing() bool { return d.content != "" || d.reasoning != "" || d.toolCall }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (c *chunk) delta() delta {
	var d delta
	for _, ch := range c.Choices {
		content := deref(ch.Delta.Content) + deref(ch.Text)
		r := reasoningOf(ch.Delta.Reasoning, ch.Delta.ReasoningContent)
		if r == "" && ch.Delta.Channel == "analysis" {
			// A server that marks the analysis channel but sends its text as content.
			r, content = content, ""
		}
		d.content += content
		d.reasoning += r
		if len(ch.Delta.ToolCalls) > 0 && string(ch.Delta.ToolCalls) != "null" && string(ch.Delta.ToolCalls) != "[]" {
			d.toolCall = true
		}
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			d.finish = *ch.FinishReason
		}
	}
	return d
}

// inBandError returns the server's message when the chunk is an error sent inside a 200
// stream, and "" otherwise.
func (c *chunk) inBandError() string {
	if c.Object == "error" {
		return strings.TrimSpace(fmt.Sprintf("%s (type %s, code %v)", c.Message, c.Type, c.Code))
	}
	if len(c.Error) > 0 && string(c.Error) != "null" {
		var e struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(c.Error, &e) == nil && e.Message != "" {
			return e.Message
		}
		return string(c.Error)
	}
	// ALCF Metis relays SambaNova errors as content: id chatcmpl-api-error (earlier
	// chatcmpl-metis-error), content starting "\n\n[ERROR] ".
	for _, ch := range c.Choices {
		if msg := errorInContent(deref(ch.Delta.Content)); msg != "" {
			return msg
		}
	}
	if strings.HasSuffix(c.ID, "-api-error") || strings.HasSuffix(c.ID, "-metis-error") {
		return "error chunk " + c.ID
	}
	return ""
}

// reasoningOf is a delta's or message's reasoning text: `reasoning` (vLLM >= 0.17, SambaNova),
// else `reasoning_content` (older vLLM). Both the streamed and the non-streamed path use it.
func reasoningOf(reasoning, reasoningContent *string) string {
	if r := deref(reasoning); r != "" {
		return r
	}
	return deref(reasoningContent)
}

// errorInContent returns the error an answer's content carries instead of text (ALCF Metis
// relays SambaNova errors as content starting "\n\n[ERROR] "), trimmed, or "" when the content
// is an answer. Both the streamed and the non-streamed path use it.
func errorInContent(content string) string {
	if s := strings.TrimLeft(content, "\n "); strings.HasPrefix(s, "[ERROR]") {
		return strings.TrimSpace(s)
	}
	return ""
}

// usage is the part of a usage object the runner reads; the object is also stored verbatim.
type usage struct {
	PromptTokens            *float64 `json:"prompt_tokens"`
	CompletionTokens        *float64 `json:"completion_tokens"`
	CompletionTokensDetails *struct {
		ReasoningTokens *float64 `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
	PromptTokensDetails *struct {
		CachedTokens *float64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	// SambaNova's server-side timings are read by serverTimings (servertime.go).
}
