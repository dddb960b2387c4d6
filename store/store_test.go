package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

func TestParseMigrations(t *testing.T) {
	cases := []struct {
		name, schema string
		want         int
		err          string
	}{
		{"two blocks", "-- header\n-- migration: 1\nCREATE TABLE a (x);\n-- migration: 2\nCREATE TABLE b (x);\n", 2, ""},
		{"gap", "-- migration: 1\nX;\n-- migration: 3\nY;\n", 0, "want \"-- migration: 2\""},
		{"none", "CREATE TABLE a (x);", 0, "no \"-- migration: 1\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := store.ParseMigrations(tc.schema)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || len(got) != tc.want {
				t.Fatalf("%d blocks, %v", len(got), err)
			}
		})
	}
}

// Opening migrates to the schema's version; reopening with a later block applies only it,
// keeping the data; a database newer than the binary is refused.
func TestMigrationsForwardOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	schema := storetest.Schema(t)
	db, err := store.Open(ctx, path, schema)
	if err != nil {
		t.Fatal(err)
	}
	id := storetest.Run(t, db, bench.Run{Label: "keep", Host: "h"})
	v1, _ := db.SchemaVersion(ctx)
	db.Close()

	next := schema + "\n-- migration: " + strconv.Itoa(v1+1) + "\nCREATE TABLE extra (x INTEGER) STRICT;\n"
	db, err = store.Open(ctx, path, next)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := db.SchemaVersion(ctx); v != v1+1 {
		t.Errorf("version %d after migration, want %d", v, v1+1)
	}
	r, err := db.GetRun(ctx, id)
	if err != nil || r.Label != "keep" {
		t.Errorf("run after migration: %+v %v", r, err)
	}
	db.Close()

	// A read-only open of an older file migrates it first.
	older := path + ".old"
	odb, err := store.Open(ctx, older, schema)
	if err != nil {
		t.Fatal(err)
	}
	odb.Close()
	ro, err := store.OpenReadOnly(ctx, older, next)
	if err != nil {
		t.Fatalf("read-only open of an older database: %v", err)
	}
	if v, _ := ro.SchemaVersion(ctx); v != v1+1 {
		t.Errorf("read-only open left version %d, want %d", v, v1+1)
	}
	ro.Close()

	if _, err := store.Open(ctx, path, schema); !errors.Is(err, store.ErrNewerSchema) {
		t.Errorf("opening a newer database: %v, want ErrNewerSchema", err)
	}
	if _, err := store.OpenReadOnly(ctx, path, schema); !errors.Is(err, store.ErrNewerSchema) {
		t.Errorf("read-only open of a newer database: %v, want ErrNewerSchema", err)
	}
}

func TestReadOnlyRefusesWrites(t *testing.T) { storetest.ForEach(t, testReadOnlyRefusesWrites) }

func testReadOnlyRefusesWrites(t *testing.T, b storetest.Backend) {
	ctx := context.Background()
	db := b.Open(t)
	storetest.Run(t, db, bench.Run{Host: "h"})
	ro, err := store.OpenReadOnly(ctx, db.Path(), storetest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	for _, q := range []string{"DELETE FROM runs", "UPDATE runs SET label = 'x'", "CREATE TABLE y (a INTEGER)", "DROP VIEW v_summary"} {
		if _, err := ro.Query(ctx, q); !errors.Is(err, store.ErrReadOnly) {
			t.Errorf("%s: %v, want ErrReadOnly", q, err)
		}
	}
	tb, err := ro.Query(ctx, "SELECT COUNT(*) FROM runs")
	if err != nil || tb.Rows[0][0] != int64(1) {
		t.Errorf("count through read-only handle: %v %v", tb, err)
	}
	if _, err := store.OpenReadOnly(ctx, filepath.Join(t.TempDir(), "none.db"), storetest.Schema(t)); !errors.Is(err, store.ErrNoDatabase) {
		t.Errorf("missing file: %v", err)
	}
}

// The writer commits within its flush interval while still open (a crash loses at most that),
// and everything on Close.
func TestWriterCommitsWhileRunning(t *testing.T) { storetest.ForEach(t, testWriterCommitsWhileRunning) }

func testWriterCommitsWhileRunning(t *testing.T, b storetest.Backend) {
	ctx := context.Background()
	db := b.Open(t)
	runID := storetest.Run(t, db, bench.Run{Host: "h"})
	epID := storetest.Endpoint(t, db, runID, "a")
	lvID := storetest.Level(t, db, bench.Level{RunID: runID, EndpointID: epID, Concurrency: 1})
	w := db.NewWriter(store.WriterOptions{FlushEvery: 50 * time.Millisecond})
	for i := range 5 {
		w.Add(bench.Request{RunID: runID, LevelID: lvID, EndpointID: epID, PromptIdx: i, PromptID: "p", Final: true,
			Measurement: bench.Measurement{Status: bench.StatusOK, StartedAt: time.Now(), ITLMS: []float64{1.5, 2.25}}})
	}
	ro, err := store.OpenReadOnly(ctx, db.Path(), storetest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		tb, err := ro.Query(ctx, "SELECT COUNT(*) FROM requests")
		if err != nil {
			t.Fatal(err)
		}
		if tb.Rows[0][0] == int64(5) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rows not visible to another reader %v after Add", 5*time.Second)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Written() != 5 {
		t.Errorf("written %d", w.Written())
	}
	tb, _ := ro.Query(ctx, "SELECT itl_ms FROM requests LIMIT 1")
	if tb.Rows[0][0] != "[1.500,2.250]" {
		t.Errorf("itl_ms %v", tb.Rows[0][0])
	}
}

// Views are derived: a changed definition replaces the file's view on the next write open,
// with no migration block, and the data stays.
func TestViewsRecreatedWhenDefinitionChanges(t *testing.T) {
	storetest.ForEach(t, testViewsRecreatedWhenDefinitionChanges)
}

func testViewsRecreatedWhenDefinitionChanges(t *testing.T, b storetest.Backend) {
	ctx := context.Background()
	path := b.Path(t)
	schema := storetest.Schema(t)
	db, err := store.Open(ctx, path, schema)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	change := func(s string) string {
		return strings.Replace(s, "CREATE VIEW v_runs AS\nSELECT ru.id AS run_id,", "CREATE VIEW v_runs AS\nSELECT 42 AS answer, ru.id AS run_id,", 1)
	}
	changed, changedPG := change(schema), change(store.PostgresSchema)
	if changed == schema || changedPG == store.PostgresSchema {
		t.Fatal("test could not change v_runs")
	}
	db, err = store.OpenWith(ctx, path, changed, store.OpenOptions{PostgresSchema: changedPG})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var cols []string
	rows, err := db.Query(ctx, "SELECT * FROM v_runs")
	if err != nil {
		t.Fatal(err)
	}
	cols = rows.Columns
	if len(cols) == 0 || cols[0] != "answer" {
		t.Errorf("v_runs columns %v, want the changed definition first column \"answer\"", cols)
	}
}

// Two processes (here: two independent connections) opening one new file at once both
// succeed, and the file is migrated once.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	storetest.ForEach(t, testConcurrentOpenMigratesOnce)
}

func testConcurrentOpenMigratesOnce(t *testing.T, b storetest.Backend) {
	ctx := context.Background()
	schema := storetest.Schema(t)
	for round := 0; round < 5; round++ {
		path := b.Path(t)
		errs := make(chan error, 4)
		for i := 0; i < 4; i++ {
			go func() {
				db, err := store.Open(ctx, path, schema)
				if err == nil {
					db.Close()
				}
				errs <- err
			}()
		}
		for i := 0; i < 4; i++ {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: concurrent open: %v", round, err)
			}
		}
	}
}
