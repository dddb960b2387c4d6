package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

// mergeSource writes a source file of one completed run of n requests over 10 levels of one
// endpoint, each request as `tracker run` records it (a 300-byte answer, 64 inter-token gaps).
func mergeSource(b *testing.B, path string, n int) {
	b.Helper()
	ctx := context.Background()
	db := storetest.OpenAt(b, path)
	runID := storetest.Run(b, db, bench.Run{Status: bench.RunCompleted, Stream: true})
	ep := storetest.Endpoint(b, db, runID, "e")
	itl := make([]float64, 64)
	for i := range itl {
		itl[i] = 12.5 + float64(i%7)
	}
	text := strings.Repeat("answer ", 43)
	const levels = 10
	for l := range levels {
		lv := storetest.Level(b, db, bench.Level{RunID: runID, EndpointID: ep, Concurrency: 1 << l})
		reqs := make([]bench.Request, 0, n/levels)
		for i := range n / levels {
			seq, e2e, ttft, out := i, float64(100+i%50), float64(10+i%9), 64
			reqs = append(reqs, bench.Request{RunID: runID, LevelID: lv, EndpointID: ep, PromptIdx: i % 100, PromptID: fmt.Sprint(i % 100),
				Seq: &seq, Attempt: 1, Final: true, StartMS: float64(i),
				Measurement: bench.Measurement{Status: bench.StatusOK, StartedAt: time.Now(), ElapsedMS: e2e, E2EMS: &e2e, TTFTMS: &ttft,
					OutputTokens: &out, ITLMS: itl, ResponseText: text, UsageJSON: `{"completion_tokens":64}`}})
		}
		if err := db.InsertRequests(ctx, reqs); err != nil {
			b.Fatal(err)
		}
		if err := db.FinishLevel(ctx, bench.Level{ID: lv, Status: bench.LevelCompleted, EndedAt: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
	db.Close()
}

// BenchmarkMerge100k merges a source of one 100,000-request run into an empty target
// (add), and into a target that already holds it (unchanged: both copies compared).
func BenchmarkMerge100k(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	src := filepath.Join(dir, "src.db")
	mergeSource(b, src, n)
	ctx := context.Background()
	for _, again := range []bool{false, true} {
		name := map[bool]string{false: "add", true: "unchanged"}[again]
		b.Run(name, func(b *testing.B) {
			var elapsed time.Duration
			for i := range b.N {
				b.StopTimer()
				team := storetest.OpenAt(b, filepath.Join(b.TempDir(), fmt.Sprint("team", i, ".db")))
				source, err := store.OpenReadOnly(ctx, src, storetest.Schema(b))
				if err != nil {
					b.Fatal(err)
				}
				if again {
					if _, err := team.MergeFrom(ctx, source, store.MergeOptions{}); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				start := time.Now()
				got, err := team.MergeFrom(ctx, source, store.MergeOptions{})
				elapsed += time.Since(start)
				b.StopTimer()
				want := map[bool]store.MergeAction{false: store.MergeAdded, true: store.MergeUnchanged}[again]
				if err != nil || len(got) != 1 || got[0].Action != want {
					b.Fatalf("%+v %v", got, err)
				}
				source.Close()
				team.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/elapsed.Seconds(), "requests/s")
		})
	}
}
