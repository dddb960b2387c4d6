package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

// resumeBenchDB is an interrupted run of 1,000,000 requests (two endpoints, one level each, the
// last 1,000 of each level canceled), built once and cached in os.TempDir().
func resumeBenchDB(b *testing.B) (string, int64) {
	b.Helper()
	path := filepath.Join(os.TempDir(), "tracker-resume-bench-v1.db")
	if _, err := os.Stat(path); err == nil {
		return path, 1
	}
	ctx := context.Background()
	tmp := path + ".building"
	os.Remove(tmp)
	db, err := store.Open(ctx, tmp, storetest.Schema(b))
	if err != nil {
		b.Fatal(err)
	}
	runID := storetest.Run(b, db, bench.Run{Status: bench.RunInterrupted, ToolVersion: "bench", Stream: true})
	const perLevel, batch = 500_000, 10_000
	for _, name := range []string{"alpha", "beta"} {
		epID := storetest.Endpoint(b, db, runID, name)
		lvID := storetest.Level(b, db, bench.Level{RunID: runID, EndpointID: epID, Concurrency: 128})
		reqs := make([]bench.Request, 0, batch)
		for i := range perLevel {
			seq, e2e, out := i, float64(100+i%50), 4
			st := bench.StatusOK
			if i >= perLevel-1000 {
				st = bench.StatusCanceled
			}
			reqs = append(reqs, bench.Request{RunID: runID, LevelID: lvID, EndpointID: epID, PromptIdx: i % 100,
				PromptID: fmt.Sprint(i % 100), Seq: &seq, Attempt: 1, Final: true, StartMS: float64(i),
				Measurement: bench.Measurement{Status: st, StartedAt: time.Now(), ElapsedMS: e2e, E2EMS: &e2e,
					TTFTMS: &e2e, OutputTokens: &out}})
			if len(reqs) == batch {
				if err := db.InsertRequests(ctx, reqs); err != nil {
					b.Fatal(err)
				}
				reqs = reqs[:0]
			}
		}
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path, runID
}

// BenchmarkResumePlan1M is the time `tracker run --resume` takes to work out what is missing
// from an interrupted run of 1,000,000 requests: every level's state and completed seqs
// (LevelStates), then reopening the run (its canceled requests stop being final).
//
//	go test -run '^$' -bench ResumePlan1M -benchtime 1x ./store/
func BenchmarkResumePlan1M(b *testing.B) {
	cached, runID := resumeBenchDB(b)
	ctx := context.Background()
	var states, reopen time.Duration
	for b.Loop() { // ns/op includes copying the cached database; the metrics do not
		path := filepath.Join(b.TempDir(), "copy.db")
		data, err := os.ReadFile(cached)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			b.Fatal(err)
		}
		db, err := store.Open(ctx, path, storetest.Schema(b))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		ls, err := db.LevelStates(ctx, runID)
		if err != nil {
			b.Fatal(err)
		}
		states = time.Since(start)
		if len(ls) != 2 || ls[0].Done.Len() != 499_000 {
			b.Fatalf("%d levels, %d done in the first", len(ls), ls[0].Done.Len())
		}
		if err := db.ReopenRun(ctx, runID, bench.Lease{Owner: "bench", Until: time.Now().Add(time.Minute)}, func(string) bool { return true }); err != nil {
			b.Fatal(err)
		}
		reopen = time.Since(start) - states
		db.Close()
	}
	b.ReportMetric(states.Seconds(), "level-states-s")
	b.ReportMetric(reopen.Seconds(), "reopen-s")
	b.ReportMetric((states + reopen).Seconds(), "to-resume-s")
}
