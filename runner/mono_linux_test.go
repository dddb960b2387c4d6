package runner

import (
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// monoNS reads CLOCK_MONOTONIC in ns. On Linux every process reads the same clock, so the
// readings of a benchmark and of its server process compare (Go's own monotonic readings
// do not: each process counts from its own start).
func monoNS() (int64, bool) {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return 0, false
	}
	return ts.Nano(), true
}

// wallMinusMonoNS is CLOCK_REALTIME − CLOCK_MONOTONIC now, in ns: it turns a wall-clock
// time recorded by this process into a CLOCK_MONOTONIC reading.
func wallMinusMonoNS() (int64, bool) {
	var rt, mt unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &mt) != nil || unix.ClockGettime(unix.CLOCK_REALTIME, &rt) != nil {
		return 0, false
	}
	return rt.Nano() - mt.Nano(), true
}

// machineBusy is the CPU time every process has used since boot (user, nice, system, irq,
// softirq, steal from /proc/stat), and ok; with the benchmark's own processes' CPU time
// subtracted over a run, what the machine's other users took meanwhile.
func machineBusy() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, false
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system irq softirq steal
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, false
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, true
}

// clockTicks is USER_HZ, the unit of /proc/stat: 100 on every Linux architecture Go runs on.
const clockTicks = 100
