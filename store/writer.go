package store

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/trackerbench/tracker/bench"
)

// Writer records requests off the request path: Add hands a row to one goroutine that
// writes batches in single transactions, committing at least every FlushEvery.
//
// A batch that cannot be written is retried while the database is busy or locked (another
// process holds its lock), with a backoff, for up to RetryBudget. A batch that still fails
// (the lock outlasted the budget, the disk is full, an I/O error) ends the writer: OnFail is
// called once with the error, Close returns it, and every later row is dropped, so the run
// stops at the first failure rather than sending requests it cannot record.
type Writer struct {
	db       *DB
	in       chan bench.Request
	done     chan struct{}
	mu       sync.Mutex
	err      error
	written  int
	maxBatch int
	every    time.Duration
	budget   time.Duration
	onFail   func(error)
	server   serverQueue // scraped server metrics (server_metrics.go)
	flushReq chan chan struct{}
}

// WriterOptions tune a Writer; zero values take the defaults.
type WriterOptions struct {
	Buffer     int           // rows queued before Add blocks (default 8192)
	MaxBatch   int           // rows per transaction at most (default 1000)
	FlushEvery time.Duration // longest a row waits before its commit (default 250ms)
	// RetryBudget is how long a batch is retried while the database is busy or locked
	// (default DefaultRetryBudget).
	RetryBudget time.Duration
	// OnFail is called once, from the writer's goroutine, when a batch finally fails.
	OnFail func(error)
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
	if opts.RetryBudget <= 0 {
		opts.RetryBudget = DefaultRetryBudget
	}
	w := &Writer{db: db, in: make(chan bench.Request, opts.Buffer), done: make(chan struct{}),
		maxBatch: opts.MaxBatch, every: opts.FlushEvery, budget: opts.RetryBudget, onFail: opts.OnFail,
		server: newServerQueue(), flushReq: make(chan chan struct{})}
	go w.loop()
	return w
}

// Add queues one request row. It must not be called after Close.
func (w *Writer) Add(r bench.Request) { w.in <- r }

// Flush returns once every row Added before it was called is committed (or the writer has
// failed: Close says so). It must not be called after Close.
func (w *Writer) Flush() {
	ack := make(chan struct{})
	w.flushReq <- ack
	<-ack
}

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
	batch := make([]bench.Request, 0, w.maxBatch)
	ins := newRequestInserts(w.db)
	defer ins.close()
	failed := false
	flush := func() {
		if len(batch) == 0 || failed {
			batch = batch[:0]
			return
		}
		// A background context: rows already measured are written even when the run is canceled.
		err := retryBusy(context.Background(), w.budget, func() error {
			return w.db.insertRequests(context.Background(), batch, ins)
		})
		w.mu.Lock()
		if err != nil {
			failed, w.err = true, fmt.Errorf("%w (%d rows not recorded)", err, len(batch))
		} else {
			w.written += len(batch)
		}
		w.mu.Unlock()
		batch = batch[:0]
		if failed && w.onFail != nil {
			w.onFail(w.err)
		}
	}
	for {
		select {
		case r, ok := <-w.in:
			if !ok {
				flush()
				w.flushServer(true)
				return
			}
			batch = append(batch, r)
			if len(batch) >= w.maxBatch {
				flush()
			}
		case ack := <-w.flushReq:
			// Every row Added before Flush was called is in the channel's buffer by now.
			for drained := false; !drained; {
				select {
				case r, ok := <-w.in:
					if !ok {
						drained = true
						break
					}
					batch = append(batch, r)
					if len(batch) >= w.maxBatch {
						flush()
					}
				default:
					drained = true
				}
			}
			flush()
			close(ack)
		case s := <-w.server.in:
			w.server.batch = append(w.server.batch, s...)
		case <-tick.C:
			flush()
			w.flushServer(false)
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
