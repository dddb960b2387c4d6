package store_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/levelstat"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

// TestStoredReadIsTheFullRead: on both backends, StoredLevelStats gives every ended level's
// statistics as LevelStats computes them from its requests, and EachStored gives every measured
// request Each gives, in the same order (by seq), with the same values in the columns it reads.
func TestStoredReadIsTheFullRead(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		db := b.Open(t)
		ids := generateRuns(t, ctx, db, rand.New(rand.NewPCG(11, 12)))
		stored, err := db.StoredLevelStats(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != len(ids) {
			t.Fatalf("%d of %d ended levels have stored statistics", len(stored), len(ids))
		}
		sc := storedScanner(t, ctx, db)
		failures, unscored, clean := 0, 0, 0
		for _, id := range ids {
			computed, err := db.LevelStats(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := fmt.Sprintf("%v", roundStats(stored[id])), fmt.Sprintf("%v", roundStats(computed)); got != want {
				t.Errorf("level %d: stored %s, computed %s", id, got, want)
			}
			var all, some []bench.ReportRequest
			if err := sc.Each(ctx, id, func(r *bench.ReportRequest) error { all = append(all, *r); return nil }); err != nil {
				t.Fatal(err)
			}
			// As the report reads them: the scores only of a level whose stored figures have one,
			// the failures only of one whose stored figures count some.
			st := stored[id]
			if math.IsNaN(st.EM) && math.IsNaN(st.F1) {
				unscored++
			}
			if st.N == st.OK && st.ClientResource == 0 {
				clean++
			}
			if err := sc.EachStored(ctx, id, &st, func(r *bench.ReportRequest) error { some = append(some, *r); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(all) != len(some) {
				t.Fatalf("level %d: Each %d requests, EachStored %d", id, len(all), len(some))
			}
			for i := range all {
				want := storetest.StoredForm(all[i])
				if want.Status != bench.StatusOK {
					failures++
				}
				if fmt.Sprintf("%+v", want) != fmt.Sprintf("%+v", some[i]) {
					t.Fatalf("level %d request %d:\nEach       %+v\nEachStored %+v", id, i, want, some[i])
				}
			}
		}
		if failures == 0 {
			t.Fatal("no failure read: the failures' read is not tested")
		}
		if unscored == 0 || unscored == len(ids) {
			t.Fatalf("%d of %d levels unscored: both reads of the successes are not tested", unscored, len(ids))
		}
		if clean == 0 || clean == len(ids) {
			t.Fatalf("%d of %d levels without failures: reading and skipping the failures are not both tested", clean, len(ids))
		}
	})
}

// roundStats is s with its figures rounded to 12 significant digits: a stored mean may have
// been summed in another order than a recomputed one.
func roundStats(s levelstat.Stats) levelstat.Stats {
	r := func(x float64) float64 {
		if math.IsNaN(x) || math.IsInf(x, 0) || x == 0 {
			return x
		}
		e := math.Pow(10, 11-math.Floor(math.Log10(math.Abs(x))))
		return math.Round(x*e) / e
	}
	for m := range s.Latency {
		l := &s.Latency[m]
		l.Mean, l.P50, l.P90, l.P99 = r(l.Mean), r(l.P50), r(l.P90), r(l.P99)
	}
	s.OutputTokens, s.WindowMS, s.SendSpanMS, s.MeanReqTokS = r(s.OutputTokens), r(s.WindowMS), r(s.SendSpanMS), r(s.MeanReqTokS)
	s.EM, s.F1, s.MeanSendLagMS, s.MaxSendLagMS = r(s.EM), r(s.F1), r(s.MeanSendLagMS), r(s.MaxSendLagMS)
	return s
}

// TestStoredReadOfEdgeValues: EachStored gives every request Each gives, with the same values,
// where successes have cache hits (read as 1 or NULL) and edge values in their integer
// columns (NULL, negative, beyond 32 bits; the table is STRICT: no REAL or text in them).
func TestStoredReadOfEdgeValues(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	ids := generateRuns(t, ctx, db, rand.New(rand.NewPCG(21, 22)))
	stored, err := db.StoredLevelStats(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	edges := []string{
		"output_tokens = NULL", "input_tokens = -1", "output_tokens = 2147483648",
		"input_tokens = 2147483647, output_tokens = 2147483647, cached_tokens = 7", "seq = NULL",
		"seq = 2305843009213693952", "seq = -2305843009213693952, cached_tokens = 1",
		"input_tokens = 1099511627776", "seq = -2305843009213693953", "input_tokens = NULL, seq = NULL",
	}
	// The generated requests have no input tokens and no cache hits: give most some.
	if _, err := db.Query(ctx, `UPDATE requests SET input_tokens = id * 7 % 5000,
		cached_tokens = CASE WHEN id % 3 = 0 THEN id % 50 END WHERE id % 10 <> 0`); err != nil {
		t.Fatal(err)
	}
	changed := 0
	for i, id := range ids {
		set := edges[i%len(edges)]
		// The middle success of the level by (seq, id), the order of the read.
		_, err := db.Query(ctx, `UPDATE requests SET `+set+` WHERE id = (SELECT id FROM requests
			WHERE level_id = ? AND status = 'ok' AND warmup = 0 AND final = 1 ORDER BY seq, id
			LIMIT 1 OFFSET (SELECT COUNT(*) / 2 FROM requests WHERE level_id = ? AND status = 'ok' AND warmup = 0 AND final = 1))`, id, id)
		if err != nil {
			t.Fatal(err)
		}
		changed++
	}
	sc := storedScanner(t, ctx, db)
	compared := 0
	for _, id := range ids {
		var all, some []bench.ReportRequest
		if err := sc.Each(ctx, id, func(r *bench.ReportRequest) error { all = append(all, *r); return nil }); err != nil {
			t.Fatal(err)
		}
		st := stored[id]
		if err := sc.EachStored(ctx, id, &st, func(r *bench.ReportRequest) error { some = append(some, *r); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(all) != len(some) {
			t.Fatalf("level %d: Each %d requests, EachStored %d", id, len(all), len(some))
		}
		for i := range all {
			if want := storetest.StoredForm(all[i]); fmt.Sprintf("%+v", want) != fmt.Sprintf("%+v", some[i]) {
				t.Fatalf("level %d request %d:\nEach       %+v\nEachStored %+v", id, i, want, some[i])
			}
			compared++
		}
	}
	if changed == 0 || compared == 0 {
		t.Fatalf("%d levels changed, %d requests compared", changed, compared)
	}
}

// storedReader is the scanner's read of levels with stored statistics (EachStored).
type storedReader interface {
	bench.RequestScanner
	EachStored(context.Context, int64, *levelstat.Stats, func(*bench.ReportRequest) error) error
}

// storedScanner opens db's request scanner, closed with the test, as a storedReader.
func storedScanner(t *testing.T, ctx context.Context, db *store.DB) storedReader {
	t.Helper()
	sc, err := db.NewRequestScanner(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Close() })
	return sc.(storedReader)
}
