package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

// pgPassword is put in the PostgreSQL URLs of these tests (the test server trusts loopback
// and never asks for it) and must appear nowhere: output, reports, database.
const pgPassword = "Pw-must-not-leak-7731"

// withPassword returns the URL u with user postgres and pgPassword in its user part.
func withPassword(t *testing.T, u string) string {
	t.Helper()
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		t.Fatalf("not a URL: %s", u)
	}
	if _, host, found := strings.Cut(rest, "@"); found {
		rest = host
	}
	return scheme + "://postgres:" + pgPassword + "@" + rest
}

// copyDatabase copies every row of every table from src into the empty database dst, ids and
// all, table by table in the order of their references: the same recorded data in the
// other dialect (the tables have the same columns in both: store's TestSchemasSameTablesAndViews).
func copyDatabase(t *testing.T, src, dst *store.DB) {
	t.Helper()
	ctx := context.Background()
	for _, table := range []string{"runs", "endpoints", "prompts", "levels", "requests", "server_metric_series", "server_metrics"} {
		tb, err := src.Query(ctx, "SELECT * FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		insert := "INSERT INTO " + table + " (" + strings.Join(tb.Columns, ", ") + ") VALUES (" +
			strings.TrimSuffix(strings.Repeat("?, ", len(tb.Columns)), ", ") + ")"
		for _, row := range tb.Rows {
			if _, err := dst.Query(ctx, insert, row...); err != nil {
				t.Fatalf("copying %s: %v", table, err)
			}
		}
	}
}

// sameCSV compares two CSV outputs cell by cell, numbers to 1e-9 relative.
func sameCSV(t *testing.T, what, a, b string) {
	t.Helper()
	ra, err := csv.NewReader(strings.NewReader(a)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rb, err := csv.NewReader(strings.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(ra) != len(rb) || len(ra) < 2 {
		t.Fatalf("%s: %d rows vs %d:\n%s\n%s", what, len(ra), len(rb), a, b)
	}
	for i := range ra {
		for j := range ra[i] {
			x, y := ra[i][j], rb[i][j]
			fx, ex := strconv.ParseFloat(x, 64)
			fy, ey := strconv.ParseFloat(y, 64)
			if ex == nil && ey == nil && math.Abs(fx-fy) <= 1e-9*math.Max(math.Abs(fx), math.Abs(fy)) {
				continue
			}
			if x != y {
				t.Errorf("%s row %d column %s: %q vs %q", what, i, ra[0][j], x, y)
			}
		}
	}
}

// The "must show" for PostgreSQL: a run recorded straight into PostgreSQL (with a
// password in the URL) reads back through runs, query (read-only) and report, with the same
// v_summary figures as the same run in SQLite; the password appears in no output, file or row.
func TestPostgresRunReadsBackLikeSQLite(t *testing.T) {
	url := withPassword(t, storetest.Postgres.Path(t))
	fast, _ := streamServer(t, 2*time.Millisecond)
	slow, _ := streamServer(t, 8*time.Millisecond)
	data := writeFile(t, "d.jsonl", strings.Repeat(`{"id":"1","context":"c","question":"q?","answers":{"text":["Denver Broncos"]}}`+"\n", 6))
	var seen strings.Builder
	cmd := func(args ...string) result {
		t.Helper()
		r := tracker(t, append([]string{"--db", url}, args...)...)
		seen.WriteString(r.stdout + r.stderr)
		return r
	}
	r := cmd("run", "--endpoint", "fast="+fast.URL+"/v1,model=m", "--endpoint", "slow="+slow.URL+"/v1,model=m",
		"--dataset", data, "--concurrency", "1,3", "--requests", "6", "--no-preflight", "--label", "pg")
	if r.code != 0 || !strings.Contains(r.stdout, "Run 1 (completed) in postgres://postgres@127.0.0.1") {
		t.Fatalf("run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := cmd("runs"); r.code != 0 || !strings.Contains(r.stdout, "fast,slow") || !strings.Contains(r.stdout, "completed") {
		t.Errorf("runs: %d %s %s", r.code, r.stdout, r.stderr)
	}
	const summary = "SELECT * FROM v_summary ORDER BY level_id"
	pgSummary := cmd("query", "--format", "csv", summary)
	if pgSummary.code != 0 {
		t.Fatalf("query: %d %s", pgSummary.code, pgSummary.stderr)
	}
	if w := cmd("query", "DELETE FROM runs"); w.code != exitUsage {
		t.Errorf("a write through query: exit %d, %q", w.code, w.stderr)
	}
	if w := cmd("query", "WITH x AS (DELETE FROM runs RETURNING 1) SELECT * FROM x"); w.code == exitOK || !strings.Contains(w.stderr, "read-only") {
		t.Errorf("a write in a WITH through query: exit %d, %q", w.code, w.stderr)
	}
	out := filepath.Join(t.TempDir(), "report")
	if r := cmd("report", "--out", out); r.code != 0 {
		t.Fatalf("report: %d %s", r.code, r.stderr)
	}
	if r := tracker(t, "--db", strings.Replace(url, "search_path=", "dbname=nosuchdb&search_path=", 1), "runs"); r.code == exitOK {
		t.Errorf("runs on a database that does not exist: exit 0")
	} else {
		seen.WriteString(r.stdout + r.stderr)
	}

	// The same run in SQLite: every row copied, the same figures through the same query.
	ctx := context.Background()
	pg, err := store.OpenReadOnly(ctx, url, schemaSQL)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	litePath := filepath.Join(t.TempDir(), "same.db")
	lite, err := store.Open(ctx, litePath, schemaSQL)
	if err != nil {
		t.Fatal(err)
	}
	copyDatabase(t, pg, lite)
	lite.Close()
	liteSummary := tracker(t, "--db", litePath, "query", "--format", "csv", summary)
	sameCSV(t, "v_summary", liteSummary.stdout, pgSummary.stdout)
	liteOut := filepath.Join(t.TempDir(), "report")
	if r := tracker(t, "--db", litePath, "report", "--out", liteOut); r.code != 0 {
		t.Fatalf("report from SQLite: %d %s", r.code, r.stderr)
	}
	pgMD, _ := os.ReadFile(filepath.Join(out, "report.md"))
	liteMD, _ := os.ReadFile(filepath.Join(liteOut, "report.md"))
	if len(pgMD) == 0 || !bytes.Equal(pgMD, liteMD) {
		t.Errorf("report.md differs between PostgreSQL and SQLite:\n%s\n----\n%s", pgMD, liteMD)
	}

	// The password: in no output, no report file, no row.
	if strings.Contains(seen.String(), pgPassword) {
		t.Errorf("the password was printed:\n%s", seen.String())
	}
	filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if b, _ := os.ReadFile(p); err == nil && !info.IsDir() && bytes.Contains(b, []byte(pgPassword)) {
			t.Errorf("the password is in %s", p)
		}
		return nil
	})
	tb, err := pg.Query(ctx, `SELECT COUNT(*) FROM (SELECT t::text AS x FROM runs t UNION ALL SELECT t::text FROM endpoints t
		UNION ALL SELECT t::text FROM levels t UNION ALL SELECT t::text FROM requests t) rows WHERE x LIKE '%' || ? || '%'`, pgPassword)
	if err != nil || tb.Rows[0][0] != int64(0) {
		t.Errorf("rows holding the password: %v %v", tb, err)
	}
}

// Two `tracker run` processes writing into one PostgreSQL database at once: no id clashes,
// no lost rows, every request in its own run's levels.
func TestPostgresTwoProcessesOneDatabase(t *testing.T) {
	url := storetest.Postgres.Path(t)
	if _, err := store.Open(context.Background(), url, schemaSQL); err != nil { // created before, so both race on writes only
		t.Fatal(err)
	}
	srv, _ := streamServer(t, 5*time.Millisecond)
	const prompts, requests = 40, 150
	data := writeFile(t, "d.jsonl", strings.Repeat(`{"id":"1","question":"q?"}`+"\n", prompts))
	cmds := make([]*exec.Cmd, 2)
	outs := make([]*bytes.Buffer, 2)
	for i := range cmds {
		cmds[i], outs[i] = startTracker(t, []string{"--db", url, "run", "--endpoint", "a=" + srv.URL + "/v1,model=m", "--endpoint", "b=" + srv.URL + "/v1,model=m",
			"--dataset", data, "--concurrency", "4,8", "--requests", strconv.Itoa(requests), "--no-preflight", "--label", fmt.Sprint("p", i)})
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("process %d: %v\n%s", i, err, outs[i].String())
		}
	}
	db, err := store.OpenReadOnly(context.Background(), url, schemaSQL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tb, err := db.Query(context.Background(), `SELECT ru.label, COUNT(*), COUNT(DISTINCT r.id),
		COUNT(*) FILTER (WHERE l.run_id <> r.run_id OR e.run_id <> r.run_id OR l.endpoint_id <> r.endpoint_id),
		COUNT(DISTINCT (r.level_id, r.seq))
		FROM requests r JOIN runs ru ON ru.id = r.run_id JOIN levels l ON l.id = r.level_id JOIN endpoints e ON e.id = r.endpoint_id
		WHERE r.warmup = 0 AND r.final = 1 GROUP BY ru.label ORDER BY ru.label`)
	if err != nil {
		t.Fatal(err)
	}
	span, err := db.Query(context.Background(), `SELECT MAX(started_at::timestamptz) < MIN(ended_at::timestamptz) FROM runs`)
	if err != nil || span.Rows[0][0] != true {
		t.Errorf("the two runs did not overlap in time (%v %v): the test proves nothing", span, err)
	}
	want := int64(2 * 2 * requests) // two endpoints, two levels
	if len(tb.Rows) != 2 {
		t.Fatalf("runs: %v", tb.Rows)
	}
	for _, row := range tb.Rows {
		if row[1] != want || row[2] != want || row[3] != int64(0) || row[4] != want {
			t.Errorf("run %v: %v requests, %v distinct ids, %v in another run's level or endpoint, %v distinct (level, seq): want %d, %d, 0, %d",
				row[0], row[1], row[2], row[3], row[4], want, want, want)
		}
	}
}

// Every PostgreSQL example in docs/schema.md (```postgresql blocks) runs against a real
// PostgreSQL database through tracker query.
func TestSchemaDocPostgresExamplesRun(t *testing.T) {
	url := storetest.Postgres.Path(t)
	srv, _ := streamServer(t, 0)
	data := writeFile(t, "d.jsonl", `{"id":"1","context":"c","question":"q?","answers":{"text":["Denver Broncos"]}}`+"\n")
	if r := tracker(t, "--db", url, "run", "--endpoint", "sophia="+srv.URL+"/v1,model=m", "--dataset", data, "--concurrency", "1,8", "--no-preflight"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	stmts := schemaDocExamples(t, "postgresql")
	for _, stmt := range stmts {
		if r := tracker(t, "--db", url, "query", "--", stmt); r.code != 0 || !strings.Contains(r.stdout, "│") {
			t.Errorf("docs/schema.md PostgreSQL example fails:\n%s\n%s%s", stmt, r.stdout, r.stderr)
		}
	}
	if len(stmts) < 3 {
		t.Errorf("found only %d examples", len(stmts))
	}
}
