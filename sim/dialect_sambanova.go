package sim

import (
	"math"
	"time"
)

// sambanova is SambaCloud's wire (and SambaStack's, which ALCF Metis passes through).
type sambanova struct{}

type snDelta struct {
	Role      string  `json:"role,omitempty"`
	Content   *string `json:"content,omitempty"`
	Reasoning *string `json:"reasoning,omitempty"`
	Channel   string  `json:"channel,omitempty"`
}

type snChoice struct {
	Index        int     `json:"index"`
	Delta        snDelta `json:"delta"`
	Logprobs     any     `json:"logprobs"`
	FinishReason *string `json:"finish_reason"`
}

type snChunk struct {
	ID                string     `json:"id"`
	Object            string     `json:"object"`
	Created           float64    `json:"created"` // a float, as SambaNova sends it
	Model             string     `json:"model"`
	SystemFingerprint string     `json:"system_fingerprint"`
	Choices           []snChoice `json:"choices"`
	Usage             any        `json:"usage,omitempty"`
}

// floatCreated is the call's creation time as a float with a fractional part.
func floatCreated(c *call) float64 {
	t := c.arrived
	if t.IsZero() {
		t = time.Unix(c.created, 0)
	}
	f := math.Round(float64(t.UnixMilli())/100) / 10
	if f == math.Trunc(f) {
		f += 0.1
	}
	return f
}

func (sambanova) chunk(c *call, ev event) []byte {
	if !c.chat {
		return vllm{}.chunk(c, ev)
	}
	out := snChunk{ID: c.id, Object: "chat.completion.chunk", Created: floatCreated(c), Model: c.model,
		SystemFingerprint: "fastcoe", Choices: []snChoice{}}
	switch ev.kind {
	case evRole:
		// A first chunk with no choices at all: "choices may be missing or empty".
	case evReasoning:
		out.Choices = append(out.Choices, snChoice{Delta: snDelta{Reasoning: strp(ev.text), Channel: "analysis"}, FinishReason: finishPtr(ev.finish)})
	default:
		out.Choices = append(out.Choices, snChoice{Delta: snDelta{Content: strp(ev.text)}, FinishReason: finishPtr(ev.finish)})
	}
	return mustJSON(out)
}

// snUsage is SambaNova's usage: the counts and the server's own timings (seconds).
func snUsage(c *call, u usage) map[string]any {
	ttft, total, start, end := c.timings(time.Now())
	m := map[string]any{
		"is_last_response": true, "prompt_tokens": u.PromptTokens, "completion_tokens": u.CompletionTokens,
		"total_tokens": u.TotalTokens, "prompt_tokens_details": map[string]any{"cached_tokens": 0},
		"time_to_first_token": ttft, "total_latency": total, "start_time": start, "end_time": end,
		"stop_reason": "stop", "acceptance_rate": 1,
	}
	if c.reasoningTokens > 0 {
		m["completion_tokens_details"] = map[string]any{"reasoning_tokens": c.reasoningTokens}
	}
	if total > 0 {
		m["completion_tokens_per_sec"] = float64(u.CompletionTokens) / total
		m["total_tokens_per_sec"] = float64(u.TotalTokens) / total
	}
	if after := total - ttft; after > 0 && u.CompletionTokens > 1 {
		m["completion_tokens_after_first_per_sec"] = float64(u.CompletionTokens-1) / after
		m["completion_tokens_after_first_per_sec_first_ten"] = float64(u.CompletionTokens-1) / after
	}
	return m
}

func (sambanova) usageChunk(c *call, u usage) []byte {
	if !c.chat {
		return vllm{}.usageChunk(c, u)
	}
	return mustJSON(snChunk{ID: c.id, Object: "chat.completion.chunk", Created: floatCreated(c), Model: c.model,
		SystemFingerprint: "fastcoe", Choices: []snChoice{}, Usage: snUsage(c, u)})
}

func (sambanova) done() []byte { return []byte("[DONE]") }

func (sambanova) response(c *call, content, reasoning, finish string, u *usage) []byte {
	if !c.chat {
		return vllm{}.response(c, content, reasoning, finish, u)
	}
	msg := assistantMessage(content, "reasoning", reasoning)
	b := map[string]any{"id": c.id, "object": "chat.completion", "created": floatCreated(c), "model": c.model,
		"system_fingerprint": "fastcoe",
		"choices":            []any{map[string]any{"index": 0, "message": msg, "logprobs": nil, "finish_reason": finish}}}
	if u != nil {
		b["usage"] = snUsage(c, *u)
	}
	return mustJSON(b)
}

func (sambanova) errorBody(status int, typ, msg string) []byte {
	if status == 503 && typ == "ServiceUnavailableError" {
		msg = "The service is under maintenance (simulated)."
	}
	return mustJSON(map[string]any{
		"error":      map[string]any{"message": msg, "type": typ, "code": status},
		"request_id": "req-simulated",
	})
}
