package store_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store/storetest"
)

// BenchmarkFinishLevel100k is the end of a level of 100,000 successful requests: its
// statistics computed from its rows (levelstat) and stored with its end, which is what a run
// does between its last response and its summary.
//
//	go test -run '^$' -bench FinishLevel100k -benchtime 3x ./store/
func BenchmarkFinishLevel100k(b *testing.B) {
	ctx := context.Background()
	db := storetest.Open(b)
	runID := storetest.Run(b, db, bench.Run{Status: bench.RunCompleted, Stream: true})
	epID := storetest.Endpoint(b, db, runID, "a")
	lvID := storetest.Level(b, db, bench.Level{RunID: runID, EndpointID: epID, Concurrency: 128})
	rng := rand.New(rand.NewPCG(1, 1))
	var reqs []bench.Request
	for i := range 100_000 {
		seq := i
		a, c, d := rng.Float64()*10, rng.Float64()*100, rng.Float64()
		out := 4
		r := bench.Request{RunID: runID, LevelID: lvID, EndpointID: epID, PromptID: "p", Seq: &seq, Attempt: 1, Final: true,
			StartMS: float64(i), Measurement: bench.Measurement{Status: bench.StatusOK, StartedAt: time.Now(), ElapsedMS: c}}
		r.TTFTMS, r.E2EMS, r.TPOTMS, r.OutputTokens = &a, &c, &d, &out
		reqs = append(reqs, r)
	}
	if err := db.InsertRequests(ctx, reqs); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := db.FinishLevel(ctx, bench.Level{ID: lvID, Status: bench.LevelCompleted, EndedAt: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
}
