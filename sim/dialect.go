package sim

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Wire dialects beside vLLM's (docs/endpoints.md; the shapes are the project's wire notes):
//
//   - vllm: vLLM's OpenAI server (the default).
//   - sambanova: SambaCloud: float created, system_fingerprint "fastcoe", reasoning with
//     channel "analysis", a first chunk with empty choices, server timings in the last
//     chunk's usage, errors with request_id.
//   - alcf-metis: SambaNova's stream behind the ALCF gateway: no /v1/models; a server error
//     inside an HTTP 200 stream as "[ERROR]" content (id chatcmpl-api-error).
//   - alcf-sophia: vLLM behind the ALCF gateway: no /v1/models; a server error inside an
//     HTTP 200 stream as {"object":"error",...}; the stream relayed in bursts (20 chunks or
//     0.5 s, polled every 25 ms) and ended with [DONE] (no finish_reason, no usage) after
//     5 s without a chunk; non-streamed answers carry response_time and
//     throughput_tokens_per_second.
//   - llamacpp: llama.cpp's llama-server (dialect_llamacpp.go): no role chunk, usage and
//     timings in the finish chunk, model echoed, prompt cache, connection closed after
//     every stream.
const (
	WireVLLM       = "vllm"
	WireSambaNova  = "sambanova"
	WireALCFMetis  = "alcf-metis"
	WireALCFSophia = "alcf-sophia"
	WireLlamaCpp   = "llamacpp"
)

// Wires lists the dialects --wire accepts.
func Wires() []string {
	w := []string{WireVLLM, WireSambaNova, WireALCFMetis, WireALCFSophia, WireLlamaCpp}
	sort.Strings(w)
	return w
}

func newDialect(name string, opts Options) (dialect, error) {
	switch name {
	case "", WireVLLM:
		return vllm{}, nil
	case WireSambaNova:
		return sambanova{}, nil
	case WireLlamaCpp:
		return llamacpp{}, nil
	case WireALCFMetis:
		return metis{}, nil
	case WireALCFSophia:
		relay := opts.Relay
		relay.setDefaults()
		return sophia{relay: relay}, nil
	}
	return nil, fmt.Errorf("unknown wire %q (want %s)", name, strings.Join(Wires(), ", "))
}

// gateway is a dialect behind the ALCF inference gateway: it has no /v1/models, and a
// server error during a streamed request arrives inside an HTTP 200 stream.
type gateway interface {
	inBandError(c *call, msg string) []byte
}

// relayer is a dialect whose stream passes through a relay (dialect_relay.go).
type relayer interface {
	relayOptions() RelayOptions
}

// hasModels reports whether the dialect's server answers GET /v1/models.
func hasModels(d dialect) bool {
	_, gw := d.(gateway)
	return !gw
}

// timings are the server's own, as SambaNova reports them (seconds): time to the first
// token sent, total latency to now, and the start and end as Unix times.
func (c *call) timings(now time.Time) (ttft, total float64, start, end float64) {
	first := c.first
	if first.IsZero() {
		first = now
	}
	return first.Sub(c.arrived).Seconds(), now.Sub(c.arrived).Seconds(),
		float64(c.arrived.UnixNano()) / 1e9, float64(now.UnixNano()) / 1e9
}

// streamInBandError answers a streamed request with a server error the gateway way: HTTP
// 200, the error event, then [DONE]. It reports whether it did.
func (s *Server) streamInBandError(w http.ResponseWriter, stream, chat bool, n uint64, msg string) bool {
	gw, ok := s.wire.(gateway)
	if !ok || !stream || !chat {
		return false
	}
	c := &call{id: s.newID(chat, n), created: time.Now().Unix(), model: s.p.Model, chat: chat, arrived: time.Now()}
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", gw.inBandError(c, msg))
	return true
}
