package runner

import (
	"encoding/json"
	"math"

	"github.com/trackerbench/tracker/bench"
)

// llama.cpp's llama-server sends its own timings in a `timings` object: in the last chunk
// of a stream (beside usage and finish_reason) and at the top level of a non-streamed
// answer. Captured from a real server in ../shared/wire/llamacpp/:
//
//	"timings":{"prompt_n":38,"prompt_ms":27.618,"prompt_per_token_ms":0.72,"prompt_per_second":1375.9,
//	           "predicted_n":200,"predicted_ms":936.035,"predicted_per_token_ms":4.68,"predicted_per_second":213.7}
//
// Newer builds add cache_n (prompt tokens served from the prompt cache).
type llamaTimings struct {
	PromptN     *float64 `json:"prompt_n"`
	PromptMS    *float64 `json:"prompt_ms"`
	PredictedN  *float64 `json:"predicted_n"`
	PredictedMS *float64 `json:"predicted_ms"`
	CacheN      *float64 `json:"cache_n"`
}

// maxTimingsBytes bounds a timings object kept in server_json.
const maxTimingsBytes = 4096

func parseLlamaTimings(raw json.RawMessage) (llamaTimings, map[string]json.RawMessage, bool) {
	if len(raw) == 0 || len(raw) > maxTimingsBytes || string(raw) == "null" {
		return llamaTimings{}, nil, false // before t and all are made: most servers send no timings
	}
	var t llamaTimings
	var all map[string]json.RawMessage
	if json.Unmarshal(raw, &t) != nil || json.Unmarshal(raw, &all) != nil {
		return t, nil, false
	}
	return t, all, true
}

// applyLlamaTimings stores llama.cpp's timings: server_ttft_ms = prompt_ms (prefill, from
// the slot starting the prompt: queueing before a free slot is not in it), server_e2e_ms =
// prompt_ms + predicted_ms; every field of the object goes to server_json.
func applyLlamaTimings(rec *bench.Measurement, raw json.RawMessage) {
	t, fields, ok := parseLlamaTimings(raw)
	if !ok {
		return
	}
	merged := map[string]json.RawMessage{}
	if rec.ServerJSON != "" {
		json.Unmarshal([]byte(rec.ServerJSON), &merged)
	}
	delete(merged, "timings") // a non-streamed answer's top-level field, kept whole by serverTimings
	for k, v := range fields {
		if plausibleNumber(v) { // an impossible timing stays out (usagecheck.go)
			merged[k] = v
		}
	}
	if b, err := json.Marshal(merged); err == nil {
		rec.ServerJSON = string(b)
	}
	if t.PromptMS != nil && plausibleNumber(fields["prompt_ms"]) {
		rec.ServerTTFTMS = ptr(*t.PromptMS)
		if t.PredictedMS != nil && plausibleNumber(fields["predicted_ms"]) {
			rec.ServerE2EMS = ptr(*t.PromptMS + *t.PredictedMS)
		}
	}
}

// cachedTokens is how many prompt tokens the server's prompt cache served, from what the
// server sent, first found of: usage.prompt_tokens_details.cached_tokens (OpenAI, vLLM,
// SGLang, SambaNova), timings.cache_n (llama.cpp), usage.prompt_tokens - timings.prompt_n
// (older llama.cpp, which evaluates only the prompt tokens its cache lacks). nil = not
// reported.
func cachedTokens(u *usage, timingsRaw json.RawMessage) *int {
	if u != nil && u.PromptTokensDetails != nil && u.PromptTokensDetails.CachedTokens != nil {
		return tokenCount(*u.PromptTokensDetails.CachedTokens)
	}
	t, _, ok := parseLlamaTimings(timingsRaw)
	if !ok {
		return nil
	}
	if t.CacheN != nil {
		return tokenCount(*t.CacheN)
	}
	if u != nil && u.PromptTokens != nil && t.PromptN != nil {
		return tokenCount(*u.PromptTokens - *t.PromptN)
	}
	return nil
}

// maxTokenCount bounds a token count taken from a server: more is not a count.
const maxTokenCount = 1e9

// tokenCount is f as a count of tokens, or nil when it cannot be one (negative, fractional,
// huge, NaN).
func tokenCount(f float64) *int {
	if !(f >= 0 && f <= maxTokenCount) || f != math.Trunc(f) {
		return nil
	}
	return ptr(int(f))
}
