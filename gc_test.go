package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// tuneGCForRun sets the run's GC policy only when the user set neither GOGC nor GOMEMLIMIT.
func TestTuneGCForRun(t *testing.T) {
	oldPercent, oldLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(oldPercent); debug.SetMemoryLimit(oldLimit) })
	for _, tc := range []struct {
		name        string
		env         map[string]string
		wantPercent int
		wantLimit   int64
	}{
		{"neither set", nil, runGCPercent, runMemoryLimit},
		{"GOGC set", map[string]string{"GOGC": "off"}, 100, math.MaxInt64},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, 100, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(math.MaxInt64)
			tuneGCForRun(func(k string) string { return tc.env[k] })
			percent := debug.SetGCPercent(100)
			if limit := debug.SetMemoryLimit(-1); percent != tc.wantPercent || limit != tc.wantLimit {
				t.Errorf("GOGC %d, memory limit %d; want %d, %d", percent, limit, tc.wantPercent, tc.wantLimit)
			}
		})
	}
}
