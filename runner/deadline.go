package runner

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// errTimeout is the cause of a request ended by --timeout.
var errTimeout = errors.New("request timeout")

// requestDeadlines ends one request by its timeout (the cause errTimeout) and its stall
// timeout (errStall: no bytes for that long), with one timer. A read of the answer only
// stores when it came; the timer, when it fires, ends the request if a deadline has
// passed (the earlier of the two when both have) and is set again for the next one
// otherwise. Before it, each request had a timeout context (a context and its timer) and a
// stall timer reset by every read: ~2 µs of the client's CPU per request against a
// zero-delay server.
type requestDeadlines struct {
	cancel   context.CancelCauseFunc
	start    time.Time     // monotonic
	timeout  time.Duration // from start; 0 = none
	stall    time.Duration // from the last read (or start); 0 = none
	lastRead atomic.Int64  // ns from start to the last read of the answer
	timer    *time.Timer
	stopped  atomic.Bool
}

// arm starts the timer when the request has a deadline.
func (d *requestDeadlines) arm() {
	if next, ok := d.next(0); ok {
		d.timer = time.AfterFunc(never, d.fire) // set before fire can read it
		d.timer.Reset(next)
	}
}

// never is a timer's duration before it is set.
const never = time.Duration(1<<63 - 1)

// read notes a read of the answer (the exchange's onRead).
func (d *requestDeadlines) read() { d.lastRead.Store(int64(time.Since(d.start))) }

// next is how long after elapsed (from start) the earliest deadline comes, and whether
// there is one; it is <= 0 when a deadline has passed.
func (d *requestDeadlines) next(elapsed time.Duration) (time.Duration, bool) {
	at, cause := d.earliest()
	return at - elapsed, cause != nil
}

// earliest is the earliest deadline (from start) and its cause; a nil cause when there is
// none.
func (d *requestDeadlines) earliest() (time.Duration, error) {
	var at time.Duration
	var cause error
	if d.stall > 0 {
		at, cause = time.Duration(d.lastRead.Load())+d.stall, errStall
	}
	if d.timeout > 0 && (cause == nil || d.timeout <= at) {
		at, cause = d.timeout, errTimeout
	}
	return at, cause
}

// fire ends the request when a deadline has passed, else waits for the next one.
func (d *requestDeadlines) fire() {
	at, cause := d.earliest()
	if left := at - time.Since(d.start); left > 0 {
		if !d.stopped.Load() {
			d.timer.Reset(left)
		}
		return
	}
	d.cancel(cause)
}

// stop stops the timer; the request has ended.
func (d *requestDeadlines) stop() {
	d.stopped.Store(true)
	if d.timer != nil {
		d.timer.Stop()
	}
}
