package runner

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRequestDeadlines: one timer ends a request with the cause and at the time the two
// timers it replaced did: the timeout from the start, the stall timeout from the last read
// (reads push it back), the earlier of the two when both are set, nothing when neither is
// or the request ended first.
func TestRequestDeadlines(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name           string
		timeout, stall time.Duration
		readEvery      time.Duration // 0 = no reads
		readFor        time.Duration
		stopAfter      time.Duration // 0 = never stopped
		wantCause      error         // nil: still running at 300 ms
		notBefore      time.Duration
	}{
		{name: "timeout", timeout: 60 * ms, wantCause: errTimeout, notBefore: 60 * ms},
		{name: "stall without reads", stall: 50 * ms, timeout: time.Second, wantCause: errStall, notBefore: 50 * ms},
		{name: "reads push the stall back", stall: 200 * ms, readEvery: 10 * ms, readFor: 120 * ms, wantCause: errStall, notBefore: 310 * ms}, // the last read at 110 ms or later,
		{name: "timeout before the stall", timeout: 100 * ms, stall: 200 * ms, readEvery: 10 * ms, readFor: 250 * ms, wantCause: errTimeout, notBefore: 100 * ms},
		{name: "stall before the timeout", timeout: 250 * ms, stall: 40 * ms, wantCause: errStall, notBefore: 40 * ms},
		{name: "none"},
		{name: "ended first", timeout: 800 * ms, stall: 400 * ms, stopAfter: 20 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &Client{}
			start := time.Now() // the deadlines count from startRequest, a little after
			ctx, _, x, done := c.startRequest(context.Background(), RequestOptions{Timeout: tt.timeout, StallTimeout: tt.stall}, "")
			defer done()
			if tt.readEvery > 0 {
				go func() {
					for time.Since(start) < tt.readFor && ctx.Err() == nil {
						x.onRead()
						time.Sleep(tt.readEvery)
					}
				}()
			}
			if tt.stopAfter > 0 {
				time.AfterFunc(tt.stopAfter, done)
			}
			select {
			case <-ctx.Done():
			case <-time.After(deadlineTestWait(tt.wantCause, tt.stopAfter)):
			}
			took := time.Since(start)
			cause := context.Cause(ctx)
			if tt.stopAfter > 0 {
				if !errors.Is(cause, context.Canceled) {
					t.Errorf("ended by done: cause %v, want context.Canceled", cause)
				}
				return
			}
			if tt.wantCause == nil {
				if cause != nil {
					t.Errorf("cause %v after %v, want none", cause, took)
				}
				return
			}
			if !errors.Is(cause, tt.wantCause) || took < tt.notBefore {
				t.Errorf("cause %v after %v, want %v not before %v", cause, took, tt.wantCause, tt.notBefore)
			}
		})
	}
}

// BenchmarkStartRequest is a request's deadlines (the default --timeout and --stall-timeout)
// from startRequest to done, with two reads, from concurrent requests of one run. Before
// requestDeadlines (a timeout context and a stall timer reset by each read): 3.8-4.6 µs and
// 17 allocations; after, 1.9-2.0 µs and 7 (2026-11-29, 2 cores, load ~5).
func BenchmarkStartRequest(b *testing.B) {
	parent, stop := context.WithCancel(context.Background())
	defer stop()
	c := &Client{}
	o := RequestOptions{Timeout: 10 * time.Minute, StallTimeout: 2 * time.Minute}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _, x, done := c.startRequest(parent, o, "")
			x.onRead()
			x.onRead()
			done()
		}
	})
}

// deadlineTestWait is how long TestRequestDeadlines waits for a request to end: 300 ms when it should
// not end (its "none"), else 2 s, a loose upper bound. The margins between a case's
// deadlines are wide (a stall of 200 ms against reads every 10 ms, an end at 20 ms against a
// stall at 400), so that a goroutine a loaded machine holds back for tens of milliseconds
// does not change which deadline ends the request.
func deadlineTestWait(cause error, stopAfter time.Duration) time.Duration {
	if cause == nil && stopAfter == 0 {
		return 300 * time.Millisecond
	}
	return 2 * time.Second
}
