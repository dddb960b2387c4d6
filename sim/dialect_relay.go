package sim

import (
	"bytes"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/trackerbench/tracker/internal/defaults"
)

// RelayOptions shape a gateway's relay (ALCF Sophia's): the compute node forwards chunks in
// batches of Batch chunks or every Period, the gateway polls for them every Poll, and ends
// a stream that brought nothing for Idle with [DONE] (no finish_reason, no usage).
type RelayOptions struct {
	Batch  int
	Period time.Duration
	Poll   time.Duration
	Idle   time.Duration
}

func (o *RelayOptions) setDefaults() {
	defaults.Positive(&o.Batch, 20)
	defaults.Positive(&o.Period, 500*time.Millisecond)
	defaults.Positive(&o.Poll, 25*time.Millisecond)
	defaults.Positive(&o.Idle, 5*time.Second)
}

var errRelayClosed = errors.New("the relay ended the stream")

// relayWriter sits between the server's stream and the client, as the gateway does.
type relayWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
	o  RelayOptions

	mu         sync.Mutex
	pending    []byte    // written by the server, held by the compute node
	events     int       // complete events in pending
	batchStart time.Time // when pending's first event arrived
	released   []byte    // forwarded by the compute node, waiting for the gateway's poll
	last       time.Time // when the server last wrote an event
	closed     bool
	stop, done chan struct{}
}

func newRelayWriter(w http.ResponseWriter, o RelayOptions) *relayWriter {
	r := &relayWriter{w: w, rc: http.NewResponseController(w), o: o, last: time.Now(),
		stop: make(chan struct{}), done: make(chan struct{})}
	go r.poll()
	return r
}

func (r *relayWriter) Header() http.Header { return r.w.Header() }

func (r *relayWriter) WriteHeader(code int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.w.WriteHeader(code)
	r.rc.Flush()
}

func (r *relayWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, errRelayClosed
	}
	now := time.Now()
	r.pending = append(r.pending, p...)
	if n := bytes.Count(p, []byte("\n\n")); n > 0 {
		if r.events == 0 {
			r.batchStart = now
		}
		r.events += n
		r.last = now
	}
	if r.events >= r.o.Batch {
		r.release()
	}
	return len(p), nil
}

// FlushError is what http.ResponseController calls: the server's flush reaches only the
// compute node; the gateway decides when the client sees it.
func (r *relayWriter) FlushError() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errRelayClosed
	}
	return nil
}

func (r *relayWriter) release() {
	r.released = append(r.released, r.pending...)
	r.pending, r.events = r.pending[:0], 0
}

func (r *relayWriter) poll() {
	defer close(r.done)
	t := time.NewTicker(r.o.Poll)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case now := <-t.C:
			r.mu.Lock()
			if r.events > 0 && now.Sub(r.batchStart) >= r.o.Period {
				r.release()
			}
			if len(r.released) > 0 && !r.closed {
				r.w.Write(r.released)
				r.rc.Flush()
				r.released = r.released[:0]
			}
			if !r.closed && now.Sub(r.last) >= r.o.Idle {
				// Silent truncation: the gateway ends the stream as if it were complete.
				r.w.Write(r.pending)
				r.w.Write([]byte("data: [DONE]\n\n"))
				r.rc.Flush()
				r.pending, r.events, r.closed = nil, 0, true
			}
			r.mu.Unlock()
		}
	}
}

// close forwards what is left when the server's stream ends, and stops the poller. The
// ResponseWriter is not used after close returns.
func (r *relayWriter) close() {
	close(r.stop)
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.w.Write(r.released)
		r.w.Write(r.pending)
		r.rc.Flush()
		r.closed = true
	}
}
