package tokenstest

import (
	"sync"
	"testing"

	"github.com/trackerbench/tracker/tokens"
)

// counter is built once: every model maps to the same o200k_base counter (tokens.New), which
// is safe for concurrent use, and tests in one binary ask for it hundreds of times.
var counter = sync.OnceValues(func() (*tokens.Counter, error) { return tokens.New("gpt-oss-120b") })

// Counter is the token counter tracker uses; a failure to build it fails the test.
func Counter(t testing.TB) *tokens.Counter {
	t.Helper()
	c, err := counter()
	if err != nil {
		t.Fatalf("token counter: %v", err)
	}
	return c
}
