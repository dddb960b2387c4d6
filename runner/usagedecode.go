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
// tokens. It gives up (false) on anything else, which encoding/json then decodes.
func decodeFlatUsage(b []byte, u *usage) bool {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	if i = skipWS(b, i+1); i < len(b) && b[i] == '}' {
		return skipWS(b, i+1) == len(b)
	}
	var seen usageKey
	for {
		key, dst, next, ok := usageField(b, i, u)
		if !ok || seen&key != 0 {
			return false
		}
		seen |= key
		if i, ok = usageNumber(b, next, dst); !ok {
			return false
		}
		if i = skipWS(b, i); i >= len(b) {
			return false
		}
		switch b[i] {
		case '}':
			return skipWS(b, i+1) == len(b)
		case ',':
			i = skipWS(b, i+1)
		default:
			return false
		}
	}
}

// usageField reads a key at b[i:] and its colon: which key, where its value goes (nil for
// total_tokens, which usage does not hold), and where the value starts.
func usageField(b []byte, i int, u *usage) (usageKey, **float64, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, nil, 0, false
	}
	end := i + 1
	for end < len(b) && b[end] != '"' {
		end++
	}
	if end >= len(b) {
		return 0, nil, 0, false
	}
	var key usageKey
	var dst **float64
	switch string(b[i+1 : end]) {
	case "prompt_tokens":
		key, dst = usagePrompt, &u.PromptTokens
	case "completion_tokens":
		key, dst = usageCompletion, &u.CompletionTokens
	case "total_tokens":
		key = usageTotal
	default:
		return 0, nil, 0, false
	}
	j := skipWS(b, end+1)
	if j >= len(b) || b[j] != ':' {
		return 0, nil, 0, false
	}
	return key, dst, skipWS(b, j+1), true
}

// usageNumber reads null or a plain integer at b[i:] into *dst (when dst is not nil) and
// returns where it ends.
func usageNumber(b []byte, i int, dst **float64) (int, bool) {
	if len(b)-i >= 4 && string(b[i:i+4]) == "null" {
		if dst != nil {
			*dst = nil
		}
		return i + 4, true
	}
	j := i
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	const maxDigits = 15 // exact as a float64
	if j == i || j-i > maxDigits || (b[i] == '0' && j-i > 1) {
		return 0, false
	}
	if j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E') {
		return 0, false
	}
	if dst != nil {
		n, err := strconv.ParseInt(string(b[i:j]), 10, 64)
		if err != nil {
			return 0, false
		}
		f := float64(n)
		*dst = &f
	}
	return j, true
}

// skipWS is the index of the first byte at or after i that is not JSON whitespace.
func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
