package store_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

// scaleRun records one completed run of n measured requests split over two endpoints (one
// level each, the same prompts in the same order) and returns its id.
func scaleRun(t *testing.T, ctx context.Context, db *store.DB, n int) int64 {
	t.Helper()
	runID := storetest.Run(t, db, bench.Run{Status: bench.RunCompleted, Stream: true})
	var reqs []bench.Request
	for e, name := range []string{"alpha", "beta"} {
		epID := storetest.Endpoint(t, db, runID, name)
		lvID := storetest.Level(t, db, bench.Level{RunID: runID, EndpointID: epID, Concurrency: 8})
		for i := range n / 2 {
			seq, e2e, ttft, out := i, float64(100+(i*7+e*13)%50), float64(10+i%9), 20
			reqs = append(reqs, bench.Request{RunID: runID, LevelID: lvID, EndpointID: epID, PromptIdx: i % 50,
				PromptID: fmt.Sprint(i % 50), Seq: &seq, Attempt: 1, Final: true, StartMS: float64(i),
				Measurement: bench.Measurement{Status: bench.StatusOK, StartedAt: time.Now(), ElapsedMS: e2e,
					E2EMS: &e2e, TTFTMS: &ttft, OutputTokens: &out}})
		}
	}
	if err := db.InsertRequests(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	return runID
}

// summaryTime is the least CPU time (user + system, of this process: SQLite runs in it) of
// three readings of what `tracker run` prints at its end: the run's summary and its
// paired-by-prompt counts. CPU time rather than wall time, so that neighbours on a loaded
// machine do not make the test flaky; on PostgreSQL the work is the server's, so wall time.
func summaryTime(t *testing.T, ctx context.Context, db *store.DB, runID int64) time.Duration {
	t.Helper()
	clock := cpuTime
	if db.Postgres() {
		clock = func(*testing.T) time.Duration { return time.Duration(time.Now().UnixNano()) }
	}
	best := time.Duration(1<<63 - 1)
	for range 3 {
		start := clock(t)
		if _, err := db.Summary(ctx, runID); err != nil {
			t.Fatal(err)
		}
		pairs, err := db.PairCounts(ctx, runID)
		if err != nil {
			t.Fatal(err)
		}
		if len(pairs) != 1 || pairs[0].N == 0 {
			t.Fatalf("pairs of run %d: %+v", runID, pairs)
		}
		best = min(best, clock(t)-start)
	}
	return best
}

// TestRunSummaryScalesLinearly guards against anything quadratic in the run summary: the
// summary of a 20,000-request run may take longer than a 2,000-request run's, by the linear
// extra work, not by seconds. (Not a benchmark: the bound is loose, the comparison is what
// matters; a self-join without an index takes tens of seconds here.)
func TestRunSummaryScalesLinearly(t *testing.T) { storetest.ForEach(t, testRunSummaryScalesLinearly) }

func testRunSummaryScalesLinearly(t *testing.T, b storetest.Backend) {
	ctx := context.Background()
	db := b.Open(t)
	small := scaleRun(t, ctx, db, 2_000)
	large := scaleRun(t, ctx, db, 20_000)
	ts, tl := summaryTime(t, ctx, db, small), summaryTime(t, ctx, db, large)
	t.Logf("summary of 2,000 requests %v, of 20,000 requests %v", ts, tl)
	// Linear work is 10x the small run's; quadratic, 100x. The bound is a few hundred ms, or 20x
	// the small run's time when everything runs slower (the race detector makes SQLite ~40x
	// slower, and linear then exceeds any fixed bound: 1.5 s vs 15.2 s measured).
	if extra := tl - ts; extra > max(700*time.Millisecond, 20*ts) {
		t.Errorf("the summary of a 20,000-request run took %v more than a 2,000-request run's (%v vs %v): something quadratic came back",
			extra, tl, ts)
	}
}

func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
