package sim

import (
	"time"
)

// llamacpp is llama.cpp's llama-server (release b4747, captured in ../shared/wire/llamacpp/):
// no role chunk, one chunk per token, `model` echoing the request, a last chunk that carries
// finish_reason with an empty delta, usage (whether or not the client asked) and the
// server's `timings` together, then [DONE]; non-streamed answers carry `timings` at the top
// level; the connection is closed after every streamed answer although the headers promise
// keep-alive (conns.go); the prompt cache serves a repeated prompt (prompt_n 1, and in this
// build no cache_n: the cache shows as usage.prompt_tokens - timings.prompt_n).
type llamacpp struct{}

const llamaFingerprint = "b0-unknown"

type llamaDelta struct {
	Content          *string `json:"content,omitempty"`
	ReasoningContent *string `json:"reasoning_content,omitempty"`
}

type llamaChoice struct {
	FinishReason *string    `json:"finish_reason"`
	Index        int        `json:"index"`
	Delta        llamaDelta `json:"delta"`
}

// llamaChunk keeps llama-server's field order.
type llamaChunk struct {
	Choices           []llamaChoice `json:"choices"`
	Created           int64         `json:"created"`
	ID                string        `json:"id"`
	Model             string        `json:"model"`
	SystemFingerprint string        `json:"system_fingerprint"`
	Object            string        `json:"object"`
	Usage             *usage        `json:"usage,omitempty"`
	Timings           *llamaTimings `json:"timings,omitempty"`
}

type llamaTimings struct {
	PromptN             int     `json:"prompt_n"`
	PromptMS            float64 `json:"prompt_ms"`
	PromptPerTokenMS    float64 `json:"prompt_per_token_ms"`
	PromptPerSecond     float64 `json:"prompt_per_second"`
	PredictedN          int     `json:"predicted_n"`
	PredictedMS         float64 `json:"predicted_ms"`
	PredictedPerTokenMS float64 `json:"predicted_per_token_ms"`
	PredictedPerSecond  float64 `json:"predicted_per_second"`
}

func (llamacpp) newChunk(c *call, ch llamaChoice) llamaChunk {
	return llamaChunk{Choices: []llamaChoice{ch}, Created: c.created, ID: c.id, Model: c.model,
		SystemFingerprint: llamaFingerprint, Object: "chat.completion.chunk"}
}

func (l llamacpp) chunk(c *call, ev event) []byte {
	if !c.chat {
		return vllm{}.chunk(c, ev)
	}
	if ev.kind == evRole || ev.text == "" {
		return nil // no role chunk; the finish goes in the last chunk (endChunk)
	}
	var d llamaDelta
	if ev.kind == evReasoning {
		d.ReasoningContent = strp(ev.text)
	} else {
		d.Content = strp(ev.text)
	}
	return mustJSON(l.newChunk(c, llamaChoice{Delta: d}))
}

// endChunk is the last event: finish_reason, an empty delta, usage and timings.
func (l llamacpp) endChunk(c *call, finish string, u usage) []byte {
	if !c.chat {
		return nil
	}
	out := l.newChunk(c, llamaChoice{FinishReason: finishPtr(finish)})
	out.Usage, out.Timings = &u, c.llamaTimings(time.Now(), u)
	return mustJSON(out)
}

// usageChunk: llama-server's usage is in the finish chunk already.
func (llamacpp) usageChunk(c *call, u usage) []byte {
	if !c.chat {
		return vllm{}.usageChunk(c, u)
	}
	return nil
}

func (llamacpp) done() []byte { return []byte("[DONE]") }

func (llamacpp) response(c *call, content, reasoning, finish string, u *usage) []byte {
	if !c.chat {
		return vllm{}.response(c, content, reasoning, finish, u)
	}
	msg := assistantMessage(content, "reasoning_content", reasoning)
	b := map[string]any{"choices": []any{map[string]any{"finish_reason": finish, "index": 0, "message": msg}},
		"created": c.created, "model": c.model, "system_fingerprint": llamaFingerprint, "object": "chat.completion",
		"id": c.id}
	if u != nil {
		b["usage"] = u
		b["timings"] = c.llamaTimings(time.Now(), *u)
	}
	return mustJSON(b)
}

func (llamacpp) errorBody(status int, typ, msg string) []byte {
	return mustJSON(map[string]any{"error": map[string]any{"code": status, "message": msg, "type": typ}})
}

// llamaTimings are the server's own: prefill from the slot taking the prompt to the first
// token, decode from then to now; prompt_n counts only the tokens the cache lacked.
func (c *call) llamaTimings(now time.Time, u usage) *llamaTimings {
	first := c.first
	if first.IsZero() {
		first = now
	}
	start := c.prefillStart
	if start.IsZero() || start.After(first) {
		start = c.arrived
	}
	t := &llamaTimings{PromptN: max(1, u.PromptTokens-c.cachedTokens), PredictedN: u.CompletionTokens,
		PromptMS: ms(first.Sub(start)), PredictedMS: ms(now.Sub(first))}
	if t.PromptMS > 0 {
		t.PromptPerTokenMS, t.PromptPerSecond = t.PromptMS/float64(t.PromptN), 1000*float64(t.PromptN)/t.PromptMS
	}
	if t.PredictedMS > 0 && t.PredictedN > 0 {
		t.PredictedPerTokenMS, t.PredictedPerSecond = t.PredictedMS/float64(t.PredictedN), 1000*float64(t.PredictedN)/t.PredictedMS
	}
	return t
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
