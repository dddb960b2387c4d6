package store_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

// dirState is every file in dir with a hash of its content.
func dirState(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = fmt.Sprintf("%x", sha256.Sum256(b))
	}
	return out
}

// emptyHash is the hash of an empty file.
var emptyHash = fmt.Sprintf("%x", sha256.Sum256(nil))

// sameState checks that no file was created, changed or removed, except the empty -wal and
// the -shm index that SQLite creates when a reader opens a WAL database whose writers have
// all closed: they hold no data (the -wal is empty) and the next writer's close removes them.
func sameState(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for name, h := range after {
		if _, existed := before[name]; !existed && readerFile(name, after) {
			continue
		}
		if before[name] != h {
			t.Errorf("%s: %s was created or changed", what, name)
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			t.Errorf("%s: %s was removed", what, name)
		}
	}
}

func readerFile(name string, state map[string]string) bool {
	switch {
	case strings.HasSuffix(name, "-wal"):
		return state[name] == emptyHash
	case strings.HasSuffix(name, "-shm"):
		return state[strings.TrimSuffix(name, "-shm")+"-wal"] == emptyHash
	}
	return false
}

// trackerFile makes a tracker database with one run in a directory of its own, closed.
func trackerFile(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	db, err := store.Open(context.Background(), path, storetest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, db, bench.Run{Label: "keep", Host: "h"})
	db.Close()
	return path
}

// The attacks of issue 12: no statement given to a read-only handle changes or creates any
// file, whether the statement check or only the authorizer stands in its way.
func TestReadOnlyStatementsChangeNoFile(t *testing.T) {
	ctx := context.Background()
	path := trackerFile(t, "t.db")
	dir := filepath.Dir(path)
	attacks := []string{
		"PRAGMA query_only=0; ATTACH '" + path + "' AS x; DELETE FROM x.runs",
		"PRAGMA query_only=0",
		"ATTACH '" + path + "' AS x",
		"ATTACH '" + filepath.Join(dir, "new.db") + "' AS n",
		"ATTACH 'file:" + filepath.Join(dir, "new2.db") + "?mode=rwc' AS n",
		"VACUUM INTO '" + filepath.Join(dir, "x.db") + "'",
		"VACUUM",
		"PRAGMA journal_mode=DELETE",
		"PRAGMA user_version=99",
		"SELECT 1; DELETE FROM runs",
		"SELECT * FROM pragma_query_only(0)",
		"SELECT * FROM pragma_journal_mode('delete')",
		"DELETE FROM runs",
		"WITH x AS (SELECT 1) DELETE FROM runs",
		"CREATE TEMP TABLE t (a)",
		"BEGIN",
	}
	for _, q := range attacks {
		before := dirState(t, dir)
		ro, err := store.OpenReadOnly(ctx, path, storetest.Schema(t))
		if err != nil {
			t.Fatal(err)
		}
		if rows, err := ro.ReadStatement(ctx, q); err == nil {
			for rows.Next() {
			}
			if rows.Err() == nil {
				t.Errorf("ReadStatement(%q) succeeded", q)
			}
			rows.Close()
		}
		// Past the statement check: only the authorizer (and mode=ro) stand in the way.
		if _, err := ro.Query(ctx, q); err == nil && !strings.HasPrefix(q, "SELECT 1;") {
			t.Errorf("Query(%q) through the read-only handle succeeded", q)
		}
		ro.Close()
		sameState(t, q, before, dirState(t, dir))
	}
	db := storetest.OpenAt(t, path)
	if r, err := db.GetRun(ctx, 1); err != nil || r.Label != "keep" {
		t.Errorf("the run after the attacks: %+v %v", r, err)
	}
}

func TestReadStatementAccepts(t *testing.T) {
	ctx := context.Background()
	path := trackerFile(t, "t.db")
	ro, err := store.OpenReadOnly(ctx, path, storetest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	for _, q := range []string{"SELECT label FROM runs;", "select label from runs ; ;", "-- c\nSELECT ';' || label FROM runs /* ; DELETE */",
		"WITH r AS (SELECT label FROM runs) SELECT * FROM r", "VALUES (1)", "EXPLAIN QUERY PLAN SELECT * FROM runs",
		"PRAGMA user_version", "PRAGMA table_info(runs)", "SELECT * FROM pragma_table_info('runs')",
		"SELECT \"label\" FROM [runs] WHERE label <> 'it''s; x'"} {
		rows, err := ro.ReadStatement(ctx, q)
		if err != nil {
			t.Errorf("%q: %v", q, err)
			continue
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil || n == 0 {
			t.Errorf("%q: %d rows, %v", q, n, err)
		}
		rows.Close()
	}
	for _, q := range []string{"", " ; ", "SELECT 1; SELECT 2", "DELETE FROM runs", "ATTACH 'x' AS y", "VACUUM INTO 'x'"} {
		if _, err := ro.ReadStatement(ctx, q); !errors.Is(err, store.ErrNotReadStatement) {
			t.Errorf("%q: %v, want ErrNotReadStatement", q, err)
		}
	}
}

// plainSQLite makes an SQLite file that is not a tracker database, in rollback-journal mode.
func plainSQLite(t *testing.T, userVersion int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE TABLE notes (x TEXT)", "INSERT INTO notes VALUES ('mine')", fmt.Sprintf("PRAGMA user_version = %d", userVersion)} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	return path
}

func journalMode(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	return mode
}

// A file that is not a tracker database, or that a newer tracker wrote, is refused by every
// open without a byte of it changing (journal mode included).
func TestForeignAndNewerFilesUntouched(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		version int
		want    error
	}{{0, store.ErrNotTracker}, {999, store.ErrNewerSchema}} {
		path := plainSQLite(t, c.version)
		before := dirState(t, filepath.Dir(path))
		if _, err := store.OpenReadOnly(ctx, path, storetest.Schema(t)); !errors.Is(err, c.want) {
			t.Errorf("version %d: read-only open: %v, want %v", c.version, err, c.want)
		}
		if _, err := store.Open(ctx, path, storetest.Schema(t)); !errors.Is(err, c.want) {
			t.Errorf("version %d: open for writing: %v, want %v", c.version, err, c.want)
		}
		sameState(t, fmt.Sprint("version ", c.version), before, dirState(t, filepath.Dir(path)))
		if m := journalMode(t, path); m != "delete" {
			t.Errorf("version %d: journal mode %s after the refusals", c.version, m)
		}
	}
}

// An older tracker database is read through a migrated temporary copy: the file keeps its
// version and bytes, and the copy is removed on Close.
func TestReadOnlyOlderFileReadThroughCopy(t *testing.T) {
	ctx := context.Background()
	schema := storetest.Schema(t)
	path := trackerFile(t, "old.db")
	v1 := len(mustMigrations(t, schema))
	next := schema + fmt.Sprintf("\n-- migration: %d\nCREATE TABLE extra (x INTEGER) STRICT;\n", v1+1)
	before := dirState(t, filepath.Dir(path))
	tmpBefore, _ := filepath.Glob(filepath.Join(os.TempDir(), "tracker-read-*"))
	ro, err := store.OpenReadOnly(ctx, path, next)
	if err != nil {
		t.Fatal(err)
	}
	if ro.OlderVersion() != v1 {
		t.Errorf("OlderVersion %d, want %d", ro.OlderVersion(), v1)
	}
	if r, err := ro.GetRun(ctx, 1); err != nil || r.Label != "keep" {
		t.Errorf("run through the copy: %+v %v", r, err)
	}
	ro.Close()
	sameState(t, "read through a copy", before, dirState(t, filepath.Dir(path)))
	if tmpAfter, _ := filepath.Glob(filepath.Join(os.TempDir(), "tracker-read-*")); len(tmpAfter) > len(tmpBefore) {
		t.Errorf("temporary copies left behind: %v", slices.DeleteFunc(tmpAfter, func(s string) bool { return slices.Contains(tmpBefore, s) }))
	}
}

func mustMigrations(t *testing.T, schema string) []string {
	m, err := store.ParseMigrations(schema)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Paths with URI metacharacters name the file they say, for writing and reading.
func TestPathsWithURICharacters(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"a#b.db", "50%.db", "what?.db", "x%3f.db"} {
		path := trackerFile(t, name)
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		ro, err := store.OpenReadOnly(ctx, path, storetest.Schema(t))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if r, err := ro.GetRun(ctx, 1); err != nil || r.Label != "keep" {
			t.Errorf("%s: %+v %v", name, r, err)
		}
		ro.Close()
		if st := dirState(t, filepath.Dir(path)); len(st) != 1 && !(len(st) == 3 && readerFile(name+"-wal", st)) {
			t.Errorf("%s: files %v, want only the database", name, st)
		}
	}
}

func TestEmptyPathRefused(t *testing.T) {
	for _, p := range []string{"", " "} {
		if _, err := store.Open(context.Background(), p, storetest.Schema(t)); !errors.Is(err, store.ErrEmptyPath) {
			t.Errorf("Open(%q): %v", p, err)
		}
		if _, err := store.OpenReadOnly(context.Background(), p, storetest.Schema(t)); !errors.Is(err, store.ErrEmptyPath) {
			t.Errorf("OpenReadOnly(%q): %v", p, err)
		}
	}
}

// A read-only handle maps the file (its pages then count in the process's resident memory)
// unless NoMap says not to; both read the same rows. Linux: the mappings are read from
// /proc/self/maps.
func TestReadOnlyNoMap(t *testing.T) {
	if _, err := os.Stat("/proc/self/maps"); err != nil {
		t.Skip("no /proc/self/maps")
	}
	ctx := context.Background()
	for _, tc := range []struct {
		o      store.OpenOptions
		mapped bool
	}{
		{store.OpenOptions{}, true},
		{store.OpenOptions{NoMap: true}, false},
	} {
		path := filepath.Join(t.TempDir(), "t.db")
		db := storetest.OpenAt(t, path)
		if _, err := db.CreateRun(ctx, bench.Run{UUID: "u1", Label: "keep"}); err != nil {
			t.Fatal(err)
		}
		db.Close()
		ro, err := store.OpenReadOnlyWith(ctx, path, storetest.Schema(t), tc.o)
		if err != nil {
			t.Fatal(err)
		}
		if r, err := ro.GetRun(ctx, 1); err != nil || r.Label != "keep" {
			t.Errorf("%+v: run 1 = %+v, %v", tc.o, r, err)
		}
		maps, err := os.ReadFile("/proc/self/maps")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(maps), path+"\n"); got != tc.mapped {
			t.Errorf("%+v: file mapped %t, want %t", tc.o, got, tc.mapped)
		}
		ro.Close()
	}
}
