// Package sim is a simulated OpenAI-compatible inference server. Its latency comes from a
// model of a serving engine stepped in real time (continuous batching under a sequence limit
// and a KV-cache token budget, a prefill cost and a decode step cost that grows with the
// batch), so that the effects of concurrency emerge from the model instead of being written
// into the answers. It speaks vLLM's OpenAI wire format and can inject faults.
//
// It owns the engine model, the built-in profiles, the wire dialects (vLLM, llama.cpp), fault
// injection and the simulated /metrics. It does not measure clients or record anything: the
// runner measures it like any real server.
package sim
