package sim

import (
	"math/rand/v2"
	"strings"
	"unicode/utf8"

	"github.com/trackerbench/tracker/tokens"
)

// defaultMaxTokens caps output when a request sets no max_tokens and the profile no
// max_model_len (vLLM's cap is max_model_len minus the prompt).
const defaultMaxTokens = 16384

// genRequest is what a generation request asks of the model.
type genRequest struct {
	text         string // the prompt text the answer is drawn from
	promptTokens int
	maxTokens    int // 0 = not set
	minTokens    int
	ignoreEOS    bool
	reasoning    bool // the endpoint may send reasoning deltas (chat)
	n            uint64
}

// outputPlan is the whole output of one request, decided when it arrives: the engine only
// decides when each token is sent.
type outputPlan struct {
	reasoning []string // one text piece per reasoning token ("" = held back: a partial character)
	content   []string // one text piece per content token
	eos       bool     // an end-of-sequence token follows the content (counted, sends no text)
	finish    string   // "stop" or "length"
}

// tokens is the number of tokens the engine generates (completion_tokens).
func (o outputPlan) tokens() int {
	n := len(o.reasoning) + len(o.content)
	if o.eos {
		n++
	}
	return n
}

func (o outputPlan) text() string       { return strings.Join(o.content, "") }
func (o outputPlan) reasonText() string { return strings.Join(o.reasoning, "") }

// limit is the request's output cap.
func (p Profile) limit(r genRequest) int {
	l := r.maxTokens
	if l <= 0 {
		l = defaultMaxTokens
		if p.MaxModelLen > 0 {
			l = p.MaxModelLen - r.promptTokens
		}
	}
	return max(l, 1)
}

// planOutput decides the output: the extractive answer (after reasoning, if the profile
// reasons), its length set by the profile's output mode, min_tokens, ignore_eos and max_tokens.
func planOutput(p Profile, tok *tokens.Counter, seed int64, r genRequest) outputPlan {
	answer := extractiveAnswer(r.text)
	ansIDs := tok.Encode(answer)
	var reasonIDs []uint
	if r.reasoning && p.Output.ReasoningTokens > 0 {
		reasonIDs = takeTokens(tok, reasoningText(r.text, answer), p.Output.ReasoningTokens)
	}
	R := len(reasonIDs)

	// total is the number of generated tokens, end-of-sequence included when eos.
	total, eos := R+len(ansIDs)+1, true
	switch p.Output.Length {
	case LengthFixed:
		total = p.Output.Tokens
	case LengthUniform:
		rng := rand.New(rand.NewPCG(uint64(seed), r.n^0x6c656e677468)) // "length"
		total = p.Output.Min + rng.IntN(p.Output.Max-p.Output.Min+1)
	}
	if r.minTokens > total {
		total = r.minTokens
	}
	limit := p.limit(r)
	finish := "stop"
	if r.ignoreEOS || total > limit {
		total, eos, finish = limit, false, "length"
	}
	if total < 1 {
		total = 1
	}
	if R > total {
		R = total
		reasonIDs = reasonIDs[:R]
	}
	nContent := total - R
	if eos {
		nContent--
	}
	var contentIDs []uint
	switch {
	case nContent <= len(ansIDs):
		contentIDs = ansIDs[:max(nContent, 0)]
	default:
		contentIDs = takeTokens(tok, answer+"\n\n"+padding(r.text), nContent)
	}
	return outputPlan{reasoning: pieces(tok, reasonIDs), content: pieces(tok, contentIDs), eos: eos, finish: finish}
}

// takeTokens returns exactly n tokens of text, repeating its tail (after the first line)
// as often as needed.
func takeTokens(tok *tokens.Counter, text string, n int) []uint {
	ids := tok.Encode(text)
	if len(ids) >= n {
		return ids[:n]
	}
	pad := text
	if i := strings.Index(text, "\n\n"); i >= 0 && i+2 < len(text) {
		pad = text[i+2:]
	}
	padIDs := tok.Encode(" " + pad)
	if len(padIDs) == 0 {
		padIDs = tok.Encode(" more")
	}
	for len(ids) < n {
		ids = append(ids, padIDs...)
	}
	return ids[:n]
}

// pieces decodes tokens one by one into the text each token's chunk carries. A token that
// ends inside a multi-byte character sends nothing; its bytes go with the next token's.
func pieces(tok *tokens.Counter, ids []uint) []string {
	out := make([]string, len(ids))
	from := 0
	for i := range ids {
		s := tok.Decode(ids[from : i+1])
		if utf8.ValidString(s) || i == len(ids)-1 {
			out[i] = strings.ToValidUTF8(s, "\uFFFD")
			from = i + 1
		}
	}
	return out
}
