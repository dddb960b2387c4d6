package sim

import (
	"encoding/json"
	"time"
)

// metis is ALCF Metis: SambaNova's stream through the ALCF gateway.
type metis struct{ sambanova }

// inBandError is how Metis relays a SambaNova failure: a content chunk starting
// "\n\n[ERROR] " with an error id, id chatcmpl-api-error, finish_reason "stop".
func (metis) inBandError(c *call, msg string) []byte {
	content := "\n\n[ERROR] " + msg + " (error id " + c.id[len(c.id)-8:] + ")"
	return mustJSON(snChunk{ID: "chatcmpl-api-error", Object: "chat.completion.chunk", Created: floatCreated(c),
		Model: c.model, SystemFingerprint: "fastcoe",
		Choices: []snChoice{{Delta: snDelta{Role: "assistant", Content: &content}, FinishReason: strp("stop")}}})
}

// sophia is ALCF Sophia: vLLM through the ALCF gateway and its relay.
type sophia struct {
	vllm
	relay RelayOptions
}

func (s sophia) relayOptions() RelayOptions { return s.relay }

// inBandError is vLLM's error object, which the gateway relays inside the HTTP 200 stream.
func (sophia) inBandError(c *call, msg string) []byte {
	return mustJSON(map[string]any{"object": "error", "message": msg, "type": "InternalServerError", "param": nil, "code": 500})
}

// response adds the gateway's top-level fields: response_time (seconds, around the vLLM
// call) and throughput_tokens_per_second.
func (s sophia) response(c *call, content, reasoning, finish string, u *usage) []byte {
	b := s.vllm.response(c, content, reasoning, finish, u)
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil || c.arrived.IsZero() {
		return b
	}
	rt := time.Since(c.arrived).Seconds()
	m["response_time"] = mustJSON(rt)
	if u != nil && rt > 0 {
		m["throughput_tokens_per_second"] = mustJSON(float64(u.CompletionTokens) / rt)
	}
	return mustJSON(m)
}
