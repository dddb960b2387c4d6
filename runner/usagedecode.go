package runner

import (
	"encoding/json"
	"strconv"
)

// parseUsage decodes a usage object; false when there is none (absent, null) or it is not
// a JSON object encoding/json can decode into usage. The flat object most servers send
// (OpenAI's and vLLM's: {"prompt_tokens":8,"completion_tokens":4,"total_tokens":12}) is read
// by decodeFlatUsage; anything else by encoding/json, with the same result
// (TestParseUsageSameAsJSON, FuzzParseUsage). encoding/json took ~1.2 µs a request.
func parseUsage(raw json.RawMessage) (*usage, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, false
	}
	var u usage
	if decodeFlatUsage(raw, &u) {
		return &u, true
	}
	u = usage{}
	if err := json.Unmarshal(raw, &u); err != nil {
		return nil, false
	}
	return &u, true
}

// usageKey is a key decodeFlatUsage reads, as a bit of the keys seen.
type usageKey uint8

const (
	usagePrompt usageKey = 1 << iota
	usageCompletion
	usageTotal
)

// decodeFlatUsage reads an object whose keys are prompt_tokens, completion_tokens and
// total_tokens, each at most once, written plainly (no escapes), with values null or an
// integer of at most 15 digits (no sign, fraction or exponent), JSON whitespace between
// tokens. It gives up (false) on anything else, which encoding/json then decodes. It reads
// with the chunk decoder's scanner (chunkdecode.go).
func decodeFlatUsage(b []byte, u *usage) bool {
	s := chunkScan{b: b}
	s.ws()
	seen := 0
	ok := s.object(func(key []byte) bool {
		var bit usageKey
		var dst **float64 // nil for total_tokens, which usage does not hold
		switch string(key) {
		case "prompt_tokens":
			bit, dst = usagePrompt, &u.PromptTokens
		case "completion_tokens":
			bit, dst = usageCompletion, &u.CompletionTokens
		case "total_tokens":
			bit = usageTotal
		default:
			return false
		}
		return firstSight(&seen, int(bit)) && s.plainInt(dst)
	})
	s.ws()
	return ok && s.i == len(s.b)
}

// plainInt reads null or a plain integer of at most 15 digits into *dst (when dst is not
// nil); anything else (a sign, a fraction, an exponent, a leading zero) gives up.
func (s *chunkScan) plainInt(dst **float64) bool {
	if s.peek() == 'n' {
		if dst != nil {
			*dst = nil
		}
		return s.literal("null")
	}
	i, j := s.i, s.i
	for j < len(s.b) && s.b[j] >= '0' && s.b[j] <= '9' {
		j++
	}
	const maxDigits = 15 // exact as a float64
	if j == i || j-i > maxDigits || (s.b[i] == '0' && j-i > 1) {
		return false
	}
	if j < len(s.b) && (s.b[j] == '.' || s.b[j] == 'e' || s.b[j] == 'E') {
		return false
	}
	if dst != nil {
		n, err := strconv.ParseInt(string(s.b[i:j]), 10, 64)
		if err != nil {
			return false
		}
		f := float64(n)
		*dst = &f
	}
	s.i = j
	return true
}
