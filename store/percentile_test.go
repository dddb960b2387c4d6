package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/levelstat"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

// percentileGroups are generated groups of values, nil standing for NULL: no value at all,
// only NULLs, one value, two, odd and even counts with NULLs and ties, integers, many values.
// Reals are multiples of 1/8, which JSON carries exactly.
func percentileGroups() [][]any {
	r := rand.New(rand.NewPCG(13, 47))
	real := func(n, nulls, distinct int) []any {
		g := make([]any, 0, n+nulls)
		for range n {
			g = append(g, float64(r.IntN(distinct))/8)
		}
		for range nulls {
			g = slices.Insert(g, r.IntN(len(g)+1), any(nil))
		}
		return g
	}
	ints := []any{int64(7), int64(-3), nil, int64(7), int64(12), int64(0), int64(5), int64(5), int64(100), int64(1)}
	return [][]any{
		{nil, nil}, real(1, 0, 100), real(1, 3, 100), real(2, 1, 100), real(7, 2, 1000),
		real(10, 2, 4), real(101, 10, 50), real(1000, 0, 1<<20), ints,
	}
}

// groupsJSON is the groups as a JSON array of [group, value] pairs, for json_each.
func groupsJSON(t *testing.T, groups [][]any) string {
	t.Helper()
	var pairs [][2]any
	for g, vs := range groups {
		for _, v := range vs {
			pairs = append(pairs, [2]any{g, v})
		}
	}
	b, err := json.Marshal(pairs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sortedValues is a group's non-NULL values, sorted, as float64.
func sortedValues(vs []any) []float64 {
	var out []float64
	for _, v := range vs {
		switch x := v.(type) {
		case float64:
			out = append(out, x)
		case int64:
			out = append(out, float64(x))
		}
	}
	slices.Sort(out)
	return out
}

// fromGroups reads the generated groups as a table t (g, y) in SQL.
const fromGroups = `WITH t AS (SELECT value ->> 0 AS g, value ->> 1 AS y FROM json_each(?)) `

// median(), percentile(), percentile_cont() and percentile_disc() in SQL give exactly what
// levelstat gives on the same values (the same code computes both): NULLs ignored, NULL for a
// group with no value, every count, ties, integers; through a read-only handle as well.
func TestPercentileFunctionsEqualLevelstat(t *testing.T) {
	ctx := context.Background()
	groups := percentileGroups()
	data := groupsJSON(t, groups)
	path := trackerFile(t, "p.db")
	ro, err := store.OpenReadOnly(ctx, path, storetest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	for _, c := range []struct {
		expr  string
		p     float64
		lower bool
	}{
		{"median(y)", 0.5, false},
		{"percentile(y, 0)", 0, false},
		{"percentile(y, 12.5)", 12.5 / 100, false},
		{"percentile(y, 50)", 50.0 / 100, false},
		{"percentile(y, 90)", 90.0 / 100, false},
		{"percentile(y, 99)", 99.0 / 100, false},
		{"percentile(y, 100)", 1, false},
		{"percentile_cont(y, 0.25)", 0.25, false},
		{"percentile_cont(y, 0.999)", 0.999, false},
		{"percentile_disc(y, 0)", 0, true},
		{"percentile_disc(y, 0.3)", 0.3, true},
		{"percentile_disc(y, 0.5)", 0.5, true},
		{"percentile_disc(y, 0.99)", 0.99, true},
		{"percentile_disc(y, 1)", 1, true},
	} {
		q := fromGroups + "SELECT g, " + c.expr + " AS v FROM t GROUP BY g ORDER BY g"
		rows := storetest.Rows(t, ro, q, data)
		if len(rows) != len(groups) {
			t.Fatalf("%s: %d groups, want %d", c.expr, len(rows), len(groups))
		}
		for g, row := range rows {
			xs := sortedValues(groups[g])
			want := levelstat.Percentile(xs, c.p)
			if c.lower {
				want = levelstat.PercentileLower(xs, c.p)
			}
			checkPercentile(t, fmt.Sprintf("%s over group %d (n %d)", c.expr, g, len(xs)), row["v"], want)
		}
	}
	// No row at all: NULL, as every aggregate but count.
	rows := storetest.Rows(t, ro, fromGroups+"SELECT median(y) AS v, percentile(y, 10) AS w FROM t WHERE g < 0", data)
	if len(rows) != 1 || rows[0]["v"] != nil || rows[0]["w"] != nil {
		t.Errorf("over no row: %v, want one row of NULLs", rows)
	}
}

// checkPercentile wants got, a driver value, to be exactly want (NaN: NULL); a real always,
// as SQLite's extension returns, integers in or not.
func checkPercentile(t *testing.T, what string, got any, want float64) {
	t.Helper()
	if math.IsNaN(want) {
		if got != nil {
			t.Errorf("%s = %v, want NULL", what, got)
		}
		return
	}
	if x, ok := got.(float64); !ok || x != want {
		t.Errorf("%s = %v (%T), want %v", what, got, got, want)
	}
}

// As SQLite's extension: P must be a number in range and the same on every row; Y must be a
// finite number or NULL. Each refusal names the function.
func TestPercentileFunctionsRefuse(t *testing.T) {
	db := storetest.Open(t)
	for _, c := range []struct{ query, fn string }{
		{"SELECT percentile(1, 101)", "percentile"},
		{"SELECT percentile(1, -0.5)", "percentile"},
		{"SELECT percentile(1, NULL)", "percentile"},
		{"SELECT percentile(1, x'32')", "percentile"},
		{"SELECT percentile(NULL, 'half')", "percentile"},
		{"SELECT percentile_cont(1, 1.5)", "percentile_cont"},
		{"SELECT percentile_cont(1, 50)", "percentile_cont"},
		{"SELECT percentile_disc(1, -1)", "percentile_disc"},
		{"SELECT percentile(column1, column2) FROM (VALUES (1, 50), (2, 60))", "percentile"},
		{"SELECT percentile_cont(column1, column2) FROM (VALUES (1, 0.5), (NULL, 0.502))", "percentile_cont"},
		{"SELECT median('12')", "median"},
		{"SELECT median(x'00')", "median"},
		{"SELECT median(9e999)", "median"},
		{"SELECT percentile_disc(-9e999, 0.5)", "percentile_disc"},
	} {
		_, err := db.Query(context.Background(), c.query)
		if err == nil || !strings.Contains(err.Error(), c.fn+"()") {
			t.Errorf("%s: error %v, want one naming %s()", c.query, err, c.fn)
		}
	}
	// Accepted: P within 0.001 of the first row's, P as text that reads as a number, the bounds.
	for q, want := range map[string]float64{
		"SELECT percentile(column1, column2) FROM (VALUES (1, 50), (2, 50.0009), (3, 49.9991))": 2,
		"SELECT percentile(column1, ' 25 ') FROM (VALUES (1), (5))":                             2,
		"SELECT percentile_cont(column1, 1) FROM (VALUES (1), (5))":                             5,
		"SELECT percentile_disc(column1, 0) FROM (VALUES (3), (5))":                             3,
		"SELECT median(column1) FROM (VALUES (1), (2), (4), (NULL))":                            2,
	} {
		rows := storetest.Rows(t, db, q)
		checkPercentile(t, q, rows[0][firstColumn(rows[0])], want)
	}
}

func firstColumn(row map[string]any) string {
	for k := range row {
		return k
	}
	return ""
}

// As window functions: frames that slide (rows leave through the inverse), frames that only
// grow, partitions; each value is levelstat's over the frame's values.
func TestPercentileWindowFunctions(t *testing.T) {
	db := storetest.Open(t)
	r := rand.New(rand.NewPCG(3, 5))
	ys := make([]any, 80)
	for i := range ys {
		if r.IntN(6) > 0 {
			ys[i] = float64(r.IntN(12)) / 8 // ties, often
		}
	}
	b, _ := json.Marshal(ys)
	from := `WITH t AS (SELECT key AS i, value AS y FROM json_each(?)) `
	for _, c := range []struct {
		expr  string
		p     float64
		lower bool
		frame func(i int) (lo, hi int) // the frame of row i, [lo, hi)
	}{
		{"median(y) OVER (ORDER BY i ROWS BETWEEN 3 PRECEDING AND 1 FOLLOWING)", 0.5, false,
			func(i int) (int, int) { return max(i-3, 0), min(i+2, len(ys)) }},
		{"percentile(y, 90) OVER (ORDER BY i ROWS BETWEEN 10 PRECEDING AND CURRENT ROW)", 0.9, false,
			func(i int) (int, int) { return max(i-10, 0), i + 1 }},
		{"percentile_disc(y, 0.3) OVER (ORDER BY i)", 0.3, true,
			func(i int) (int, int) { return 0, i + 1 }},
		{"percentile_cont(y, 0.75) OVER (ORDER BY i ROWS BETWEEN 5 FOLLOWING AND UNBOUNDED FOLLOWING)", 0.75, false,
			func(i int) (int, int) { return min(i+5, len(ys)), len(ys) }},
		{"median(y) OVER ()", 0.5, false,
			func(int) (int, int) { return 0, len(ys) }},
	} {
		rows := storetest.Rows(t, db, from+"SELECT i, "+c.expr+" AS v FROM t ORDER BY i", string(b))
		for i, row := range rows {
			lo, hi := c.frame(i)
			xs := sortedValues(ys[lo:hi])
			want := levelstat.Percentile(xs, c.p)
			if c.lower {
				want = levelstat.PercentileLower(xs, c.p)
			}
			checkPercentile(t, fmt.Sprintf("%s at row %d", c.expr, i), row["v"], want)
		}
	}
}

// Over tracker's own view: the median TTFT of each level's ok requests in SQL is the p50 that
// tracker computed in Go and stored for the level when it ended. PostgreSQL has median() too
// (schema_pg.sql: percentile_cont(0.5) over the group), so the recipe runs on both.
func TestMedianEqualsStoredP50(t *testing.T) { storetest.ForEach(t, testMedianEqualsStoredP50) }

func testMedianEqualsStoredP50(t *testing.T, b storetest.Backend) {
	ctx := context.Background()
	db := b.Open(t)
	run := storetest.Run(t, db, bench.Run{Label: "m", Host: "h"})
	ep := storetest.Endpoint(t, db, run, "e")
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 9, 40} {
		lv := bench.Level{RunID: run, EndpointID: ep, Concurrency: n}
		lv.ID = storetest.Level(t, db, lv)
		w := db.NewWriter(store.WriterOptions{})
		for i := range n {
			ttft := float64(r.IntN(500)) / 4
			w.Add(bench.Request{RunID: run, LevelID: lv.ID, EndpointID: ep, Seq: &i, Final: true, PromptID: "p",
				Measurement: bench.Measurement{StartedAt: time.Now(), Status: bench.StatusOK, TTFTMS: &ttft, E2EMS: &ttft}})
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		lv.Status = bench.LevelCompleted
		if err := db.FinishLevel(ctx, lv); err != nil {
			t.Fatal(err)
		}
	}
	rows := storetest.Rows(t, db, `SELECT v.level_id, median(v.ttft_ms) AS m, s.p50_ttft_ms AS p50
		FROM v_requests v JOIN level_summary s ON s.level_id = v.level_id
		WHERE v.status = 'ok' GROUP BY v.level_id, s.p50_ttft_ms`)
	if len(rows) != 4 {
		t.Fatalf("%d levels, want 4", len(rows))
	}
	for _, row := range rows {
		if row["m"] != row["p50"] {
			t.Errorf("level %v: median(ttft_ms) %v, stored p50 %v", row["level_id"], row["m"], row["p50"])
		}
	}
}

// The analysts' per-endpoint median by concurrency reads levels in the order of
// levels_by_endpoint and each level's requests by index: no sort of the requests (issue 13).
func TestPerEndpointMedianNeedsNoSort(t *testing.T) {
	db := storetest.Open(t)
	rows := storetest.Rows(t, db, `EXPLAIN QUERY PLAN SELECT endpoint, concurrency, median(ttft_ms)
		FROM v_requests WHERE status = 'ok' GROUP BY endpoint, concurrency`)
	var plan []string
	for _, r := range rows {
		plan = append(plan, fmt.Sprint(r["detail"]))
	}
	text := strings.Join(plan, "; ")
	if strings.Contains(text, "TEMP B-TREE") || !strings.Contains(text, "levels_by_endpoint") ||
		!strings.Contains(text, "requests_by_level") {
		t.Errorf("plan: %s; want levels by levels_by_endpoint, requests by requests_by_level, no temp B-tree", text)
	}
}
