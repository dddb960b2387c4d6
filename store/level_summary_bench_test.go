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
	runID, err := db.CreateRun(ctx, bench.Run{Status: bench.RunCompleted, StartedAt: time.Now(), ToolVersion: "t",
		ConfigJSON: "{}", Dataset: "s", DatasetHash: "h", PromptSetHash: "p", Stream: true})
	if err != nil {
		b.Fatal(err)
	}
	epID, err := db.AddEndpoint(ctx, bench.Endpoint{RunID: runID, Name: "a", BaseURL: "http://x", Model: "m"})
	if err != nil {
		b.Fatal(err)
	}
	lvID, err := db.StartLevel(ctx, bench.Level{RunID: runID, EndpointID: epID, Concurrency: 128, StartedAt: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
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
