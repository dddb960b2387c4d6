package memstore

import (
	"fmt"
	"sync"

	"github.com/trackerbench/tracker/bench"
)

// RecordRequests returns a sink that records synchronously: a request is readable through
// Requests and the History as soon as Add returns.
func (s *Store) RecordRequests(o bench.SinkOptions) bench.RequestSink {
	return &sink{s: s, onFail: o.OnFail}
}

// FailRequestsAfter makes every sink fail once n more requests have been recorded, as a
// database that stops accepting writes: the next Add calls OnFail with err, that request and
// every later one are dropped, and Close returns the error.
func (s *Store) FailRequestsAfter(n int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAt, s.failErr = len(s.requests)+n, err
}

type sink struct {
	s      *Store
	onFail func(error)
	mu     sync.Mutex
	err    error
	closed bool
}

func (k *sink) Add(r bench.Request) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		panic("memstore: Add after Close")
	}
	if k.err != nil {
		return
	}
	if err := k.s.addChecked(r); err != nil {
		k.err = fmt.Errorf("recording requests: %w", err)
		if k.onFail != nil {
			k.onFail(k.err)
		}
	}
}

func (k *sink) AddServerSamples(samples []bench.ServerSample) bool {
	k.s.mu.Lock()
	defer k.s.mu.Unlock()
	k.s.samples = append(k.s.samples, samples...)
	return true
}

// Flush has nothing to wait for: Add records at once.
func (k *sink) Flush() {}

func (k *sink) DroppedServerScrapes() int { return 0 }

func (k *sink) ServerErr() error { return nil }

func (k *sink) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	return k.err
}

// addChecked records r unless the store was told to fail.
func (s *Store) addChecked(r bench.Request) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failErr != nil && len(s.requests) >= s.failAt {
		return s.failErr
	}
	s.addLocked(r)
	return nil
}
