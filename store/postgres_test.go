package store_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

// PostgreSQL keeps its version in tracker_schema: a later block is applied once, keeping
// the data, and a database newer than the binary is refused by both kinds of open.
func TestPostgresMigrationsForwardOnly(t *testing.T) {
	ctx := context.Background()
	path := storetest.Postgres.Path(t)
	db, err := store.Open(ctx, path, storetest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	id, err := db.CreateRun(ctx, bench.Run{Label: "keep", StartedAt: time.Now(), ToolVersion: "t", Host: "h", ConfigJSON: "{}", Dataset: "d"})
	if err != nil {
		t.Fatal(err)
	}
	v1, _ := db.SchemaVersion(ctx)
	db.Close()
	next := store.PostgresSchema + "\n-- migration: " + strconv.Itoa(v1+1) + "\nCREATE TABLE extra (x INTEGER);\n"
	for range 2 { // the second open finds the work done
		db, err = store.OpenWith(ctx, path, storetest.Schema(t), store.OpenOptions{PostgresSchema: next})
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := db.SchemaVersion(ctx); v != v1+1 {
			t.Errorf("version %d after migration, want %d", v, v1+1)
		}
		if r, err := db.GetRun(ctx, id); err != nil || r.Label != "keep" {
			t.Errorf("run after migration: %+v %v", r, err)
		}
		db.Close()
	}
	if _, err := store.Open(ctx, path, storetest.Schema(t)); !errors.Is(err, store.ErrNewerSchema) {
		t.Errorf("opening a newer database: %v, want ErrNewerSchema", err)
	}
	if _, err := store.OpenReadOnly(ctx, path, storetest.Schema(t)); !errors.Is(err, store.ErrNewerSchema) {
		t.Errorf("read-only open of a newer database: %v, want ErrNewerSchema", err)
	}
}

// A schema that holds other tables is not a tracker database: refused, untouched; an empty
// one is no database for a read-only open.
func TestPostgresForeignSchemaRefused(t *testing.T) {
	ctx := context.Background()
	path := storetest.Postgres.Path(t)
	if _, err := store.OpenReadOnly(ctx, path, storetest.Schema(t)); !errors.Is(err, store.ErrNoDatabase) {
		t.Errorf("read-only open of an empty schema: %v, want ErrNoDatabase", err)
	}
	foreign := storetest.Postgres.Path(t)
	own, err := store.OpenWith(ctx, foreign, storetest.Schema(t), store.OpenOptions{PostgresSchema: "-- migration: 1\nCREATE TABLE someone_elses (a INTEGER);\n-- views\n"})
	if err != nil {
		t.Fatal(err)
	}
	// Drop the version table: what is left is a schema with a table of another program.
	if _, err := own.Query(ctx, "DROP TABLE tracker_schema"); err != nil {
		t.Fatal(err)
	}
	own.Close()
	for _, open := range []func() error{
		func() error { _, err := store.Open(ctx, foreign, storetest.Schema(t)); return err },
		func() error { _, err := store.OpenReadOnly(ctx, foreign, storetest.Schema(t)); return err },
	} {
		if err := open(); !errors.Is(err, store.ErrNotTracker) {
			t.Errorf("open of a schema with another program's table: %v, want ErrNotTracker", err)
		}
	}
}

// The attacks of the read-only tests, and PostgreSQL's own, through `tracker query`'s path
// (ReadStatement) and through any read on a read-only handle (Query): each fails, and
// nothing in the database changes (a READ ONLY transaction, rolled back).
func TestPostgresReadOnlyAttacks(t *testing.T) {
	ctx := context.Background()
	path := storetest.Postgres.Path(t)
	db, err := store.Open(ctx, path, storetest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateRun(ctx, bench.Run{Label: "keep", StartedAt: time.Now(), ToolVersion: "t", Host: "h", ConfigJSON: "{}", Dataset: "d"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	attacks := []string{
		"SELECT 1; DELETE FROM runs",
		"DELETE FROM runs",
		"UPDATE runs SET label = 'x'",
		"WITH x AS (SELECT 1) DELETE FROM runs",
		"WITH x AS (DELETE FROM runs RETURNING 1) SELECT * FROM x",
		"EXPLAIN ANALYZE DELETE FROM runs",
		"CREATE TABLE y (a INTEGER)",
		"CREATE TEMP TABLE t (a INTEGER)",
		"DROP VIEW v_summary",
		"BEGIN",
		"COMMIT",
		"SET default_transaction_read_only = off",
		"SELECT set_config('transaction_read_only', 'off', true)",
		"SELECT nextval('runs_id_seq')",
		"SELECT * FROM runs FOR UPDATE",
		"COPY runs TO STDOUT",
		"SELECT 1; COMMIT; DELETE FROM runs",
	}
	ro, err := store.OpenReadOnly(ctx, path, storetest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	for _, q := range attacks {
		if rows, err := ro.ReadStatement(ctx, q); err == nil {
			for rows.Next() {
			}
			if rows.Err() == nil {
				t.Errorf("ReadStatement(%q) succeeded", q)
			}
			rows.Close()
		}
		// Query takes what ReadStatement refuses, but no write nor a session change.
		harmless := q == "BEGIN" || q == "COMMIT" || strings.HasPrefix(q, "COPY") || strings.HasPrefix(q, "SELECT 1;") ||
			strings.HasPrefix(q, "SET ") // rolled back with the transaction: checked below
		if _, err := ro.Query(ctx, q); err == nil && !harmless {
			t.Errorf("Query(%q) through the read-only handle succeeded", q)
		}
	}
	// The session settings tried above did not stick: a write still fails.
	for range 8 { // every pooled connection
		if _, err := ro.Query(ctx, "DELETE FROM runs"); !errors.Is(err, store.ErrReadOnly) {
			t.Errorf("DELETE after the attacks: %v, want ErrReadOnly", err)
		}
	}
	// A large object made inside the statement's transaction is rolled back with it.
	rows, err := ro.ReadStatement(ctx, "SELECT lo_create(0)")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
	}
	rows.Close()
	tb, err := ro.Query(ctx, "SELECT (SELECT COUNT(*) FROM runs WHERE label = 'keep'), (SELECT COUNT(*) FROM pg_largeobject_metadata)")
	if err != nil {
		t.Fatal(err)
	}
	if tb.Rows[0][0] != int64(1) || tb.Rows[0][1] != int64(0) {
		t.Errorf("after the attacks: runs kept %v, large objects %v: want 1 and 0", tb.Rows[0][0], tb.Rows[0][1])
	}
	// What the read-only statement may do: read, with PostgreSQL's own operators intact.
	rows, err = ro.ReadStatement(ctx, `SELECT '{"a":1}'::jsonb ? 'a', label FROM runs`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("no row: %v", rows.Err())
	}
	if v, err := rows.Values(); err != nil || v[0] != true || v[1] != "keep" {
		t.Errorf("jsonb ? through ReadStatement: %v %v", v, err)
	}
}

// A password in the URL is never part of what the store prints or returns in an error.
func TestPostgresPasswordNeverShown(t *testing.T) {
	ctx := context.Background()
	const pw = "Sup3rSecretPw"
	base := storetest.Postgres.Path(t)
	withPW := strings.Replace(base, "://", "://postgres:"+pw+"@", 1)
	if i := strings.Index(base, "@"); i >= 0 { // the server URL names a user already
		withPW = base[:strings.Index(base, "://")+3] + "postgres:" + pw + base[i:]
	}
	db, err := store.Open(ctx, withPW, storetest.Schema(t))
	if err != nil {
		if strings.Contains(err.Error(), pw) {
			t.Fatalf("the error shows the password: %v", err)
		}
		t.Fatal(err)
	}
	if strings.Contains(db.Path(), pw) || !strings.HasPrefix(db.Path(), "postgres") {
		t.Errorf("Path() = %q", db.Path())
	}
	db.Close()
	for _, bad := range []string{
		strings.Replace(withPW, "search_path=", "dbname=nosuchdb&search_path=", 1),
		strings.Replace(withPW, "127.0.0.1:", "127.0.0.1:1", 1), // a port nobody listens on (or out of range)
		"postgres://postgres:" + pw + "@127.0.0.1:notaport/db",
		"postgresql://postgres:" + pw + "@[::1/db",
		"postgres://postgres@127.0.0.1:1/db?password=" + pw,
	} {
		_, err := store.Open(ctx, bad, storetest.Schema(t))
		if err == nil {
			t.Errorf("opening %s succeeded", bad)
			continue
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("the error shows the password: %v", err)
		}
		_, err = store.OpenReadOnly(ctx, bad, storetest.Schema(t))
		if err == nil || strings.Contains(err.Error(), pw) {
			t.Errorf("read-only open: %v", err)
		}
	}
}

// Two processes resuming one interrupted run at once: exactly one takes it, the other is
// refused with ErrLeased (PostgreSQL reads the lease FOR UPDATE; SQLite's write lock
// serializes the two).
func TestReopenRunTakenOnce(t *testing.T) { storetest.ForEach(t, testReopenRunTakenOnce) }

func testReopenRunTakenOnce(t *testing.T, b storetest.Backend) {
	ctx := context.Background()
	db := b.Open(t)
	for round := range 20 {
		id, err := db.CreateRun(ctx, bench.Run{Status: bench.RunInterrupted, StartedAt: time.Now(), ToolVersion: "t", Host: "h", ConfigJSON: "{}", Dataset: "d"})
		if err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 2)
		start := make(chan struct{})
		for i := range 2 {
			go func() {
				<-start
				errs <- db.ReopenRun(ctx, id, bench.Lease{Owner: "host/" + strconv.Itoa(i), Until: time.Now().Add(time.Minute)}, nil)
			}()
		}
		close(start)
		var ok, leased int
		for range 2 {
			switch err := <-errs; {
			case err == nil:
				ok++
			case errors.Is(err, store.ErrLeased):
				leased++
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if ok != 1 || leased != 1 {
			t.Fatalf("round %d: %d processes took the run, %d were refused: want 1 and 1", round, ok, leased)
		}
	}
}
