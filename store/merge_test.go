package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

// fakeRun is a run recorded through the store's own write paths: one endpoint, its prompts,
// levels of n measured requests each (a warm-up first, the last `canceled` of the last level
// canceled by an interruption) and a few server metric scrapes per level.
type fakeRun struct {
	db               *store.DB
	id, ep           int64
	levels           []int64
	label            string
	start            time.Time
	seq              int
	prompts          int
	requestsPerLevel int
}

func recordRun(t *testing.T, db *store.DB, label string, levels, perLevel, canceled int, status bench.RunStatus) *fakeRun {
	t.Helper()
	ctx := context.Background()
	start := time.Date(2026, 11, 29, 10, 0, 0, 123456789, time.UTC).Add(time.Duration(len(label)) * time.Hour)
	id, err := db.CreateRun(ctx, bench.Run{Label: label, StartedAt: start, ToolVersion: "t", Host: "node-" + label,
		ConfigJSON: `{"version":1}`, Dataset: "synthetic", DatasetHash: "dh", PromptSetHash: "ph-" + label, Seed: 1, Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := db.AddEndpoint(ctx, bench.Endpoint{RunID: id, Name: "sim", BaseURL: "http://x/v1", Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRun{db: db, id: id, ep: ep, label: label, start: start, prompts: 5, requestsPerLevel: perLevel}
	var prompts []bench.Prompt
	for i := range f.prompts {
		prompts = append(prompts, bench.Prompt{Idx: i, PromptID: fmt.Sprint("p", i), SourceRow: i, TextHash: "th", InputTokens: 10 + i})
	}
	if err := db.AddPrompts(ctx, id, prompts); err != nil {
		t.Fatal(err)
	}
	for l := range levels {
		lv := f.level(t, 1<<l)
		last := l == levels-1
		f.requests(t, lv, perLevel, map[bool]int{true: canceled}[last])
		if !(last && canceled > 0) {
			f.finishLevel(t, lv, bench.LevelCompleted)
		}
	}
	if status != bench.RunRunning {
		if err := db.FinishRun(ctx, id, status, start.Add(time.Minute), ""); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fakeRun) level(t *testing.T, concurrency int) int64 {
	t.Helper()
	lv, err := f.db.StartLevel(context.Background(), bench.Level{RunID: f.id, EndpointID: f.ep, Concurrency: concurrency,
		Trial: 1, StartedAt: f.start.Add(time.Duration(len(f.levels)) * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	f.levels = append(f.levels, lv)
	return lv
}

func (f *fakeRun) finishLevel(t *testing.T, lv int64, status bench.LevelStatus) {
	t.Helper()
	if err := f.db.FinishLevel(context.Background(), bench.Level{ID: lv, Status: status, EndedAt: f.start.Add(time.Hour), Note: "done"}); err != nil {
		t.Fatal(err)
	}
}

// requests records one warm-up and n measured requests, the last `canceled` of them
// canceled, with server metric scrapes; seqs continue from the level's earlier ones.
func (f *fakeRun) requests(t *testing.T, lv int64, n, canceled int) {
	t.Helper()
	ctx := context.Background()
	reqs := []bench.Request{{RunID: f.id, LevelID: lv, EndpointID: f.ep, PromptID: "p0", Warmup: true, Attempt: 1, Final: true,
		StartMS: 0, Measurement: bench.Measurement{Status: bench.StatusOK, StartedAt: f.start, ElapsedMS: 5}}}
	for i := range n {
		seq := f.seq
		f.seq++
		e2e, ttft, out := float64(100+seq*7%50), float64(10+seq%9), 20+seq%5
		r := bench.Request{RunID: f.id, LevelID: lv, EndpointID: f.ep, PromptIdx: seq % f.prompts, PromptID: fmt.Sprint("p", seq%f.prompts),
			Seq: &seq, Attempt: 1, Final: true, StartMS: float64(seq * 10),
			Measurement: bench.Measurement{Status: bench.StatusOK, StartedAt: f.start.Add(time.Duration(seq) * time.Millisecond),
				ElapsedMS: e2e, E2EMS: &e2e, TTFTMS: &ttft, OutputTokens: &out, ITLMS: []float64{1.5, 2.25}, ResponseText: "answer " + f.label}}
		if i >= n-canceled {
			r.Status, r.E2EMS, r.TTFTMS, r.OutputTokens = bench.StatusCanceled, nil, nil, nil
		}
		reqs = append(reqs, r)
	}
	if err := f.db.InsertRequests(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	var samples []bench.ServerSample
	for k := range 3 {
		tms := int64(f.seq*10 + k*500)
		samples = append(samples,
			bench.ServerSample{LevelID: lv, EndpointID: f.ep, TMS: tms, Phase: bench.PhaseMeasure, Family: "vllm:num_requests_running",
				Name: "vllm:num_requests_running", Labels: "{}", Kind: "gauge", Value: float64(k + 1)},
			bench.ServerSample{LevelID: lv, EndpointID: f.ep, TMS: tms, Phase: bench.PhaseMeasure, Family: "vllm:generation_tokens",
				Name: "vllm:generation_tokens_total", Labels: `{"model_name":"m"}`, Kind: "counter", Value: float64(100 * k)})
	}
	if err := f.db.InsertServerSamples(ctx, samples, nil); err != nil {
		t.Fatal(err)
	}
}

// resume does what `tracker run --resume` does to a run: reopen it (its canceled requests
// stop being final), send what did not complete, finish the level and the run.
func (f *fakeRun) resume(t *testing.T, extraLevel bool) {
	t.Helper()
	ctx := context.Background()
	if err := f.db.ReopenRun(ctx, f.id, bench.Lease{Owner: "test/1", Until: time.Now().Add(time.Minute)}, nil); err != nil {
		t.Fatal(err)
	}
	lv := f.levels[len(f.levels)-1]
	f.requests(t, lv, 3, 0)
	f.finishLevel(t, lv, bench.LevelCompleted)
	if extraLevel {
		lv := f.level(t, 64)
		f.requests(t, lv, f.requestsPerLevel, 0)
		f.finishLevel(t, lv, bench.LevelCompleted)
	}
	if err := f.db.FinishRun(ctx, f.id, bench.RunCompleted, f.start.Add(2*time.Minute), ""); err != nil {
		t.Fatal(err)
	}
}

func openSource(t *testing.T, path string) *store.DB {
	t.Helper()
	src, err := store.OpenReadOnly(context.Background(), path, storetest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

func merge(t *testing.T, dst *store.DB, path string, opts store.MergeOptions) []store.MergedRun {
	t.Helper()
	src := openSource(t, path)
	got, err := dst.MergeFrom(context.Background(), src, opts)
	if err != nil {
		t.Fatalf("merging %s: %v", path, err)
	}
	src.Close()
	return got
}

func actions(runs []store.MergedRun) string {
	var s []string
	for _, r := range runs {
		s = append(s, string(r.Action))
	}
	return strings.Join(s, ",")
}

// counts is the number of rows of every merged table.
func counts(t *testing.T, db *store.DB) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range store.MergedTables() {
		tb, err := db.Query(context.Background(), "SELECT COUNT(*) FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		out[table] = tb.Rows[0][0].(int64)
	}
	return out
}

func sum(a, b map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range a {
		out[k] = v + b[k]
	}
	return out
}

// summaryOf is a run's v_summary without its ids, for comparing copies.
func summaryOf(t *testing.T, db *store.DB, runID int64) string {
	t.Helper()
	rows, err := db.Summary(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range rows {
		r.RunID, r.LevelID = 0, 0
		fmt.Fprintf(&b, "%s\n", fmtSummary(r))
	}
	return b.String()
}

func fmtSummary(r store.SummaryRow) string {
	deref := func(p *float64) string {
		if p == nil {
			return "nil"
		}
		return fmt.Sprint(*p)
	}
	return fmt.Sprintf("%s %s c=%d n=%d ok=%d canceled=%d e2e=%s/%s/%s ttft=%s/%s tok/s=%s", r.Label, r.Endpoint, r.Concurrency, r.N, r.OK,
		r.Canceled, deref(r.MeanE2EMS), deref(r.P50E2EMS), deref(r.P99E2EMS), deref(r.P50TTFTMS), deref(r.P99TTFTMS), deref(r.OutputTokS))
}

func runByLabel(t *testing.T, db *store.DB, label string) store.RunInfo {
	t.Helper()
	runs, err := db.Runs(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Label == label {
			return r
		}
	}
	t.Fatalf("no run %q", label)
	return store.RunInfo{}
}

// Two machines' files merge into one history of 3 runs with every row of every table once,
// the same v_summary figures and the same UUIDs; merging both again adds nothing.
func TestMergeTwoMachines(t *testing.T) {
	dir := t.TempDir()
	a := storetest.OpenAt(t, filepath.Join(dir, "a.db"))
	recordRun(t, a, "alpha", 2, 20, 0, bench.RunCompleted)
	b := storetest.OpenAt(t, filepath.Join(dir, "b.db"))
	recordRun(t, b, "beta", 1, 30, 0, bench.RunCompleted)
	recordRun(t, b, "gamma", 3, 10, 4, bench.RunInterrupted)
	want := sum(counts(t, a), counts(t, b))
	a.Close()
	b.Close()
	team := storetest.OpenAt(t, filepath.Join(dir, "team.db"))
	if got := actions(merge(t, team, filepath.Join(dir, "a.db"), store.MergeOptions{})); got != "added" {
		t.Fatalf("a.db: %s", got)
	}
	progress := 0
	gotB := merge(t, team, filepath.Join(dir, "b.db"), store.MergeOptions{Progress: func(n int) { progress += n }})
	if got := actions(gotB); got != "added,added" || gotB[0].Copied != 31 || gotB[1].Copied != 33 {
		t.Fatalf("b.db: %+v", gotB)
	}
	if total, err := openSource(t, filepath.Join(dir, "b.db")).SourceRequests(context.Background()); err != nil || progress != total {
		t.Errorf("progress reported %d requests, the source has %d (%v)", progress, total, err)
	}
	if got := counts(t, team); !equalCounts(got, want) {
		t.Fatalf("team rows %v, want %v", got, want)
	}
	for _, path := range []string{"a.db", "b.db"} {
		again := merge(t, team, filepath.Join(dir, path), store.MergeOptions{})
		for _, r := range again {
			if r.Action != store.MergeUnchanged || r.Copied != 0 {
				t.Errorf("%s merged again: %+v", path, r)
			}
		}
	}
	if got := counts(t, team); !equalCounts(got, want) {
		t.Fatalf("after merging again: rows %v, want %v", got, want)
	}
	for _, c := range []struct{ file, label string }{{"a.db", "alpha"}, {"b.db", "beta"}, {"b.db", "gamma"}} {
		src := openSource(t, filepath.Join(dir, c.file))
		s, m := runByLabel(t, src, c.label), runByLabel(t, team, c.label)
		if s.UUID == "" || s.UUID != m.UUID {
			t.Errorf("%s: uuid %q in the source, %q merged", c.label, s.UUID, m.UUID)
		}
		if got, want := summaryOf(t, team, m.ID), summaryOf(t, src, s.ID); got != want || want == "" {
			t.Errorf("%s: v_summary merged\n%s\nsource\n%s", c.label, got, want)
		}
	}
}

func equalCounts(a, b map[string]int64) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return len(a) == len(b)
}

// A run merged while interrupted, then resumed in its source, then merged again ends up as
// the source has it: every request once, the canceled ones no longer final, the new level in.
func TestMergeResumedRunReplacesCopy(t *testing.T) {
	for _, extra := range []bool{false, true} {
		t.Run(fmt.Sprint("extra level ", extra), func(t *testing.T) {
			dir := t.TempDir()
			srcPath := filepath.Join(dir, "node.db")
			node := storetest.OpenAt(t, srcPath)
			f := recordRun(t, node, "delta", 2, 12, 3, bench.RunInterrupted)
			team := storetest.OpenAt(t, filepath.Join(dir, "team.db"))
			first := merge(t, team, srcPath, store.MergeOptions{})
			f.resume(t, extra)
			second := merge(t, team, srcPath, store.MergeOptions{})
			if second[0].Action != store.MergeUpdated || second[0].TargetID != first[0].TargetID {
				t.Fatalf("after the resume: %+v (first %+v)", second, first)
			}
			if got, want := counts(t, team), counts(t, node); !equalCounts(got, want) {
				t.Errorf("team rows %v, source rows %v", got, want)
			}
			if got, want := summaryOf(t, team, first[0].TargetID), summaryOf(t, node, f.id); got != want {
				t.Errorf("v_summary merged\n%s\nsource\n%s", got, want)
			}
			if third := merge(t, team, srcPath, store.MergeOptions{}); third[0].Action != store.MergeUnchanged {
				t.Errorf("third merge: %+v", third)
			}
		})
	}
}

// An older copy of a source (before the resume) leaves the newer copy alone; two copies that
// each have rows the other lacks are a conflict, and neither is changed.
func TestMergeKeepsWhatSourceLacks(t *testing.T) {
	dir := t.TempDir()
	node := storetest.OpenAt(t, filepath.Join(dir, "node.db"))
	f := recordRun(t, node, "eps", 1, 10, 2, bench.RunInterrupted)
	node.Close()
	old := filepath.Join(dir, "old.db")
	copyFile(t, filepath.Join(dir, "node.db"), old)
	node = storetest.OpenAt(t, filepath.Join(dir, "node.db"))
	f.db = node
	f.resume(t, false)
	team := storetest.OpenAt(t, filepath.Join(dir, "team.db"))
	merge(t, team, filepath.Join(dir, "node.db"), store.MergeOptions{})
	before := counts(t, team)
	if got := merge(t, team, old, store.MergeOptions{}); got[0].Action != store.MergeKept {
		t.Errorf("older copy: %+v", got)
	}
	// Resume the older copy too: now each has requests the other lacks.
	o := storetest.OpenAt(t, old)
	f.db = o
	f.seq += 100
	f.resume(t, false)
	o.Close()
	if got := merge(t, team, old, store.MergeOptions{}); got[0].Action != store.MergeConflict || !strings.Contains(got[0].Reason, "each hold rows") {
		t.Errorf("diverged copy: %+v", got)
	}
	if got := counts(t, team); !equalCounts(got, before) {
		t.Errorf("rows %v after kept/conflict, want %v", got, before)
	}
}

// Runs still running in the source are skipped and listed, unless asked for; once they end,
// merging again completes the copy.
func TestMergeRunningRuns(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "node.db")
	node := storetest.OpenAt(t, path)
	recordRun(t, node, "done", 1, 5, 0, bench.RunCompleted)
	f := recordRun(t, node, "live", 1, 5, 0, bench.RunRunning)
	team := storetest.OpenAt(t, filepath.Join(dir, "team.db"))
	got := merge(t, team, path, store.MergeOptions{})
	if actions(got) != "added,running" || got[1].Label != "live" || !strings.Contains(got[1].Reason, "--include-running") {
		t.Fatalf("%+v", got)
	}
	if runs, _ := team.Runs(context.Background(), 0); len(runs) != 1 {
		t.Fatalf("%d runs in the target, want only the finished one", len(runs))
	}
	if got := merge(t, team, path, store.MergeOptions{IncludeRunning: true}); actions(got) != "unchanged,added" {
		t.Fatalf("--include-running: %+v", got)
	}
	f.requests(t, f.levels[0], 4, 0)
	if err := node.FinishRun(context.Background(), f.id, bench.RunCompleted, time.Now(), ""); err != nil {
		t.Fatal(err)
	}
	if got := merge(t, team, path, store.MergeOptions{}); actions(got) != "unchanged,updated" || got[1].Copied != 11 {
		t.Fatalf("after it ended: %+v", got)
	}
}

// A source at an older schema version is read through a migrated copy and never changes; its
// runs get the same UUIDs every time, so merging it twice adds nothing.
func TestMergeOlderSchemaSource(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	schema := storetest.Schema(t)
	// The schema as it was before the block that added runs.uuid (and every block after it).
	block := strings.LastIndex(schema[:strings.Index(schema, "ALTER TABLE runs ADD COLUMN uuid")], "\n-- migration: ")
	var uuidBlock int
	if _, err := fmt.Sscanf(schema[block:], "\n-- migration: %d", &uuidBlock); err != nil {
		t.Fatal(err)
	}
	older := schema[:block] + schema[strings.Index(schema, "\n-- views\n"):]
	older = strings.Replace(older, ",\n       ru.uuid AS uuid\nFROM runs ru;", "\nFROM runs ru;", 1)
	path := filepath.Join(dir, "old.db")
	db, err := store.Open(ctx, path, older)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Query(ctx, `INSERT INTO runs (label, status, started_at, tool_version, host, config_json, dataset, dataset_hash, prompt_set_hash, seed)
		VALUES ('v8', 'completed', '2026-01-01T00:00:00Z', 'old', 'h', '{}', 'd', 'dh', 'ph', 1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	srcDir := filepath.Dir(path)
	before := dirState(t, srcDir)
	team := storetest.OpenAt(t, filepath.Join(t.TempDir(), "team.db"))
	src := openSource(t, path)
	if src.OlderVersion() != uuidBlock-1 {
		t.Fatalf("OlderVersion %d", src.OlderVersion())
	}
	first := merge(t, team, path, store.MergeOptions{})
	second := merge(t, team, path, store.MergeOptions{})
	if actions(first) != "added" || actions(second) != "unchanged" || first[0].UUID != second[0].UUID {
		t.Errorf("first %+v, second %+v", first, second)
	}
	sameState(t, "merged source", before, dirState(t, srcDir))
	// The file upgraded in place later gives the run the same UUID.
	up := storetest.OpenAt(t, path)
	if r, err := up.GetRun(ctx, 1); err != nil || r.UUID != first[0].UUID {
		t.Errorf("upgraded in place: %q %v, merged as %q", r.UUID, err, first[0].UUID)
	}
}

// A source that is the target is refused before anything is written.
func TestMergeRefusesItself(t *testing.T) {
	path := filepath.Join(t.TempDir(), "team.db")
	team := storetest.OpenAt(t, path)
	recordRun(t, team, "self", 1, 3, 0, bench.RunCompleted)
	src := openSource(t, path)
	if _, err := team.MergeFrom(context.Background(), src, store.MergeOptions{}); !errors.Is(err, store.ErrSameDatabase) || !strings.Contains(err.Error(), path) {
		t.Errorf("merging a file into itself: %v", err)
	}
}

// Every table of the schema is copied by a merge (a new table must be added to mergeTables).
func TestMergeCoversEveryTable(t *testing.T) {
	db := storetest.Open(t)
	tb, err := db.Query(context.Background(), `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	merged := store.MergedTables()
	for _, row := range tb.Rows {
		if name := row[0].(string); !slices.Contains(merged, name) {
			t.Errorf("table %s is not copied by tracker merge (store/merge_tables.go)", name)
		}
	}
}

// Runs are named by id, UUID or a unique UUID prefix.
func TestResolveRun(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	a := recordRun(t, db, "a", 1, 1, 0, bench.RunCompleted)
	recordRun(t, db, "bb", 1, 1, 0, bench.RunCompleted)
	ra, _ := db.GetRun(ctx, a.id)
	for _, c := range []struct {
		ref  string
		want int64
		err  error
	}{
		{"1", 1, nil}, {"2", 2, nil}, {"3", 0, store.ErrNotFound}, {ra.UUID, 1, nil}, {strings.ToUpper(ra.UUID[:8]), 1, nil},
		{ra.UUID[:3] + "x", 0, store.ErrNotFound}, {"", 0, store.ErrNotFound}, {"'; DROP TABLE runs", 0, store.ErrNotFound},
	} {
		got, err := db.ResolveRun(ctx, c.ref)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("ResolveRun(%q) = %d, %v; want %d, %v", c.ref, got, err, c.want, c.err)
		}
	}
	// Two runs sharing a prefix: ambiguous until more is given.
	if _, err := db.Query(ctx, `UPDATE runs SET uuid = '1234aaaa-0000-4000-8000-000000000001' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Query(ctx, `UPDATE runs SET uuid = '1234bbbb-0000-4000-8000-000000000002' WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ResolveRun(ctx, "1234"); !errors.Is(err, store.ErrAmbiguousRun) {
		t.Errorf("shared prefix: %v", err)
	}
	if got, err := db.ResolveRun(ctx, "1234b"); got != 2 || err != nil {
		t.Errorf("1234b: %d %v", got, err)
	}
}

// New runs get distinct random (version 4) UUIDs.
func TestNewRunsHaveUUIDs(t *testing.T) {
	db := storetest.Open(t)
	seen := map[string]bool{}
	for i := range 50 {
		f := recordRun(t, db, fmt.Sprint("r", i), 1, 1, 0, bench.RunCompleted)
		r, err := db.GetRun(context.Background(), f.id)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.UUID) != 36 || r.UUID[14] != '4' || seen[r.UUID] {
			t.Fatalf("run %d: uuid %q", f.id, r.UUID)
		}
		seen[r.UUID] = true
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A source crafted to look like a tracker database is refused before a row is written: a
// column name that would be SQL, a column the schema does not have, a run whose uuid is not
// a UUID.
func TestMergeRefusesCraftedSources(t *testing.T) {
	for _, c := range []struct{ name, sql, want string }{
		{"column name with SQL", `ALTER TABLE requests ADD COLUMN "x FROM runs; --" TEXT`, "has a column named"},
		{"extra column", `ALTER TABLE levels ADD COLUMN extra TEXT`, "table levels has columns"},
		{"uuid not a UUID", `UPDATE runs SET uuid = 'x'' OR 1 = 1'`, "not a UUID"},
		{"uuid not canonical", `UPDATE runs SET uuid = upper(uuid)`, "not a UUID"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "crafted.db")
			src := storetest.OpenAt(t, path)
			recordRun(t, src, "c", 1, 3, 0, bench.RunCompleted)
			if _, err := src.Query(context.Background(), c.sql); err != nil {
				t.Fatal(err)
			}
			src.Close()
			team := storetest.OpenAt(t, filepath.Join(dir, "team.db"))
			ro := openSource(t, path)
			_, err := team.MergeFrom(context.Background(), ro, store.MergeOptions{})
			if !errors.Is(err, store.ErrNotTracker) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("merge: %v, want ErrNotTracker naming the file and %q", err, c.want)
			}
			if got := counts(t, team); got["runs"] != 0 || got["requests"] != 0 {
				t.Errorf("rows written: %v", got)
			}
		})
	}
}
