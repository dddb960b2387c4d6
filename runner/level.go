package runner

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/telemetry"
)

// level runs one endpoint at one load level (one trial).
type level struct {
	ex     *executor
	ep     int
	load   Load
	trial  int
	id     int64
	start0 time.Time    // monotonic origin of start_ms and scheduled_ms
	done   bench.SeqSet // resume: sequence numbers already completed
	stats  *levelStats
	stop   atomic.Pointer[string] // why the level stopped early, if it did

	resumedLevel bool // taken over from an interrupted run
	minRequests  int  // send at least this many (sweeps); 0 = the plan's count
}

// resumeOffset places a resumed level's clock so that the pause is not counted: a closed
// loop continues from its last recorded end; an open loop continues its schedule at the
// first request still to send.
func (l *level) resumeOffset(st *bench.LevelState) time.Duration {
	if l.load.Rate > 0 {
		arr := newArrivals(l.load.Rate, l.ex.plan.Burstiness, l.ex.plan.Seed)
		for seq := 0; ; seq++ {
			at := arr.next()
			if !st.Done.Has(seq) { // terminates: Done is finite
				return at
			}
		}
	}
	return time.Duration(st.LastEnd * float64(time.Millisecond))
}

// levelResult is what a finished level reports to sweeps.
type levelResult struct {
	snap       snapshot
	stopReason string
	id         int64
}

func (l *level) client() *Client { return l.ex.clients[l.ep] }

func (l *level) name() string { return l.ex.plan.Endpoints[l.ep].Name }

// begin records the level (or, on resume, takes over the recorded one).
func (l *level) begin(ctx context.Context) error {
	l.stats = newLevelStats(l.ex.plan.SLO)
	if st := l.ex.resumed(l.ep, l.load, l.trial); st != nil {
		l.id, l.done, l.resumedLevel = st.ID, st.Done, true
		l.start0 = time.Now().Add(-l.resumeOffset(st))
		return l.ex.r.DB.ReopenLevel(ctx, l.id) // running again: its summary is computed anew at its end
	}
	l.start0 = time.Now()
	id, err := l.ex.r.DB.StartLevel(ctx, bench.Level{RunID: l.ex.runID, EndpointID: l.ex.epIDs[l.ep],
		Concurrency: l.load.Concurrency, Rate: l.load.Rate, Trial: l.trial, StartedAt: time.Now()})
	l.id = id
	return err
}

// measure sends the level's requests (after begin) and records its end. It returns ctx's
// error when interrupted.
func (l *level) measure(ctx context.Context) (levelResult, error) {
	l.ex.live.start(l)
	if l.load.Rate > 0 {
		l.openLoop(ctx)
	} else {
		l.closedLoop(ctx)
	}
	l.ex.live.end(l)
	l.markPhase(telemetry.PhasePause) // the server drains; samples until the next level are its pause
	return l.finish(ctx)
}

// next says whether sequence number seq is still to be sent.
func (l *level) more(seq int) bool {
	if n := l.ex.plan.levelRequests(); n > 0 && seq >= max(n, l.minRequests) {
		return false
	}
	if d := l.ex.plan.Duration; d > 0 && time.Since(l.start0) >= d {
		return false
	}
	return l.stop.Load() == nil
}

func (l *level) prompt(seq int) dataset.Prompt {
	ps := l.ex.plan.Prompts.Prompts
	return ps[seq%len(ps)]
}

// closedLoop keeps Concurrency requests in flight: each worker sends the next request in
// sequence as soon as its previous answer ends.
func (l *level) closedLoop(ctx context.Context) {
	seqs := make(chan int)
	var wg sync.WaitGroup
	for range l.load.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := range seqs {
				l.send(ctx, seq, time.Now(), nil)
			}
		}()
	}
feed:
	for seq := 0; l.more(seq); seq++ {
		if l.done.Has(seq) {
			continue
		}
		select {
		case seqs <- seq:
		case <-ctx.Done():
			break feed
		}
	}
	close(seqs)
	wg.Wait()
}

// openLoop sends request i at its scheduled time whatever happened to the earlier ones,
// with at most Concurrency in flight when a cap is set. A request that must wait for the cap
// (or for a slow sender) is sent late; its lag is recorded, never hidden.
func (l *level) openLoop(ctx context.Context) {
	arr := newArrivals(l.load.Rate, l.ex.plan.Burstiness, l.ex.plan.Seed)
	var sem chan struct{}
	if l.load.Concurrency > 0 {
		sem = make(chan struct{}, l.load.Concurrency)
	}
	var wg sync.WaitGroup
	timer := time.NewTimer(0)
	defer timer.Stop()
loop:
	for seq := 0; ; seq++ {
		at := arr.next()
		if !l.more(seq) || (l.ex.plan.Duration > 0 && at >= l.ex.plan.Duration) {
			break
		}
		if l.done.Has(seq) {
			continue
		}
		due := l.start0.Add(at)
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				break loop
			}
		}
		if sem != nil {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				break loop
			}
		}
		wg.Add(1)
		sched := ms(at)
		go func(seq int) {
			defer wg.Done()
			if sem != nil {
				defer func() { <-sem }()
			}
			l.send(ctx, seq, due, &sched)
		}(seq)
	}
	wg.Wait()
}

// send measures one request (every attempt of it, when the client retries) and queues the
// records. due is when it was ready to go; the wait from due to the first t0 is queue time.
func (l *level) send(ctx context.Context, seq int, due time.Time, scheduledMS *float64) {
	p := l.prompt(seq)
	attempts := l.client().Send(ctx, p, l.ex.plan.Request)
	var final bench.Request
	for i, m := range attempts {
		rec := l.place(m, p, i+1, i == len(attempts)-1)
		rec.Seq = ptr(seq)
		if i == 0 {
			rec.QueueMS = max(0, ms(m.StartedAt.Sub(due)))
			rec.ScheduledMS = scheduledMS
		}
		l.ex.score(&rec, p)
		l.ex.w.Add(rec)
		final = rec
	}
	if final.ScheduledMS == nil {
		final.ScheduledMS = scheduledMS
	}
	l.stats.add(&final)
	l.ex.live.add()
	if max := l.ex.plan.MaxErrorRate; max > 0 {
		if s := l.stats.snapshot(); s.N >= minSampleForStop && float64(s.Failed)/float64(s.N) > max {
			reason := fmt.Sprintf("error rate %.0f%% > %.0f%% after %d requests", 100*float64(s.Failed)/float64(s.N), 100*max, s.N)
			l.stop.CompareAndSwap(nil, &reason)
		}
	}
}

// minSampleForStop is how many requests a level sends before its error rate can stop it.
const minSampleForStop = 10

// warmup sends n requests, then more until d has passed, one at a time (prompts from the
// start of the set, cycling), recorded with warmup = 1 in this level.
func (l *level) warmup(ctx context.Context, n int, d time.Duration) {
	ps := l.ex.plan.Prompts.Prompts
	var w window
	for i := 0; ctx.Err() == nil && (i < n || (d > 0 && w.ms() < ms(d))); i++ {
		p := ps[i%len(ps)]
		attempts := l.client().Send(ctx, p, l.ex.plan.Request)
		for i, m := range attempts {
			rec := l.place(m, p, i+1, i == len(attempts)-1)
			rec.Warmup = true
			w.add(rec)
			l.ex.w.Add(rec)
		}
		l.ex.live.add()
	}
}

// window is the time a set of requests spans as a level's duration_s counts it: from the
// first t0 to the last end, from the start_ms and elapsed_ms they are recorded with. A
// --warmup-duration D warm-up sends until its requests span D: the client's own time
// between them (building a request, queuing its record) is not warm-up for the server.
type window struct {
	n              int
	first, lastEnd float64 // ms after the level's start
}

func (w *window) add(r bench.Request) {
	if w.n == 0 || r.StartMS < w.first {
		w.first = r.StartMS
	}
	w.lastEnd = max(w.lastEnd, r.StartMS+r.ElapsedMS)
	w.n++
}

func (w *window) ms() float64 {
	if w.n == 0 {
		return 0
	}
	return w.lastEnd - w.first
}

// place makes attempt n of a prompt's request, as the client measured it, a record of this
// level: its ids, its start as an offset from the level's start (both on the monotonic
// clock), and its send time as a wall-clock time, without the monotonic reading.
func (l *level) place(m bench.Measurement, p dataset.Prompt, attempt int, final bool) bench.Request {
	rec := bench.Request{RunID: l.ex.runID, LevelID: l.id, EndpointID: l.ex.epIDs[l.ep], PromptIdx: p.Idx,
		PromptID: p.ID, Attempt: attempt, Final: final, StartMS: ms(m.StartedAt.Sub(l.start0)), Measurement: m}
	rec.StartedAt = m.StartedAt.Round(0)
	return rec
}

// finish records the level's end: status, lag flag, early stop.
func (l *level) finish(ctx context.Context) (levelResult, error) {
	snap := l.stats.snapshot()
	res := levelResult{snap: snap, id: l.id}
	lv := bench.Level{ID: l.id, Status: bench.LevelCompleted, EndedAt: time.Now()}
	if l.load.Rate > 0 {
		grew, a, b := l.stats.lagGrew(l.load.Rate)
		lv.LagFlag = grew
		lv.Note = fmt.Sprintf("achieved %.2f of %.4g req/s requested", snap.AchievedRPS, l.load.Rate)
		if grew {
			lv.Note += fmt.Sprintf("; send lag grew from %.0f ms to %.0f ms: the sender or the cap could not keep up", a, b)
		}
	}
	if r := l.stop.Load(); r != nil {
		lv.Status, lv.StopReason, res.stopReason = bench.LevelStopped, *r, *r
	}
	var err error
	if ctx.Err() != nil {
		lv.Status, lv.Note, err = bench.LevelInterrupted, "interrupted", ctx.Err()
	}
	// The level's summary is computed from its recorded rows: every one must be written first.
	l.ex.w.Flush()
	if ferr := l.ex.r.DB.FinishLevel(context.Background(), lv); ferr != nil {
		return res, ferr
	}
	return res, err
}
