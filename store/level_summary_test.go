package store_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

// genLevel is one generated level: how many request records, and what kinds they may be.
type genLevel struct {
	n        int
	openLoop bool
}

// generateRuns records runs of random levels through the store's API (each level finished
// by FinishLevel, which stores its summary): with and without SLOs, open and closed loops,
// n = 1, odd and even n, levels with no outcome at all, NULL latencies, errors, timeouts,
// truncated answers, canceled requests, client-resource failures, warm-ups, retried attempts,
// relayed streams, scored answers. It returns the level ids.
func generateRuns(t *testing.T, ctx context.Context, db *store.DB, rng *rand.Rand) []int64 {
	t.Helper()
	slos := []bench.SLO{{}, {TTFTMS: ptrF(60), TPOTMS: ptrF(8), E2EMS: ptrF(900)}, {E2EMS: ptrF(500)}, {TPOTMS: ptrF(5)}}
	sizes := []genLevel{{n: 1}, {n: 2}, {n: 3}, {n: 4, openLoop: true}, {n: 7}, {n: 100}, {n: 101, openLoop: true}, {n: 250}, {n: 0}}
	var ids []int64
	for r, slo := range slos {
		runID := storetest.Run(t, db, bench.Run{Status: bench.RunCompleted, Stream: true, SLO: slo})
		epID := storetest.Endpoint(t, db, runID, fmt.Sprint("ep", r))
		for i, g := range sizes {
			lv := bench.Level{RunID: runID, EndpointID: epID, Concurrency: 1 + i}
			if g.openLoop {
				lv.Rate = 5
			}
			lvID := storetest.Level(t, db, lv)
			reqs := generateRequests(rng, runID, lvID, epID, g)
			if g.n == 0 { // only canceled requests and client failures: no outcome, n = 0
				reqs = append(generateRequests(rng, runID, lvID, epID, genLevel{n: 3}), reqs...)
				for k := range reqs {
					reqs[k].Status, reqs[k].ErrorClass = bench.StatusCanceled, "canceled"
				}
			}
			if err := db.InsertRequests(ctx, reqs); err != nil {
				t.Fatal(err)
			}
			if err := db.FinishLevel(ctx, bench.Level{ID: lvID, Status: bench.LevelCompleted, EndedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, lvID)
		}
	}
	return ids
}

func ptrF(x float64) *float64 { return &x }

// maybe returns a pointer to x, or nil one time in k.
func maybe(rng *rand.Rand, k int, x float64) *float64 {
	if rng.IntN(k) == 0 {
		return nil
	}
	return &x
}

// generateRequests makes g.n measured requests of random kinds, plus warm-ups and superseded
// attempts that no statistic may count.
func generateRequests(rng *rand.Rand, runID, lvID, epID int64, g genLevel) []bench.Request {
	statuses := []bench.RequestStatus{bench.StatusOK, bench.StatusOK, bench.StatusOK, bench.StatusOK, bench.StatusError,
		bench.StatusTimeout, bench.StatusTruncated, bench.StatusCanceled, bench.StatusError}
	var out []bench.Request
	for i := range g.n {
		seq := i
		r := bench.Request{RunID: runID, LevelID: lvID, EndpointID: epID, PromptID: "p", Seq: &seq, Attempt: 1,
			Final: true, StartMS: rng.Float64() * 1000, Measurement: bench.Measurement{
				Status: statuses[rng.IntN(len(statuses))], StartedAt: time.Now(), ElapsedMS: rng.Float64() * 2000}}
		if r.Status == bench.StatusError {
			r.ErrorClass = []bench.ErrorClass{"http_500", bench.ClassClientResource}[rng.IntN(2)]
		}
		if g.openLoop {
			r.ScheduledMS = ptrF(r.StartMS - rng.Float64()*50 + 5)
		}
		// Latencies are set (or not) whatever the status: only ok ones may count.
		r.TTFTMS, r.E2EMS, r.TPOTMS = maybe(rng, 6, 20+rng.Float64()*80), maybe(rng, 8, 100+rng.Float64()*900), maybe(rng, 5, rng.Float64()*10)
		if rng.IntN(4) > 0 {
			n := rng.IntN(300)
			r.OutputTokens = &n
		}
		r.EM, r.F1 = maybe(rng, 3, float64(rng.IntN(2))), maybe(rng, 3, rng.Float64())
		r.RelayFlag = rng.IntN(5) == 0
		out = append(out, r)
		if rng.IntN(10) == 0 { // a superseded attempt and a warm-up: in no statistic
			old := r
			old.Final, old.Status, old.E2EMS = false, bench.StatusOK, ptrF(1e6)
			warm := r
			warm.Warmup, warm.Seq, warm.Status, warm.E2EMS = true, nil, bench.StatusOK, ptrF(1e6)
			out = append(out, old, warm)
		}
	}
	return out
}

// levelFigures reads one row per level of a table or view with level_summary's columns.
func levelFigures(t *testing.T, ctx context.Context, db *store.DB, from string) map[int64][]any {
	t.Helper()
	tab, err := db.Query(ctx, `SELECT `+store.LevelSummaryColumns+` FROM `+from)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64][]any{}
	for _, row := range tab.Rows {
		out[row[0].(int64)] = row
	}
	return out
}

// TestLevelSummaryEqualsSQL proves the one Go implementation of the level statistics
// (levelstat, stored in level_summary when a level ends) equal to their SQL form (the
// v_level_stats view) on generated data, field by field within 1e-9.
func TestLevelSummaryEqualsSQL(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	ids := generateRuns(t, ctx, db, rand.New(rand.NewPCG(13, 15)))
	goRows := levelFigures(t, ctx, db, "level_summary")
	sqlRows := levelFigures(t, ctx, db, "v_level_stats")
	cols := splitColumns(store.LevelSummaryColumns)
	for _, id := range ids {
		g, s := goRows[id], sqlRows[id]
		if g == nil || s == nil {
			t.Errorf("level %d: Go row %v, SQL row %v", id, g, s)
			continue
		}
		for i, col := range cols {
			if !sameFigure(g[i], s[i]) {
				t.Errorf("level %d %s: Go %v, SQL %v", id, col, g[i], s[i])
			}
		}
	}
}

// sameFigure compares two column values: both NULL, or numbers within 1e-9 (relative above 1).
func sameFigure(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	x, y := toFloat(a), toFloat(b)
	return math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(y))
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}

func splitColumns(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		out = append(out, strings.TrimSpace(f))
	}
	return out
}

// v_summary reads an ended level's stored row and no request of it: changing every request
// afterwards changes nothing in it, and its plan reaches requests only through a level id
// (the levels still running), never by scanning the table.
func TestSummaryReadsStoredLevels(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	generateRuns(t, ctx, db, rand.New(rand.NewPCG(1, 2)))
	const q = `SELECT * FROM v_summary ORDER BY level_id`
	before, err := db.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Query(ctx, `UPDATE requests SET e2e_ms = 1, ttft_ms = 1, status = 'ok'`); err != nil {
		t.Fatal(err)
	}
	after, err := db.Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(before.Rows) != fmt.Sprint(after.Rows) || len(before.Rows) == 0 {
		t.Errorf("v_summary of ended levels changed with their requests (%d rows)", len(before.Rows))
	}
	plan, err := db.Query(ctx, `EXPLAIN QUERY PLAN `+q)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range plan.Rows {
		if d := fmt.Sprint(row[len(row)-1]); d == "SCAN r" || strings.HasPrefix(d, "SCAN r ") {
			t.Errorf("v_summary scans the requests: %s", d)
		}
	}
}

// A database written before level_summary existed gets a row for each of its ended levels when
// it is first opened for writing (migration 9), equal to v_level_stats; a level still running
// gets none (v_summary computes it).
func TestMigrationSummarizesEndedLevels(t *testing.T) {
	ctx := context.Background()
	full := storetest.Schema(t)
	cut := strings.Index(full, "-- migration: 9")
	views := strings.Index(full, "\n-- views\n")
	if cut < 0 || views < cut {
		t.Fatal("schema.sql: no migration 9 before the views")
	}
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := store.Open(ctx, path, full[:cut]+full[views:])
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 9))
	// The run row as an older tracker wrote it: CreateRun would also write runs.uuid, a column
	// of a later migration than this file's.
	tb, err := old.Query(ctx, `INSERT INTO runs (status, started_at, tool_version, host, config_json, dataset, dataset_hash,
		prompt_set_hash, seed, stream) VALUES ('completed', ?, 'old', '', '{}', 'synthetic', 'h', 'p', 0, 1) RETURNING id`,
		time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		t.Fatal(err)
	}
	runID := tb.Rows[0][0].(int64)
	epID, err := old.AddEndpoint(ctx, bench.Endpoint{RunID: runID, Name: "a", BaseURL: "http://127.0.0.1", Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for c := range 2 {
		// As an older tracker wrote it too (StartLevel writes levels.endpoint_name, migration 11).
		tb, err := old.Query(ctx, `INSERT INTO levels (run_id, endpoint_id, concurrency, status, started_at)
			VALUES (?, ?, ?, 'running', ?) RETURNING id`, runID, epID, 1+c, time.Now().UTC().Format(time.RFC3339Nano))
		if err != nil {
			t.Fatal(err)
		}
		lvID := tb.Rows[0][0].(int64)
		if err := old.InsertRequests(ctx, generateRequests(rng, runID, lvID, epID, genLevel{n: 50})); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, lvID)
	}
	// The first level ended (an old tracker's FinishLevel), the second is still running.
	if _, err := old.Query(ctx, `UPDATE levels SET status = 'completed' WHERE id = ?`, ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	db := storetest.OpenAt(t, path)
	goRows, sqlRows := levelFigures(t, ctx, db, "level_summary"), levelFigures(t, ctx, db, "v_level_stats")
	if len(goRows) != 1 || goRows[ids[0]] == nil {
		t.Fatalf("after the migration, level_summary holds %d rows, want the ended level %d's", len(goRows), ids[0])
	}
	for i, col := range splitColumns(store.LevelSummaryColumns) {
		if g, s := goRows[ids[0]][i], sqlRows[ids[0]][i]; !sameFigure(g, s) {
			t.Errorf("%s: stored %v, SQL %v", col, g, s)
		}
	}
	// Migration 11 gave the older levels their endpoint's name.
	if rows := storetest.Rows(t, db, `SELECT DISTINCT endpoint_name FROM levels`); len(rows) != 1 || rows[0]["endpoint_name"] != "a" {
		t.Errorf("levels.endpoint_name after the migration: %v, want a", rows)
	}
	if rows, err := db.Summary(ctx, runID); err != nil || len(rows) != 2 {
		t.Errorf("v_summary of the run: %d rows (%v), want both levels", len(rows), err)
	}
}
