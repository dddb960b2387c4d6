package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// The garbage collector's setting for `tracker run`. A run's live heap is small and flat
// (streaming statistics, the writer's queue, the requests in flight: ~20 MB at c=128), and
// the Go default (GOGC=100: collect when the heap doubles) spends CPU that the requests need
// against a fast server: client and server share the machine's cores, and every µs the
// client spends is a request the server does not get. Collecting when the heap has grown
// five-fold (GOGC=400) cut ~6-14 µs of tracker's CPU per request (GC workers, assists, and
// the preemptions they cause in the SQLite writer) at a peak RSS of ~145 MB instead of
// ~85 MB in the 100,000-request benchmark (README, "Scale"). The memory limit bounds that
// trade: as the heap nears it the collector runs more often, so a run whose live heap is
// larger than usual does not take five times it.
//
// A fixed limit alone would make a run whose live heap nears it (long-context prompts, large
// answers in flight) collect far more often than the default would, up to the runtime's cap
// of half the CPU: the client would then time its requests while starved. So the limit
// follows the live heap: never below twice it, what GOGC=100 would allow. The setting is
// then never more eager to collect than Go's default, and less so while the heap is small.
const (
	runGCPercent   = 400
	runMemoryLimit = 256 << 20 // bytes
	// gcLimitEvery is how often the limit is checked against the live heap.
	gcLimitEvery = 250 * time.Millisecond
)

// liveHeapMetric is the heap the last collection found reachable.
const liveHeapMetric = "/gc/heap/live:bytes"

// Start-up (flags, the tokenizer's vocabulary, the prompts, the database, the first level's
// connections) collects by the memory limit alone: its heap is mostly what the run keeps
// (the vocabulary: ~13 MB live of ~18 MB allocated), and a collection by GOGC, which fell
// just before the first level's own (runner: runLevel) and made it wait for a whole cycle
// first, put 20-40 ms on the time from exec to the first request on a busy 2-core machine.
// The run's setting takes over at the first level's collection (the returned function).

// tuneGCForRun applies the run's GC setting, unless the user set GOGC or GOMEMLIMIT: then
// the runtime already follows theirs, and both stand as they are. getenv is os.Getenv. It
// keeps the limit above the live heap until ctx ends. Until the returned function is first
// called (runner.Runner.Collected: after the first level's collection), GOGC is off and the
// limit alone starts a collection; from then on, runGCPercent.
func tuneGCForRun(ctx context.Context, getenv func(string) string) (collected func()) {
	if userSetsGC(getenv) {
		return func() {}
	}
	debug.SetMemoryLimit(runMemoryLimit) // first: GOGC off is never without a limit
	debug.SetGCPercent(-1)
	go followLiveHeap(ctx, gcLimitEvery, gcLimitFor)
	var once sync.Once
	return func() { once.Do(func() { debug.SetGCPercent(runGCPercent) }) }
}

// userSetsGC reports whether the environment sets GOGC or GOMEMLIMIT: the runtime then
// follows the user's setting, and tracker's stands aside.
func userSetsGC(getenv func(string) string) bool {
	return getenv("GOGC") != "" || getenv("GOMEMLIMIT") != ""
}

// gcLimitFor is the memory limit for a live heap of live bytes: runMemoryLimit, or twice the
// live heap when that is more.
func gcLimitFor(live uint64) int64 { return limitFollowing(live, runMemoryLimit, 1) }

// limitFollowing is a memory limit for a live heap of live bytes: floor, or the live heap and
// 1/share of it over it when that is more; at most 1<<62.
func limitFollowing(live uint64, floor int64, share uint64) int64 {
	const most = 1 << 62
	if live >= most/2 {
		return most
	}
	return max(floor, int64(live+live/share))
}

// followLiveHeap sets the memory limit to limitFor(the live heap) every interval until ctx
// ends; it reads one runtime metric (no stop-the-world).
func followLiveHeap(ctx context.Context, every time.Duration, limitFor func(live uint64) int64) {
	sample := []metrics.Sample{{Name: liveHeapMetric}}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			debug.SetMemoryLimit(limitFor(sample[0].Value.Uint64()))
		}
	}
}

// The garbage collector's setting for `tracker report`. The report keeps the compared columns
// of every successful request it reads (~100-120 MB live at 1,000,000 requests: six numbers a
// request, four of them pooled and sorted) and allocates ~0.5 GB more on the way (sorted
// copies, bootstrap buffers, the files). With Go's default alone (GOGC=100: collect when the
// heap has doubled since the last collection) the process's peak RSS at that scale was
// 250-290 MB; with a memory limit of reportMemoryLimit the collector runs when the heap nears
// it instead, and the peak was 228-232 MB for the same CPU time (a 160 MiB limit gave
// 191-193 MB for ~0.3 CPU-s more: collections, and pages returned to the OS and faulted
// back; README, "Figures measured here"). Below the limit GOGC=100 stands, so a small report
// collects as before. The limit follows the live heap as a run's does, never below
// a reportHeadroomShare-th of it over it (GOGC=25's headroom): a report much larger than 1M requests
// collects more often, but is not starved of CPU by a collector chasing a limit it cannot meet.
const (
	reportMemoryLimit = 200 << 20 // bytes
	// reportHeadroomShare: the least headroom over the live heap is 1/reportHeadroomShare of it.
	reportHeadroomShare = 4
)

// tuneGCForReport applies the report's GC setting, unless the user set GOGC or GOMEMLIMIT
// (then theirs stands). getenv is os.Getenv. It keeps the limit above the live heap until the
// returned function is called, which puts back the limit there was before.
func tuneGCForReport(getenv func(string) string) (restore func()) {
	if userSetsGC(getenv) {
		return func() {}
	}
	old := debug.SetMemoryLimit(reportMemoryLimit)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); followLiveHeap(ctx, gcLimitEvery, reportLimitFor) }()
	return func() {
		cancel()
		<-done
		debug.SetMemoryLimit(old)
	}
}

// reportLimitFor is the report's memory limit for a live heap of live bytes:
// reportMemoryLimit, or the live heap and a quarter of it when that is more.
func reportLimitFor(live uint64) int64 {
	return limitFollowing(live, reportMemoryLimit, reportHeadroomShare)
}
