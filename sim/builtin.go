package sim

import (
	"sort"
	"time"
)

// The built-in profiles are ILLUSTRATIVE: invented parameters that reproduce the shape of a
// comparison between two kinds of endpoint, not measurements of any real hardware.
//
//   - illustrative-fast: low fixed overhead and fast decode, so one stream is about 3x
//     faster; but a small batch (8 sequences) and a decode step that grows quickly with the
//     batch make its throughput saturate early, and a small KV cache limits long prompts.
//   - illustrative-scaling: slower for one stream (more overhead, 15 ms a token), but its
//     step barely grows with the batch and it batches up to 256 sequences with a large KV
//     cache, so it keeps scaling to high concurrency and long prompts.
//
// Both answer like a reasoning model: 32 reasoning tokens, then the extractive answer.
var builtins = map[string]Profile{
	"illustrative-fast": {
		Name:        "illustrative-fast",
		Description: "ILLUSTRATIVE, not a measurement of any hardware: fast for one stream, saturates early (8 sequences a batch, small KV cache)",
		Model:       "illustrative-model",

		MaxNumSeqs:       8,
		KVCacheTokens:    16384,
		MaxBatchedTokens: 8192,
		MaxModelLen:      8192,

		RequestOverhead: 20 * time.Millisecond,
		PrefillOverhead: 10 * time.Millisecond,
		PrefillPerToken: 15 * time.Microsecond,
		DecodeBase:      2500 * time.Microsecond,
		DecodePerSeq:    2250 * time.Microsecond,
		Jitter:          0.02,
		Seed:            1,

		Output: Output{Length: LengthAnswer, ReasoningTokens: 32},
	},
	"illustrative-scaling": {
		Name:        "illustrative-scaling",
		Description: "ILLUSTRATIVE, not a measurement of any hardware: slower for one stream, keeps scaling (256 sequences a batch, large KV cache)",
		Model:       "illustrative-model",

		MaxNumSeqs:       256,
		KVCacheTokens:    524288,
		MaxBatchedTokens: 16384,
		MaxModelLen:      131072,

		RequestOverhead: 100 * time.Millisecond,
		PrefillOverhead: 5 * time.Millisecond,
		PrefillPerToken: 20 * time.Microsecond,
		DecodeBase:      15 * time.Millisecond,
		DecodePerSeq:    80 * time.Microsecond,
		Jitter:          0.02,
		Seed:            2,

		Output: Output{Length: LengthAnswer, ReasoningTokens: 32},
	},
}

// Builtin returns a built-in profile by name.
func Builtin(name string) (Profile, bool) {
	p, ok := builtins[name]
	if !ok {
		return Profile{}, false
	}
	p.Faults = nil
	p.setDefaults()
	return p, true
}

// BuiltinNames lists the built-in profiles.
func BuiltinNames() []string {
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
