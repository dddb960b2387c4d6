package store

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// Writer records requests off the request path: Add hands a row to one goroutine that
// writes batches in single transactions, committing at least every FlushEvery.
type Writer struct {
	db       *DB
	in       chan Request
	done     chan struct{}
	mu       sync.Mutex
	err      error
	written  int
	maxBatch int
	every    time.Duration
}

// WriterOptions tune a Writer; zero values take the defaults.
type WriterOptions struct {
	Buffer     int           // rows queued before Add blocks (default 8192)
	MaxBatch   int           // rows per transaction at most (default 1000)
	FlushEvery time.Duration // longest a row waits before its commit (default 250ms)
}

// NewWriter starts a writer. Close it to flush and stop.
func (db *DB) NewWriter(opts WriterOptions) *Writer {
	if opts.Buffer <= 0 {
		opts.Buffer = 8192
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1000
	}
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = 250 * time.Millisecond
	}
	w := &Writer{db: db, in: make(chan Request, opts.Buffer), done: make(chan struct{}),
		maxBatch: opts.MaxBatch, every: opts.FlushEvery}
	go w.loop()
	return w
}

// Add queues one request row. It must not be called after Close.
func (w *Writer) Add(r Request) { w.in <- r }

// Close writes everything queued and returns the first write error, if any.
func (w *Writer) Close() error {
	close(w.in)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Written is how many rows have been committed so far.
func (w *Writer) Written() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.written
}

func (w *Writer) loop() {
	defer close(w.done)
	tick := time.NewTicker(w.every)
	defer tick.Stop()
	batch := make([]Request, 0, w.maxBatch)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		// A background context: rows already measured are written even when the run is canceled.
		err := w.db.InsertRequests(context.Background(), batch)
		w.mu.Lock()
		if err != nil && w.err == nil {
			w.err = err
		}
		if err == nil {
			w.written += len(batch)
		}
		w.mu.Unlock()
		batch = batch[:0]
	}
	for {
		select {
		case r, ok := <-w.in:
			if !ok {
				flush()
				return
			}
			batch = append(batch, r)
			if len(batch) >= w.maxBatch {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

func floatsJSON(xs []float64) string {
	if len(xs) == 0 {
		return "[]"
	}
	b := make([]byte, 0, len(xs)*8)
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, x, 'f', 3, 64)
	}
	return string(append(b, ']'))
}
