package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

// summaryCSV is v_summary's figures for one label, without the database's own ids.
func summaryCSV(t *testing.T, db, label string) string {
	t.Helper()
	r := tracker(t, "--db", db, "query", "--format", "csv", `SELECT endpoint, concurrency, n, ok, mean_e2e_ms, p50_e2e_ms, p99_e2e_ms,
		p50_ttft_ms, p99_ttft_ms, output_tok_s, req_s, canceled FROM v_summary WHERE label = '`+label+`' ORDER BY concurrency`)
	if r.code != 0 || strings.Count(r.stdout, "\n") < 2 {
		t.Fatalf("v_summary of %s in %s: %d %s %s", label, db, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func queryCSV(t *testing.T, db, q string) string {
	t.Helper()
	r := tracker(t, "--db", db, "query", "--format", "csv", q)
	if r.code != 0 {
		t.Fatalf("%s: %s", q, r.stderr)
	}
	return strings.TrimSpace(r.stdout)
}

// Two "machines" record runs with real `tracker run`s; `tracker merge` makes one history of
// 3 runs with the same v_summary figures; merging both again adds nothing; `runs` and
// `report --runs` name runs by UUID.
// The team's history is an SQLite file or a PostgreSQL database.
func TestMergeTwoMachinesEndToEnd(t *testing.T) { storetest.ForEach(t, testMergeTwoMachinesEndToEnd) }

func testMergeTwoMachinesEndToEnd(t *testing.T, target storetest.Backend) {
	srv, _ := streamServer(t, time.Millisecond)
	dir := t.TempDir()
	data := writeFile(t, "d.jsonl", strings.Repeat(`{"id":"1","context":"c","question":"q?","answers":{"text":["Denver Broncos"]}}`+"\n", 8))
	a, b, team := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db"), target.Path(t)
	for _, r := range []struct{ db, label, conc string }{{a, "nodeA", "1,2"}, {b, "nodeB", "2"}, {b, "nodeB2", "4"}} {
		if res := tracker(t, "--db", r.db, "run", "--endpoint", "e="+srv.URL+"/v1,model=m", "--dataset", data, "--concurrency", r.conc, "--label", r.label); res.code != 0 {
			t.Fatalf("run %s: %s", r.label, res.stderr)
		}
	}
	m := tracker(t, "--db", team, "merge", a, b)
	if m.code != 0 || !strings.Contains(m.stdout, "3 run(s) added (32 requests), 0 updated (0 requests), 0 unchanged, 0 skipped") {
		t.Fatalf("merge: exit %d\n%s\n%s", m.code, m.stdout, m.stderr)
	}
	again := tracker(t, "--db", team, "merge", a, b)
	if again.code != 0 || !strings.Contains(again.stdout, "0 run(s) added (0 requests), 0 updated (0 requests), 3 unchanged") {
		t.Fatalf("merge again: exit %d\n%s\n%s", again.code, again.stdout, again.stderr)
	}
	if got := queryCSV(t, team, "SELECT COUNT(*) AS n, COUNT(DISTINCT uuid) AS uuids FROM runs"); got != "n,uuids\n3,3" {
		t.Errorf("runs in the team file: %s", got)
	}
	if got, want := queryCSV(t, team, "SELECT COUNT(*) AS n FROM requests"), "n\n32"; got != want {
		t.Errorf("requests: %s, want %s", got, want)
	}
	for _, c := range []struct{ db, label string }{{a, "nodeA"}, {b, "nodeB"}, {b, "nodeB2"}} {
		if got, want := summaryCSV(t, team, c.label), summaryCSV(t, c.db, c.label); got != want {
			t.Errorf("%s: v_summary merged\n%s\nsource\n%s", c.label, got, want)
		}
	}
	uuid := strings.Split(queryCSV(t, b, "SELECT uuid FROM runs WHERE label = 'nodeB2'"), "\n")[1]
	runs := tracker(t, "--db", team, "runs")
	if !strings.Contains(runs.stdout, uuid[:8]) || strings.Contains(runs.stdout, uuid) {
		t.Errorf("runs shows no short uuid %s:\n%s", uuid[:8], runs.stdout)
	}
	rep := tracker(t, "--db", team, "report", "--runs", uuid[:8], "--out", filepath.Join(dir, "rep"))
	if rep.code != 0 || !strings.Contains(rep.stdout, "1 run(s), 8 requests") {
		t.Errorf("report --runs %s: exit %d %s %s", uuid[:8], rep.code, rep.stdout, rep.stderr)
	}
	if js, err := os.ReadFile(filepath.Join(dir, "rep", "report.json")); err != nil || !strings.Contains(string(js), `"uuid": "`+uuid+`"`) {
		t.Errorf("report.json lacks the run's uuid %s (%v)", uuid, err)
	}
}

// merge -> resume in the source -> merge again: the run ends up complete in the target,
// every request once, exactly as in the source.
func TestMergeResumeMergeEndToEnd(t *testing.T) {
	srv, _ := streamServer(t, 15*time.Millisecond)
	dir := t.TempDir()
	node, team := filepath.Join(dir, "node.db"), filepath.Join(dir, "team.db")
	data := writeFile(t, "d.jsonl", strings.Repeat(`{"id":"1","context":"c","question":"q?","answers":{"text":["Denver Broncos"]}}`+"\n", 30))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for committed(t, node) < 4 && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"tracker", "--db", node, "run", "--endpoint", "a=" + srv.URL + "/v1,model=m", "--dataset", data, "--concurrency", "2"}, &out, &errb); code != 1 {
		t.Fatalf("interrupted run: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	if m := tracker(t, "--db", team, "merge", node); m.code != 0 || !strings.Contains(m.stdout, "1 run(s) added") {
		t.Fatalf("first merge: %s %s", m.stdout, m.stderr)
	}
	if r := tracker(t, "--db", node, "run", "--resume", "1"); r.code != 0 {
		t.Fatalf("resume: %s %s", r.stdout, r.stderr)
	}
	m := tracker(t, "--db", team, "merge", node)
	if m.code != 0 || !strings.Contains(m.stdout, "updated    ") || !strings.Contains(m.stdout, "(completed)") {
		t.Fatalf("second merge: %s %s", m.stdout, m.stderr)
	}
	const q = "SELECT COUNT(*), COUNT(DISTINCT seq), SUM(status = 'ok'), AVG(em) FROM v_requests"
	if got := queryCSV(t, team, q); got != "COUNT(*),COUNT(DISTINCT seq),SUM(status = 'ok'),AVG(em)\n30,30,30,1" {
		t.Errorf("merged after the resume: %s", got)
	}
	const all = "SELECT COUNT(*), SUM(final), SUM(status = 'canceled') FROM requests"
	if got, want := queryCSV(t, team, all), queryCSV(t, node, all); got != want {
		t.Errorf("requests merged %s, source %s", got, want)
	}
	if got, want := summaryCSV(t, team, ""), summaryCSV(t, node, ""); got != want {
		t.Errorf("v_summary merged\n%s\nsource\n%s", got, want)
	}
	if m := tracker(t, "--db", team, "merge", node); !strings.Contains(m.stdout, "1 unchanged") {
		t.Errorf("third merge: %s", m.stdout)
	}
}

// A run still running in a source is skipped and listed (exit 0), unless --include-running.
func TestMergeSkipsRunningRuns(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	node, team := filepath.Join(dir, "node.db"), filepath.Join(dir, "team.db")
	db, err := store.Open(ctx, node, schemaSQL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateRun(ctx, bench.Run{Label: "live", StartedAt: time.Now(), ToolVersion: "t", Host: "h", ConfigJSON: "{}", Dataset: "d"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	m := tracker(t, "--db", team, "merge", node)
	if m.code != 0 || !strings.Contains(m.stdout, "0 run(s) added") || !strings.Contains(m.stdout, "skipped: running "+node+" run 1") {
		t.Errorf("merge: exit %d\n%s%s", m.code, m.stdout, m.stderr)
	}
	m = tracker(t, "--db", team, "merge", "--include-running", node)
	if m.code != 0 || !strings.Contains(m.stdout, "1 run(s) added") {
		t.Errorf("--include-running: exit %d\n%s%s", m.code, m.stdout, m.stderr)
	}
}

// sums are the sha256 of the regular files among paths.
func sums(t *testing.T, paths ...string) string {
	t.Helper()
	var out []string
	for _, p := range paths {
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %x", filepath.Base(p), sha256.Sum256(b)))
	}
	return strings.Join(out, ", ")
}

// Sources that cannot be merged fail with their file named, the others are merged, and no
// source changes (checksums before and after).
func TestMergeBadSources(t *testing.T) {
	dir := t.TempDir()
	team := filepath.Join(dir, "team.db")
	good := filepath.Join(dir, "good.db")
	if r := tracker(t, "--db", team, "runs"); r.code == 0 {
		t.Fatal("runs on a missing file succeeded")
	}
	db, err := store.Open(context.Background(), good, schemaSQL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateRun(context.Background(), bench.Run{Status: bench.RunCompleted, StartedAt: time.Now(), ToolVersion: "t", Host: "h", ConfigJSON: "{}", Dataset: "d"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	text := writeFile(t, "notes.db", "these are my notes, not a database\n")
	foreign := filepath.Join(dir, "foreign.db")
	if r := tracker(t, "--db", team, "merge", good); r.code != 0 {
		t.Fatalf("%s %s", r.stdout, r.stderr)
	}
	newer := filepath.Join(dir, "newer.db")
	for path, stmts := range map[string][]string{foreign: {"CREATE TABLE notes (x TEXT)"}, newer: {"CREATE TABLE runs (id INTEGER)", "PRAGMA user_version = 999"}} {
		sdb, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range stmts {
			if _, err := sdb.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		sdb.Close()
	}
	damaged := filepath.Join(dir, "damaged.db")
	b, err := os.ReadFile(good)
	if err != nil || len(b) < 4*4096 {
		t.Fatalf("good.db: %d bytes, %v", len(b), err)
	}
	copy(b[3*4096:4*4096], bytes.Repeat([]byte{0xde, 0xad}, 2048)) // a b-tree page overwritten
	if err := os.WriteFile(damaged, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, source, want string
		code               int
	}{
		{"damaged", damaged, "is damaged", 1},
		{"not a database", text, "file is not a database", 1},
		{"another program's database", foreign, "not a tracker database", 1},
		{"a newer tracker's database", newer, "newer than this tracker", 1},
		{"the target itself", team, "the source is the target database itself", 2},
		{"missing", filepath.Join(dir, "nope.db"), "no such file", 2},
		{"a directory", dir, "is a directory", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := sums(t, good, c.source)
			r := tracker(t, "--db", team, "merge", good, c.source)
			if r.code != c.code || !strings.Contains(r.stderr, c.source) || !strings.Contains(r.stderr, c.want) {
				t.Errorf("exit %d, want %d; stderr %q wants %q and the file named", r.code, c.code, r.stderr, c.want)
			}
			if after := sums(t, good, c.source); after != before {
				t.Errorf("a source changed: %s, was %s", after, before)
			}
		})
	}
}
