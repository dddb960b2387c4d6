//go:build !linux

package runner

import "time"

// monoNS and wallMinusMonoNS: outside Linux, processes are not known to share a monotonic
// clock, so the benchmarks report no cross-process split.
func monoNS() (int64, bool) { return 0, false }

func wallMinusMonoNS() (int64, bool) { return 0, false }

func machineBusy() (time.Duration, bool) { return 0, false }
