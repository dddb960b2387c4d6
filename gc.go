package main

import (
	"runtime/debug"
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
const (
	runGCPercent   = 400
	runMemoryLimit = 256 << 20 // bytes
)

// tuneGCForRun applies the run's GC setting, unless the user set GOGC or GOMEMLIMIT: then
// the runtime already follows theirs, and both stand as they are. getenv is os.Getenv.
func tuneGCForRun(getenv func(string) string) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(runGCPercent)
	debug.SetMemoryLimit(runMemoryLimit)
}
