package runner

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/tokens"
)

// Prompt caches (docs/metrics.md, "Prompt caches"): servers keep the KV cache of prompts
// (or prefixes) they have seen, and a repeated prompt's TTFT is then a cache hit.

// cacheBustTag is the short random tag --cache-bust puts at the start of a request's first
// message, so that no prefix of it is in any server's cache.
func cacheBustTag(rng func() uint64) string {
	return fmt.Sprintf("[%012x] ", rng()&0xffffffffffff)
}

// bustCache returns p with a fresh tag at the start of its first message; its input token
// count (the tokenizer's, used when the server reports none) includes the tag's tokens.
func bustCache(p dataset.Prompt, tok *tokens.Counter) dataset.Prompt {
	if len(p.Messages) == 0 {
		return p
	}
	tag := cacheBustTag(rand.Uint64)
	msgs := append([]dataset.Message(nil), p.Messages...)
	msgs[0].Content = tag + msgs[0].Content
	p.Messages = msgs
	p.InputTokens += countText(tok, tag)
	return p
}

// llamaCppPreset is the preset whose server reads cache_prompt.
const llamaCppPreset = "llamacpp"

// cachePromptField is what a request tells llama.cpp about its prompt cache: with
// --cache-bust, or the endpoint's cache_prompt setting, "cache_prompt": false; nil = say nothing.
func (e Endpoint) cachePromptField(cacheBust bool) any {
	if e.CachePrompt != nil {
		return *e.CachePrompt
	}
	if cacheBust && e.Preset == llamaCppPreset {
		return false
	}
	return nil
}

// RepeatedPrompts says, when the plan sends some prompt more than once to an endpoint (so a
// prompt cache can serve the repeats), how; "" when no prompt repeats or --cache-bust is on.
func (p *Plan) RepeatedPrompts() string {
	if p.Request.CacheBust || p.Prompts == nil {
		return ""
	}
	n := len(p.Prompts.Prompts)
	var why []string
	if r := p.levelRequests(); r > n || (r == 0 && p.Duration > 0) {
		why = append(why, fmt.Sprintf("a level sends more requests than the %d prompts", n))
	}
	if len(p.Loads) > 1 || p.Sweep != nil {
		why = append(why, "every level sends the same prompts")
	}
	if p.Repeat > 1 {
		why = append(why, fmt.Sprintf("--repeat %d", p.Repeat))
	}
	if p.Warmup > 0 || p.WarmupDuration > 0 {
		why = append(why, "the warm-up sends prompts of the set")
	}
	if len(why) == 0 {
		return ""
	}
	return "prompts repeat (" + strings.Join(why, "; ") + "): a server's prompt cache may answer repeats " +
		"faster (cached_tokens shows it where the server reports it); --cache-bust prevents it"
}
