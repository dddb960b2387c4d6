package sim

import (
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// errEngineStopped is returned to requests that arrive after the engine stopped.
var errEngineStopped = errors.New("sim engine stopped")

// sequence is one request inside the engine: it waits in the queue, is prefilled (which
// yields its first token), then gains one token per decode step until it has out tokens.
type sequence struct {
	prompt  int // prompt tokens (prefill cost, KV use)
	out     int // tokens it will generate, end-of-sequence included
	reserve int // KV-cache tokens held while it runs: prompt + out

	emitted  atomic.Int64  // tokens generated so far; written by the engine only
	notify   chan struct{} // signalled (without blocking) whenever emitted grows
	canceled atomic.Bool   // set by the request's handler when its client went away

	arrived  time.Time    // when it is due in the queue (set before submit)
	admitted atomic.Int64 // queue wait in ns, set at admission
}

func newSequence(prompt, out int) *sequence {
	return &sequence{prompt: prompt, out: out, reserve: prompt + out, notify: make(chan struct{}, 1), arrived: time.Now()}
}

func (s *sequence) signal() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// engine is a continuous-batching scheduler stepped in real time by one goroutine. Each step
// admits waiting sequences from the head of the queue (FCFS) while the batch has fewer than
// MaxNumSeqs sequences and the KV budget holds their prompt + output tokens, prefills them,
// and advances every running sequence by one token. A step sleeps for its modelled cost.
type engine struct {
	p   Profile
	rng *rand.Rand // jitter; used by the engine goroutine only

	mu      sync.Mutex
	pending []*sequence
	stopped bool

	wake chan struct{}
	stop chan struct{}
	done chan struct{}

	// Gauges and peaks, for Stats.
	steps    atomic.Int64
	running  atomic.Int64
	queued   atomic.Int64
	maxBatch atomic.Int64
	maxQueue atomic.Int64
	kvUsed   atomic.Int64
}

func newEngine(p Profile, seed int64) *engine {
	e := &engine{
		p:    p,
		rng:  rand.New(rand.NewPCG(uint64(seed), 0x656e67696e65)), // "engine"
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go e.loop()
	return e
}

// submit queues a sequence; the caller waits on its notify channel.
func (e *engine) submit(s *sequence) error {
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return errEngineStopped
	}
	e.pending = append(e.pending, s)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
	return nil
}

// close stops the engine; sequences still inside it are abandoned (their handlers see done).
func (e *engine) close() {
	e.mu.Lock()
	if !e.stopped {
		e.stopped = true
		close(e.stop)
	}
	e.mu.Unlock()
	<-e.done
}

// loop runs the engine: each step collects submissions, admits from the queue, sleeps for
// the step's modelled cost and advances the batch by one token, until the engine stops.
func (e *engine) loop() {
	defer close(e.done)
	st := &schedule{idle: true, timer: time.NewTimer(time.Hour)}
	st.timer.Stop()
	for {
		e.collect(st)
		if len(st.queue) == 0 && len(st.running) == 0 {
			if !e.waitForWork(st) {
				return
			}
			continue
		}
		start, prefillTokens := e.stepStart(st)
		e.publishGauges(st)
		if !e.sleepStep(st, start, e.stepCost(st, prefillTokens)) {
			return
		}
		e.steps.Add(1)
		st.advance()
	}
}

// schedule is the engine goroutine's own state from one step to the next.
type schedule struct {
	queue, running, admitted []*sequence
	kvUsed                   int
	clock                    time.Time     // the modelled end of the previous step
	late                     time.Duration // recent timer lateness (moving average)
	idle                     bool          // the engine waited for work since its last step
	timer                    *time.Timer
}

// collect queues the newly submitted sequences; clients that went away leave the queue and
// free their slot and KV.
func (e *engine) collect(st *schedule) {
	e.mu.Lock()
	st.queue = append(st.queue, e.pending...)
	clear(e.pending)
	e.pending = e.pending[:0]
	e.mu.Unlock()
	st.queue = dropCanceled(st.queue, nil)
	st.running = dropCanceled(st.running, &st.kvUsed)
}

// waitForWork zeroes the gauges and waits for a submission; false when the engine stops.
func (e *engine) waitForWork(st *schedule) bool {
	e.queued.Store(0)
	e.running.Store(0)
	e.kvUsed.Store(0)
	st.idle = true
	select {
	case <-e.wake:
		return true
	case <-e.stop:
		return false
	}
}

// stepStart admits the step's sequences and says when the step starts. A busy engine lays
// steps end to end from the previous step's modelled end, so that timer overshoot and host
// hiccups (up to maxCatchUp) are made up instead of accumulating. An idle engine starts when
// the sequences it admits were due (the end of their request_overhead), if that was only just
// now. It returns the prompt tokens admitted.
func (e *engine) stepStart(st *schedule) (time.Time, int) {
	now := time.Now()
	start := now
	if !st.idle && !st.clock.IsZero() && now.Sub(st.clock) < maxCatchUp {
		start = st.clock
	}
	prefillTokens := e.admit(&st.queue, &st.admitted, len(st.running), &st.kvUsed, start)
	if len(st.running) == 0 && len(st.admitted) == 0 { // the queue's head was due after clock
		start = now
		prefillTokens = e.admit(&st.queue, &st.admitted, len(st.running), &st.kvUsed, start)
	}
	if st.idle && len(st.running) == 0 && len(st.admitted) > 0 {
		due := st.clock
		for _, s := range st.admitted {
			if s.arrived.After(due) {
				due = s.arrived
			}
		}
		if due.Before(now) && now.Sub(due) < maxCatchUp {
			start = due
		}
	}
	st.idle = false
	return start, prefillTokens
}

// publishGauges stores the step's batch, queue and KV use, and their peaks, for Stats.
func (e *engine) publishGauges(st *schedule) {
	batch := len(st.running) + len(st.admitted)
	e.running.Store(int64(batch))
	e.queued.Store(int64(len(st.queue)))
	e.kvUsed.Store(int64(st.kvUsed))
	storeMax(&e.maxBatch, int64(batch))
	storeMax(&e.maxQueue, int64(len(st.queue)))
}

// stepCost is the step's modelled duration: the admitted sequences' prefill, the running
// ones' decode (growing with the batch and its context), and jitter.
func (e *engine) stepCost(st *schedule, prefillTokens int) time.Duration {
	var d time.Duration
	if len(st.admitted) > 0 {
		d += e.p.PrefillOverhead + time.Duration(prefillTokens)*e.p.PrefillPerToken
	}
	if len(st.running) > 0 {
		ctx := 0
		for _, s := range st.running {
			ctx += s.prompt + int(s.emitted.Load())
		}
		d += e.p.DecodeBase + time.Duration(len(st.running))*e.p.DecodePerSeq +
			time.Duration(ctx)*e.p.DecodePerContextToken
	}
	if e.p.Jitter > 0 {
		f := 1 + e.p.Jitter*e.rng.NormFloat64()
		d = time.Duration(float64(d) * max(f, 0.05))
	}
	return d
}

// sleepStep waits until the step that began at start and lasts d ends; false when the engine
// stops meanwhile. Timers fire late (0.1-1 ms on a busy host): it aims early by the recent
// lateness, so tokens leave at the modelled times on average.
func (e *engine) sleepStep(st *schedule, start time.Time, d time.Duration) bool {
	st.clock = start.Add(d)
	target := st.clock.Add(-st.late)
	if wait := time.Until(target); wait > 0 {
		st.timer.Reset(wait)
		select {
		case <-st.timer.C:
		case <-e.stop:
			st.timer.Stop()
			return false
		}
		l := time.Since(target)
		st.late = min(max((4*st.late+l)/5, 0), 2*time.Millisecond)
	}
	return true
}

// advance ends a step: every running sequence gains a token, every admitted one gets its
// first, and the sequences that have all their tokens leave the batch and free their KV.
func (st *schedule) advance() {
	for _, s := range st.running {
		s.emitted.Add(1)
		s.signal()
	}
	for _, s := range st.admitted {
		s.emitted.Store(1)
		s.signal()
	}
	st.running = append(st.running, st.admitted...)
	clear(st.admitted)
	kept := st.running[:0]
	for _, s := range st.running {
		if int(s.emitted.Load()) >= s.out {
			st.kvUsed -= s.reserve
			continue
		}
		kept = append(kept, s)
	}
	clear(st.running[len(kept):])
	st.running = kept
}

// maxCatchUp bounds how far behind the modelled clock the engine may be and still make the
// time up; beyond it (a suspended host) the model's clock restarts from now.
const maxCatchUp = 50 * time.Millisecond

// admit moves sequences from the head of the queue into admitted (FCFS) while the batch has
// room, the KV budget holds them, the step's prefill stays under max_batched_tokens, and they
// were due by start. It returns the prompt tokens admitted.
func (e *engine) admit(queue, admitted *[]*sequence, running int, kvUsed *int, start time.Time) int {
	*admitted = (*admitted)[:0]
	tokens := 0
	for len(*queue) > 0 && running+len(*admitted) < e.p.MaxNumSeqs {
		s := (*queue)[0]
		if s.arrived.After(start) {
			break
		}
		if *kvUsed+s.reserve > e.p.KVCacheTokens && running+len(*admitted) > 0 {
			break // wait for running sequences to finish and free KV
		}
		if e.p.MaxBatchedTokens > 0 && len(*admitted) > 0 && tokens+s.prompt > e.p.MaxBatchedTokens {
			break
		}
		(*queue)[0] = nil
		*queue = (*queue)[1:]
		*kvUsed += s.reserve
		tokens += s.prompt
		s.admitted.Store(int64(start.Sub(s.arrived)))
		*admitted = append(*admitted, s)
	}
	return tokens
}

func dropCanceled(seqs []*sequence, kvUsed *int) []*sequence {
	kept := seqs[:0]
	for _, s := range seqs {
		if s.canceled.Load() {
			if kvUsed != nil {
				*kvUsed -= s.reserve
			}
			continue
		}
		kept = append(kept, s)
	}
	clear(seqs[len(kept):])
	return kept
}

func storeMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}
