package sim

import (
	"crypto/sha256"
	"sync"
)

// promptCache is llama-server's prompt cache, as far as a client can see it: a prompt sent
// again is served from the cache but for its last token (prompt_n 1), unless the request
// says "cache_prompt": false. It remembers the last promptCacheEntries prompts.
type promptCache struct {
	mu    sync.Mutex
	seen  map[[32]byte]bool
	order [][32]byte
	max   int
}

const promptCacheEntries = 4096

func newPromptCache(n int) *promptCache {
	return &promptCache{seen: map[[32]byte]bool{}, max: n}
}

// lookup records the prompt and returns how many of its tokens the cache held.
func (pc *promptCache) lookup(text string, promptTokens int) int {
	k := sha256.Sum256([]byte(text))
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.seen[k] {
		return max(0, promptTokens-1)
	}
	pc.seen[k] = true
	pc.order = append(pc.order, k)
	if len(pc.order) > pc.max {
		delete(pc.seen, pc.order[0])
		pc.order = pc.order[1:]
	}
	return 0
}
