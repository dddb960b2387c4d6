// Package ctxtime holds the one wait that both the runner (retry back-off, preflight polling)
// and the simulator (arrival spacing, injected stalls) need: a sleep that ends early when its
// context does.
package ctxtime

import (
	"context"
	"time"
)

// Sleep waits d or until ctx ends, and reports whether the whole wait passed. A d of zero or
// less does not wait: it reports whether ctx is still live.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
