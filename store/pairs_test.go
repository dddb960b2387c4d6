package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

// TestPairCounts checks the pairing against counts made by hand: only final, measured,
// successful requests pair, by seq within the same load and trial, each pair of endpoints once.
func TestPairCounts(t *testing.T) { storetest.ForEach(t, testPairCounts) }

func testPairCounts(t *testing.T, b storetest.Backend) {
	ctx := context.Background()
	db := b.Open(t)
	runID := storetest.Run(t, db, bench.Run{})
	type rec struct {
		seq      int
		e2e      float64
		status   bench.RequestStatus
		warmup   bool
		nonFinal bool
	}
	byEndpoint := map[string][]rec{
		"a": {{seq: 0, e2e: 10}, {seq: 1, e2e: 30}, {seq: 2, e2e: 10}, {seq: 3, e2e: 5, status: bench.StatusError},
			{seq: 0, e2e: 1, warmup: true}},
		"b": {{seq: 0, e2e: 20}, {seq: 1, e2e: 20}, {seq: 2, e2e: 10}, {seq: 3, e2e: 9},
			{seq: 1, e2e: 1, status: bench.StatusError, nonFinal: true}},
		"c": {{seq: 5, e2e: 1}},
	}
	for _, name := range []string{"a", "b", "c"} {
		epID := storetest.Endpoint(t, db, runID, name)
		lvID := storetest.Level(t, db, bench.Level{RunID: runID, EndpointID: epID, Concurrency: 2})
		var reqs []bench.Request
		for _, r := range byEndpoint[name] {
			seq, e2e := r.seq, r.e2e
			st := r.status
			if st == "" {
				st = bench.StatusOK
			}
			reqs = append(reqs, bench.Request{RunID: runID, LevelID: lvID, EndpointID: epID, PromptID: "p", Seq: &seq,
				Warmup: r.warmup, Attempt: 1, Final: !r.nonFinal, Measurement: bench.Measurement{Status: st,
					StartedAt: time.Now(), E2EMS: &e2e}})
		}
		if err := db.InsertRequests(ctx, reqs); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.PairCounts(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	// a–b: seqs 0, 1, 2 pair (3 failed on a): a faster on 0, b on 1, a tie on 2. a–c and b–c share no seq.
	want := store.PairCount{Concurrency: 2, Trial: 1, A: "a", B: "b", N: 3, AFaster: 1, BFaster: 1}
	if len(got) != 1 || got[0] != want {
		t.Errorf("PairCounts = %+v, want [%+v]", got, want)
	}
}
