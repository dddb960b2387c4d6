package runner

import (
	"context"
	"sync"
	"time"

	"github.com/trackerbench/tracker/internal/ctxtime"
)

// limiter spaces an endpoint's requests at least 1/rps apart (a token bucket holding one
// token), on the monotonic clock. Every attempt of every worker of the endpoint waits here
// before its t0, so the wait is queue time, never part of TTFT or E2E. A nil limiter does
// not wait.
type limiter struct {
	interval time.Duration
	mu       sync.Mutex
	next     time.Time // the earliest instant the next request may start
}

func newLimiter(rps float64) *limiter {
	if rps <= 0 {
		return nil
	}
	return &limiter{interval: time.Duration(float64(time.Second) / rps)}
}

// wait reserves the next slot and sleeps until it. It returns ctx's error if ctx ends
// first (the slot is then not given back: the next request waits one interval more).
func (l *limiter) wait(ctx context.Context) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	now := time.Now()
	slot := l.next
	if slot.Before(now) {
		slot = now
	}
	l.next = slot.Add(l.interval)
	l.mu.Unlock()
	if !ctxtime.Sleep(ctx, slot.Sub(now)) {
		return ctx.Err()
	}
	return nil
}
