package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/trackerbench/tracker/tokens"
)

// DefaultSyntheticPrompts is how many synthetic prompts a run gets when Spec.Limit is 0.
const DefaultSyntheticPrompts = 100

// syntheticInstruction ends every synthetic prompt; it asks for long output for servers that
// do not honour ignore_eos. It comes last so that prompts share no prefix to cache.
const syntheticInstruction = "\n\nContinue the text above with more of the same words, without stopping."

// syntheticWords are common English words; the ones that are one token with and without a
// leading space under the run's tokenizer make the text.
var syntheticWords = strings.Fields(`time year people way day man thing woman life child world school state
family student group country problem hand part place case week company system program question work
government number night point home water room mother area money story fact month lot right study book eye
job word business issue side kind head house service friend father power hour game line end member law car
city community name president team minute idea kid body information back parent face others level office door
health person art war history party result change morning reason research girl guy moment air teacher force
education foot boy age policy music market sense nation plan college interest death experience effect use
class control care field development role effort rate heart drug show leader light voice wife police mind
price report decision son view relationship town road arm difference value building action model season
society tax director position player record paper space ground form event official matter center couple site
project activity star table need court oil situation cost industry figure street image phone data picture
practice piece land product doctor wall patient worker news test movie north love support technology step
baby computer type attention film tree source organization hair window evidence population river garden
green blue red small large old new good great high little long young important public bad same able`)

// SyntheticPrompts generates spec.Limit prompts (DefaultSyntheticPrompts when 0) whose
// messages count exactly spec.InputTokens tokens with tok (a system message included),
// each drawn uniformly within ±Spread of the target when Spread > 0; MaxTokens is
// spec.OutputTokens (drawn the same way). The text is seeded random common words, one
// token each, then syntheticInstruction. The same Spec gives the same prompts. Each prompt
// has its own random source, so they are made on every core at once (they are on the way
// to a run's first request).
func SyntheticPrompts(spec Spec, tok *tokens.Counter) (*PromptSet, error) {
	if spec.InputTokens <= 0 {
		return nil, fmt.Errorf("synthetic prompts need --input-tokens > 0")
	}
	n := spec.Limit
	if n <= 0 {
		n = DefaultSyntheticPrompts
	}
	words := oneTokenWords(tok)
	if len(words) < 50 {
		return nil, fmt.Errorf("synthetic prompts: tokenizer %s has only %d one-token words", tok.Name(), len(words))
	}
	g := syntheticGen{spec: spec, tok: tok, words: words, instrTokens: tok.Count(syntheticInstruction)}
	if spec.System != "" {
		g.sys = []Message{{Role: "system", Content: spec.System}}
		g.sysTokens = tok.Count(spec.System)
	}
	prompts := make([]Prompt, n)
	if err := forEachIndex(n, func(i int) (err error) {
		prompts[i], err = g.prompt(i)
		return err
	}); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("synthetic:in=%d,out=%d,spread=%g,seed=%d,tokenizer=%s", spec.InputTokens, spec.OutputTokens, spec.Spread, spec.Seed, tok.Name())
	sum := sha256.Sum256([]byte(name))
	return &PromptSet{Source: name, Hash: hex.EncodeToString(sum[:]), Prompts: prompts}, nil
}

// syntheticGen makes synthetic prompts of one spec: the words they are made of, the system
// message and the token counts every prompt shares.
type syntheticGen struct {
	spec                   Spec
	tok                    *tokens.Counter
	words                  []string
	sys                    []Message
	sysTokens, instrTokens int
}

// prompt makes prompt i (seeded by the spec's seed and i alone).
func (g *syntheticGen) prompt(i int) (Prompt, error) {
	rng := rand.New(rand.NewPCG(uint64(g.spec.Seed), uint64(i)+0x73796e)) // "syn"
	in := spreadLength(rng, g.spec.InputTokens, g.spec.Spread)
	out := 0
	if g.spec.OutputTokens > 0 {
		out = spreadLength(rng, g.spec.OutputTokens, g.spec.Spread)
	}
	if fixed := g.sysTokens + g.instrTokens; in <= fixed {
		return Prompt{}, fmt.Errorf("synthetic prompt %d: %d input tokens is too few: the instruction and system message take %d", i, in, fixed)
	}
	text, err := exactText(rng, g.words, in-g.sysTokens, g.instrTokens, g.tok)
	if err != nil {
		return Prompt{}, fmt.Errorf("synthetic prompt %d: %w", i, err)
	}
	msgs := append(append([]Message(nil), g.sys...), Message{Role: "user", Content: text})
	// exactText counted the text: in - sysTokens tokens.
	return Prompt{Idx: i, ID: fmt.Sprintf("syn-%d", i), SourceRow: i, Messages: msgs,
		Hash: HashMessages(msgs), InputTokens: in, MaxTokens: out}, nil
}

// forEachIndex calls f for 0..n-1 on as many goroutines as the process has cores, and
// returns the error of the lowest index that failed (the one a loop in order would).
func forEachIndex(n int, f func(i int) error) error {
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				errs[i] = f(i)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// spreadLength draws a length uniformly in [target·(1-spread), target·(1+spread)].
func spreadLength(rng *rand.Rand, target int, spread float64) int {
	if spread <= 0 {
		return target
	}
	lo := int(float64(target) * (1 - spread))
	hi := int(float64(target) * (1 + spread))
	if hi <= lo {
		return max(1, target)
	}
	return max(1, lo+rng.IntN(hi-lo+1))
}

// oneTokenWords keeps the words that are one token alone and after a space.
func oneTokenWords(tok *tokens.Counter) []string {
	var out []string
	for _, w := range syntheticWords {
		if tok.Count(w) == 1 && tok.Count(" "+w) == 1 {
			out = append(out, w)
		}
	}
	return out
}

// exactText builds random words followed by syntheticInstruction (instrTokens tokens
// alone), counting exactly target tokens: it starts from the additive estimate and adds or
// removes words until the tokenizer agrees.
func exactText(rng *rand.Rand, words []string, target, instrTokens int, tok *tokens.Counter) (string, error) {
	k := target - instrTokens
	if k < 1 {
		return "", fmt.Errorf("%d tokens is too few for the instruction", target)
	}
	picked := make([]string, 0, k+8)
	for len(picked) < k {
		picked = append(picked, words[rng.IntN(len(words))])
	}
	for range 64 {
		text := strings.Join(picked, " ") + syntheticInstruction
		got := tok.Count(text)
		switch {
		case got == target:
			return text, nil
		case got > target && len(picked) > 1:
			picked = picked[:len(picked)-min(got-target, len(picked)-1)]
		case got < target:
			for range target - got {
				picked = append(picked, words[rng.IntN(len(words))])
			}
		default:
			return "", fmt.Errorf("cannot reach %d tokens (have %d)", target, got)
		}
	}
	return "", fmt.Errorf("did not converge on %d tokens", target)
}
