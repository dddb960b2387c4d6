package runner

import (
	"bytes"
	"encoding/json"
	"strings"
	"unsafe"

	"github.com/trackerbench/tracker/bench"
)

// usageTimingKeys are the server-side timings SambaNova (SambaCloud, and SambaStack behind
// ALCF Metis) puts in its usage object; durations are seconds, start/end Unix seconds.
var usageTimingKeys = []string{
	"time_to_first_token", "total_latency", "start_time", "end_time",
	"completion_tokens_per_sec", "completion_tokens_after_first_per_sec",
	"completion_tokens_after_first_per_sec_first_ten", "total_tokens_per_sec", "acceptance_rate",
}

// standardTopLevel are the top-level fields of an OpenAI chat completion. Any other
// top-level field of a non-streamed answer (the ALCF gateway's response_time and
// throughput_tokens_per_second) is the server's own and is kept in server_json.
var standardTopLevel = map[string]bool{
	"id": true, "object": true, "created": true, "model": true, "choices": true, "usage": true,
	"system_fingerprint": true, "service_tier": true, "prompt_logprobs": true,
	"prompt_token_ids": true, "kv_transfer_params": true,
}

// serverTimings gathers the server's own timing fields from a usage object and from the
// top level of a non-streamed answer (nil when streaming).
//
// It is nil when there are none (most servers: nothing is allocated for them).
func serverTimings(usageRaw json.RawMessage, top map[string]json.RawMessage) map[string]json.RawMessage {
	var out map[string]json.RawMessage
	add := func(k string, v json.RawMessage) {
		if out == nil {
			out = map[string]json.RawMessage{}
		}
		out[k] = v
	}
	if mayHoldTimings(usageRaw) {
		var u map[string]json.RawMessage
		if json.Unmarshal(usageRaw, &u) == nil {
			for _, k := range usageTimingKeys {
				if v, ok := u[k]; ok && plausibleNumber(v) {
					add(k, v)
				}
			}
		}
	}
	for k, v := range top {
		if !standardTopLevel[k] && string(v) != "null" && len(v) <= 4096 {
			add(k, v)
		}
	}
	return out
}

// mayHoldTimings reports whether decoding a usage object can find one of usageTimingKeys:
// one is in its bytes, or a backslash is (a key may be escaped: "time\u005fto_first_token").
// Most servers send none (OpenAI, vLLM): their usage is then not decoded a second time.
func mayHoldTimings(usageRaw []byte) bool {
	if bytes.IndexByte(usageRaw, '\\') >= 0 {
		return true
	}
	for _, k := range usageTimingKeys {
		if containsString(usageRaw, k) {
			return true
		}
	}
	return false
}

// containsString is bytes.Contains(b, []byte(s)) without the conversion's allocation.
func containsString(b []byte, s string) bool {
	return strings.Contains(unsafe.String(unsafe.SliceData(b), len(b)), s)
}

// applyServerTimings stores the server's timings in their own columns, seconds converted
// to ms: server TTFT from time_to_first_token; server E2E from total_latency (SambaNova) or
// response_time (ALCF gateway, measured on the compute node around the vLLM call). The
// fields themselves go to server_json, as sent.
func applyServerTimings(rec *bench.Measurement, t map[string]json.RawMessage) {
	if len(t) == 0 {
		return
	}
	if b, err := json.Marshal(t); err == nil {
		rec.ServerJSON = string(b)
	}
	if s, ok := seconds(t["time_to_first_token"]); ok {
		rec.ServerTTFTMS = ptr(s * 1000)
	}
	if s, ok := seconds(t["total_latency"]); ok {
		rec.ServerE2EMS = ptr(s * 1000)
	} else if s, ok := seconds(t["response_time"]); ok {
		rec.ServerE2EMS = ptr(s * 1000)
	}
}

func seconds(raw json.RawMessage) (float64, bool) {
	var f float64
	if len(raw) == 0 || json.Unmarshal(raw, &f) != nil || f < 0 {
		return 0, false
	}
	return f, true
}
