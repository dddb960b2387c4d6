package report

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

// benchDBVersion names the cached benchmark database; change it when the generator changes.
const benchDBVersion = "v1"

// benchDB returns a database of 1,000 runs and 1,000,000 measured requests (two endpoints,
// concurrency 1 and 4, 250 requests a level, one workload), built once and cached in
// os.TempDir() so later benchmark runs reuse it.
func benchDB(b *testing.B) string {
	b.Helper()
	path := filepath.Join(os.TempDir(), "tracker-report-bench-"+benchDBVersion+".db")
	if _, err := os.Stat(path); err == nil {
		// Bring a cache built by an older schema up to date (migrations only add).
		db, err := store.Open(context.Background(), path, storetest.Schema(b))
		if err != nil {
			b.Fatal(err)
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		return path
	}
	tmp := path + ".building"
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(tmp + suffix)
	}
	start := time.Now()
	ctx := context.Background()
	db, err := store.Open(ctx, tmp, storetest.Schema(b))
	if err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		addRun(b, ctx, db, runSpec{label: fmt.Sprintf("nightly-%d", i/100), started: day(1).Add(time.Duration(i) * time.Hour),
			promptSet: "sha256:bench", maxTokens: 128, prompts: 50, levels: []int{1, 4}, perLevel: 250,
			endpoints: []profile{metis, sophia}, seed: uint64(i)})
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	// Closing the last connection checkpoints the WAL into the file; publish it atomically.
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(tmp + suffix); err == nil {
			os.Rename(tmp+suffix, path+suffix)
		}
	}
	b.Logf("built %s in %v", path, time.Since(start).Round(time.Second))
	return path
}

// BenchmarkReport1MCLI is `tracker report` as a user runs it, over the database of
// BenchmarkReport1M: the built binary in a child process (so that peak RSS is the whole
// process's: the heap, the binary, SQLite's caches and any page it maps), timed from start to
// exit, with its CPU time (user + system) and peak RSS (rusage Maxrss) reported beside the
// wall time. The binary is built from this tree, or is $TRACKER_BIN when that is set (to
// measure another build with the same harness).
//
//	go test -run '^$' -bench Report1MCLI -benchtime 1x -count 5 ./report/
func BenchmarkReport1MCLI(b *testing.B) {
	path := benchDB(b)
	bin := os.Getenv("TRACKER_BIN")
	if bin == "" {
		bin = buildTracker(b)
	}
	out := b.TempDir()
	var cpu time.Duration
	var peakRSS int64
	for b.Loop() {
		cmd := exec.Command(bin, "report", "--db", path, "--out", out)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("%s: %v\n%s", bin, err, stderr.String())
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		cpu += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		peakRSS = max(peakRSS, ru.Maxrss) // KiB on Linux
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(peakRSS)/1024, "peak-rss-MB")
}

// buildTracker builds the tracker binary (the module's main package) into a temporary
// directory, as `make build` does but without the embedded ECharts.
func buildTracker(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "tracker")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "github.com/trackerbench/tracker")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// BenchmarkReport1M generates the whole report (statistics, markdown, HTML, JSON) over 1,000
// runs and 1,000,000 requests in this process, and reports the peak heap seen while it ran
// (HeapAlloc sampled every 20 ms: garbage included, the process's RSS not: see
// BenchmarkReport1MCLI). For profiling (-cpuprofile, -memprofile).
//
//	go test -run '^$' -bench 'Report1M$' -benchmem -benchtime 3x ./report/
func BenchmarkReport1M(b *testing.B) {
	path := benchDB(b)
	ctx := context.Background()
	db, err := store.OpenReadOnlyWith(ctx, path, storetest.Schema(b), store.OpenOptions{NoMap: true}) // as tracker report opens it
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	out := b.TempDir()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	cpu0 := cpuSeconds()
	b.ResetTimer()
	var requests int
	for b.Loop() {
		res, err := Generate(ctx, db, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := res.WriteFiles(out, FileOptions{}); err != nil {
			b.Fatal(err)
		}
		requests = res.Requests
	}
	b.StopTimer()
	close(stop)
	<-done
	// CPU time as well as wall time: on a shared machine the wall time depends on the neighbours.
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(requests), "requests")
}

// cpuSeconds is the process's user plus system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
