package main

import (
	"context"
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// tuneGCForRun sets the run's GC policy only when the user set neither GOGC nor GOMEMLIMIT:
// GOGC off during start-up, runGCPercent once the first level has collected.
func TestTuneGCForRun(t *testing.T) {
	oldPercent, oldLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(oldPercent); debug.SetMemoryLimit(oldLimit) })
	for _, tc := range []struct {
		name                     string
		env                      map[string]string
		wantStartup, wantPercent int
		wantLimit                int64
	}{
		{"neither set", nil, -1, runGCPercent, runMemoryLimit},
		{"GOGC set", map[string]string{"GOGC": "off"}, 100, 100, math.MaxInt64},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, 100, 100, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			collected := tuneGCForRun(ctx, func(k string) string { return tc.env[k] })
			startup := debug.SetGCPercent(-1)
			debug.SetGCPercent(startup)
			collected()
			collected() // once: a later level's collection changes nothing
			percent := debug.SetGCPercent(100)
			if limit := debug.SetMemoryLimit(-1); startup != tc.wantStartup || percent != tc.wantPercent || limit != tc.wantLimit {
				t.Errorf("GOGC %d at start-up, %d after; memory limit %d; want %d, %d, %d",
					startup, percent, limit, tc.wantStartup, tc.wantPercent, tc.wantLimit)
			}
		})
	}
}

// The limit never lets the collector run more often than GOGC=100 would: at least twice the
// live heap.
func TestGCLimitFor(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int64
	}{
		{0, runMemoryLimit},
		{20 << 20, runMemoryLimit},
		{runMemoryLimit / 2, runMemoryLimit},
		{runMemoryLimit/2 + 1, runMemoryLimit + 2},
		{1 << 30, 2 << 30},
		{math.MaxUint64, 1 << 62},
	} {
		if got := gcLimitFor(tc.live); got != tc.want {
			t.Errorf("gcLimitFor(%d) = %d, want %d", tc.live, got, tc.want)
		}
	}
}

// followLiveHeap raises a limit set below twice the live heap.
func TestFollowLiveHeapRaisesTheLimit(t *testing.T) {
	oldLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetMemoryLimit(oldLimit) })
	keep := make([]byte, 64<<20) // live heap above half a 64 MiB limit
	runtime.GC()
	debug.SetMemoryLimit(64 << 20)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); followLiveHeap(ctx, time.Millisecond, gcLimitFor) }()
	deadline := time.Now().Add(5 * time.Second)
	for debug.SetMemoryLimit(-1) < 2*(64<<20) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if got := debug.SetMemoryLimit(-1); got < max(runMemoryLimit, 2*(64<<20)) {
		t.Errorf("memory limit %d with a live heap of 64 MiB, want at least %d", got, 2*(64<<20))
	}
	runtime.KeepAlive(keep)
}

// tuneGCForReport sets the report's memory limit only when the user set neither GOGC nor
// GOMEMLIMIT, never changes GOGC, and its restore function puts back the limit there was.
func TestTuneGCForReport(t *testing.T) {
	oldPercent, oldLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(oldPercent); debug.SetMemoryLimit(oldLimit) })
	for _, tc := range []struct {
		name      string
		env       map[string]string
		wantLimit int64
	}{
		{"neither set", nil, reportMemoryLimit},
		{"GOGC set", map[string]string{"GOGC": "50"}, math.MaxInt64},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetMemoryLimit(math.MaxInt64)
			restore := tuneGCForReport(func(k string) string { return tc.env[k] })
			percent := debug.SetGCPercent(100)
			if limit := debug.SetMemoryLimit(-1); percent != 100 || limit != tc.wantLimit {
				t.Errorf("GOGC %d, memory limit %d; want 100, %d", percent, limit, tc.wantLimit)
			}
			restore()
			if limit := debug.SetMemoryLimit(-1); limit != math.MaxInt64 {
				t.Errorf("after restore: memory limit %d, want %d", limit, int64(math.MaxInt64))
			}
		})
	}
}

// The report's limit keeps at least a quarter of the live heap free above it.
func TestReportLimitFor(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int64
	}{
		{0, reportMemoryLimit},
		{100 << 20, reportMemoryLimit},
		{reportMemoryLimit * 4 / 5, reportMemoryLimit},
		{400 << 20, 500 << 20},
		{math.MaxUint64, 1 << 62},
	} {
		if got := reportLimitFor(tc.live); got != tc.want {
			t.Errorf("reportLimitFor(%d) = %d, want %d", tc.live, got, tc.want)
		}
	}
}
