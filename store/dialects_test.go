package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

// Both schema files carry the same migration numbers.
func TestSchemasSameVersion(t *testing.T) {
	lite, err := store.ParseSchema(storetest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	pg, err := store.ParseSchema(store.PostgresSchema)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite.Migrations) != len(pg.Migrations) {
		t.Errorf("schema.sql is at migration %d, store/schema_pg.sql at %d: port the new blocks", len(lite.Migrations), len(pg.Migrations))
	}
}

// column is one column of a table or view as the database describes it.
type column struct{ name, kind string }

// typeClass maps a declared type to what it stores: integer, real or text (a view column's
// type in SQLite is its expression's, often none: "" matches anything).
func typeClass(decl string) string {
	d := strings.ToLower(decl)
	switch {
	case strings.Contains(d, "int"):
		return "integer"
	case strings.Contains(d, "real") || strings.Contains(d, "double") || strings.Contains(d, "float") || strings.Contains(d, "numeric"):
		return "real"
	case strings.Contains(d, "text") || strings.Contains(d, "char"):
		return "text"
	}
	return ""
}

// sqliteObjects lists every table and view (kind "table" or "view") with its columns.
func sqliteObjects(t *testing.T, db *store.DB) map[string][]column {
	t.Helper()
	tb, err := db.Query(context.Background(), `SELECT m.type || ' ' || m.name, c.name, c.type FROM sqlite_master m
		JOIN pragma_table_info(m.name) c WHERE m.type IN ('table', 'view') ORDER BY m.name, c.cid`)
	if err != nil {
		t.Fatal(err)
	}
	return columnsOf(tb)
}

// postgresObjects lists the tables and views of the current schema (tracker_schema, the
// version's home, aside) with their columns.
func postgresObjects(t *testing.T, db *store.DB) map[string][]column {
	t.Helper()
	tb, err := db.Query(context.Background(), `SELECT CASE t.table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END || ' ' || c.table_name,
		c.column_name, c.data_type
		FROM information_schema.columns c JOIN information_schema.tables t
		  ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND c.table_name <> 'tracker_schema'
		ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	return columnsOf(tb)
}

func columnsOf(tb *store.Table) map[string][]column {
	out := map[string][]column{}
	for _, r := range tb.Rows {
		obj := fmt.Sprint(r[0])
		out[obj] = append(out[obj], column{fmt.Sprint(r[1]), typeClass(fmt.Sprint(r[2]))})
	}
	return out
}

// Both dialects have the same tables and views, with the same columns in the same order, of
// the same kind of type.
func TestSchemasSameTablesAndViews(t *testing.T) {
	lite := sqliteObjects(t, storetest.SQLite.Open(t))
	pg := postgresObjects(t, storetest.Postgres.Open(t))
	names := func(m map[string][]column) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	if a, b := names(lite), names(pg); !slices.Equal(a, b) {
		t.Errorf("objects differ:\n sqlite   %v\n postgres %v", a, b)
	}
	for obj, lc := range lite {
		pc := pg[obj]
		if len(lc) != len(pc) {
			t.Errorf("%s: %d columns in SQLite, %d in PostgreSQL:\n %v\n %v", obj, len(lc), len(pc), lc, pc)
			continue
		}
		for i := range lc {
			if lc[i].name != pc[i].name {
				t.Errorf("%s column %d: %q in SQLite, %q in PostgreSQL", obj, i+1, lc[i].name, pc[i].name)
			}
			if lc[i].kind != "" && pc[i].kind != "" && lc[i].kind != pc[i].kind {
				t.Errorf("%s.%s: %s in SQLite, %s in PostgreSQL", obj, lc[i].name, lc[i].kind, pc[i].kind)
			}
		}
	}
	if !strings.HasPrefix(fmt.Sprint(names(lite)), "[table endpoints") || len(lite) < 12 {
		t.Errorf("the listing found too little: %v", names(lite))
	}
}

// mixedRun records the same deterministic run whatever the database: two endpoints, open and
// closed loops, an SLO, failures, timeouts, cancellations, client-resource failures, retries,
// warm-ups, relayed streams, SQuAD scores, server timings and server metrics.
func mixedRun(t *testing.T, db *store.DB) int64 {
	t.Helper()
	ctx := context.Background()
	start := time.Date(2026, 11, 29, 12, 0, 0, 123456789, time.UTC)
	slo := 180.0
	runID, err := db.CreateRun(ctx, bench.Run{Label: "mixed", UUID: "0b1c2d3e-0000-4000-8000-000000000001", Status: bench.RunCompleted, StartedAt: start, ToolVersion: "t",
		Host: "h", ConfigJSON: "{}", Dataset: "d", DatasetHash: "h", PromptSetHash: "p", Seed: 7, Stream: true,
		SLO: bench.SLO{TTFTMS: &slo}})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, name := range []string{"alpha", "beta"} {
		ep, err := db.AddEndpoint(ctx, bench.Endpoint{RunID: runID, Name: name, BaseURL: "http://127.0.0.1/v1", Model: "m"})
		if err != nil {
			t.Fatal(err)
		}
		for li, load := range []struct {
			conc int
			rate float64
		}{{1, 0}, {8, 0}, {4, 12.5}} {
			lv, err := db.StartLevel(ctx, bench.Level{RunID: runID, EndpointID: ep, Concurrency: load.conc, Rate: load.rate,
				StartedAt: start.Add(time.Duration(li) * time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.InsertRequests(ctx, mixedRequests(rng, runID, ep, lv, load.rate > 0)); err != nil {
				t.Fatal(err)
			}
			addMixedMetrics(t, db, ep, lv)
			// Ended after its requests are recorded, as the runner ends a level.
			if err := db.FinishLevel(ctx, bench.Level{ID: lv, Status: "completed", EndedAt: start.Add(time.Hour), LagFlag: li == 2, StopReason: "done"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return runID
}

func mixedRequests(rng *rand.Rand, runID, ep, lv int64, open bool) []bench.Request {
	var out []bench.Request
	for i := range 97 {
		seq := i
		e2e, ttft, tpot := 50+rng.Float64()*300, 5+rng.Float64()*200, rng.Float64()*20
		in, outTok, cached := 100+rng.IntN(50), rng.IntN(200), rng.IntN(3)
		em, f1 := float64(rng.IntN(2)), rng.Float64()
		r := bench.Request{RunID: runID, LevelID: lv, EndpointID: ep, PromptIdx: i % 13, PromptID: fmt.Sprint("p", i%13),
			Seq: &seq, Attempt: 1, Final: true, StartMS: float64(i) * 11.5, EM: &em, F1: &f1,
			Measurement: bench.Measurement{Status: bench.StatusOK, StartedAt: time.Unix(1_800_000_000, int64(i)*1e6).UTC(),
				ElapsedMS: e2e, E2EMS: &e2e, TTFTMS: &ttft, TPOTMS: &tpot, InputTokens: &in, OutputTokens: &outTok,
				CachedTokens: &cached, RelayFlag: i%5 == 0, ITLMS: []float64{1.5, 2.25}}}
		if open {
			sched := float64(i)*10 - rng.Float64()
			r.ScheduledMS = &sched
		}
		if i%7 == 0 {
			se2e := e2e * 0.8
			r.ServerE2EMS, r.ServerJSON = &se2e, fmt.Sprintf(`{"completion_tokens_after_first_per_sec": %.3f}`, rng.Float64()*100)
		}
		switch {
		case i == 3:
			r.OutputTokens = nil
		case i%17 == 1:
			r.Status, r.ErrorClass, r.E2EMS, r.TTFTMS, r.TPOTMS = bench.StatusError, "http_500", nil, nil, nil
		case i%19 == 2:
			r.Status, r.E2EMS = bench.StatusTimeout, nil
		case i%23 == 4:
			r.Status = bench.StatusCanceled
		case i%29 == 5:
			r.Status, r.ErrorClass = bench.StatusError, bench.ClassClientResource
		}
		out = append(out, r)
		if i%31 == 6 { // a retry: the first attempt failed, is not final
			first := r
			first.Final, first.Status, first.ErrorClass, first.StartMS = false, bench.StatusError, "http_503", r.StartMS-40
			r.Attempt = 2
			out[len(out)-1] = first
			out = append(out, r)
		}
		if i < 2 {
			w := r
			w.Warmup, w.Seq = true, nil
			out = append(out, w)
		}
	}
	return out
}

func addMixedMetrics(t *testing.T, db *store.DB, ep, lv int64) {
	t.Helper()
	var s []bench.ServerSample
	for k := range 6 {
		phase := bench.PhaseMeasure
		if k == 5 {
			phase = bench.PhasePause
		}
		tms := int64(k * 1000)
		s = append(s,
			bench.ServerSample{LevelID: lv, EndpointID: ep, TMS: tms, Phase: phase, Family: "running", Name: "running", Labels: `{"model":"m"}`, Kind: "gauge", Value: float64(k % 3)},
			bench.ServerSample{LevelID: lv, EndpointID: ep, TMS: tms, Phase: phase, Family: "tokens", Name: "tokens_total", Labels: `{}`, Kind: "counter", Value: float64(k * 100)},
			bench.ServerSample{LevelID: lv, EndpointID: ep, TMS: tms, Phase: phase, Family: "ttft", Name: "ttft_count", Labels: `{"model":"m"}`, Kind: "histogram", Value: float64(k * 10)})
		for b, le := range []string{"0.1", "0.5", "+Inf"} {
			s = append(s, bench.ServerSample{LevelID: lv, EndpointID: ep, TMS: tms, Phase: phase, Family: "ttft", Name: "ttft_bucket",
				Labels: `{"le":"` + le + `","model":"m"}`, Kind: "histogram", Value: float64(k * (b + 1) * 3)})
		}
	}
	if err := db.InsertServerSamples(context.Background(), s, nil); err != nil {
		t.Fatal(err)
	}
}

// normalize makes a value read from either database comparable: numbers as float64, bytes
// as strings, booleans as 0/1.
func normalize(v any) any {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case int16:
		return float64(x)
	case bool:
		if x {
			return 1.0
		}
		return 0.0
	case []byte:
		return string(x)
	case float32:
		return float64(x)
	}
	return v
}

func sameValue(a, b any) bool {
	a, b = normalize(a), normalize(b)
	fa, okA := a.(float64)
	fb, okB := b.(float64)
	if okA && okB {
		return fa == fb || math.Abs(fa-fb) <= 1e-9*math.Max(math.Abs(fa), math.Abs(fb))
	}
	return a == b
}

// Every view gives the same rows on both dialects for the same recorded data: v_summary's
// figures above all (to 1e-9 relative), and the per-request, per-run, relay and server views.
func TestViewsSameFiguresOnBothBackends(t *testing.T) {
	lite, pg := storetest.SQLite.Open(t), storetest.Postgres.Open(t)
	if a, b := mixedRun(t, lite), mixedRun(t, pg); a != b {
		t.Fatalf("run ids %d and %d", a, b)
	}
	ctx := context.Background()
	for _, q := range []string{
		"SELECT * FROM v_summary ORDER BY level_id",
		"SELECT * FROM v_requests ORDER BY request_id",
		"SELECT * FROM v_runs ORDER BY run_id",
		"SELECT * FROM v_relay ORDER BY level_id",
		"SELECT * FROM v_server_metrics ORDER BY level_id, name, labels, t_ms",
		"SELECT * FROM v_server_level ORDER BY level_id, family, labels",
	} {
		a, err := lite.Query(ctx, q)
		if err != nil {
			t.Fatalf("sqlite: %s: %v", q, err)
		}
		b, err := pg.Query(ctx, q)
		if err != nil {
			t.Fatalf("postgres: %s: %v", q, err)
		}
		if !slices.Equal(a.Columns, b.Columns) {
			t.Errorf("%s: columns\n %v\n %v", q, a.Columns, b.Columns)
			continue
		}
		if len(a.Rows) != len(b.Rows) || len(a.Rows) == 0 {
			t.Errorf("%s: %d rows in SQLite, %d in PostgreSQL", q, len(a.Rows), len(b.Rows))
			continue
		}
		diffs := 0
		for i := range a.Rows {
			for j := range a.Columns {
				if !sameValue(a.Rows[i][j], b.Rows[i][j]) && diffs < 10 {
					diffs++
					t.Errorf("%s row %d %s: SQLite %v (%T), PostgreSQL %v (%T)", q, i+1, a.Columns[j], a.Rows[i][j], a.Rows[i][j], b.Rows[i][j], b.Rows[i][j])
				}
			}
		}
	}
	// The store's typed reads agree too.
	sa, err := lite.Summary(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := pg.Summary(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(sa) != 6 || fmt.Sprintf("%+v", derefSummary(sa)) != fmt.Sprintf("%+v", derefSummary(sb)) {
		t.Errorf("Summary differs:\n sqlite   %+v\n postgres %+v", derefSummary(sa), derefSummary(sb))
	}
}

// derefSummary prints a summary's pointers as values (rounded to 9 significant digits).
func derefSummary(rows []store.SummaryRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%d n=%d ok=%d sr=%.9g p50=%s p99=%s ttft99=%s tok=%v tps=%s em=%s lag=%s slo=%.9g good=%s canc=%d cr=%d relay=%s",
			r.LevelID, r.N, r.OK, r.SuccessRate, g(r.P50E2EMS), g(r.P99E2EMS), g(r.P99TTFTMS), deref64(r.OutputTokens), g(r.OutputTokS),
			g(r.EM), g(r.MeanLagMS), r.SLOAttain, g(r.GoodputRPS), r.Canceled, r.ClientRes, g(r.RelayShare)))
	}
	return out
}

func g(p *float64) string {
	if p == nil {
		return "NULL"
	}
	return fmt.Sprintf("%.9g", *p)
}

func deref64(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

var _ = sql.ErrNoRows
