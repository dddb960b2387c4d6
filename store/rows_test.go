package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestQueryAll reads a real SQLite file through queryAll and eachRow: the rows in order, nil
// for none, and every failure (the query, a row's scan, the callback) wrapped with what was
// being read and still matching its cause.
func TestQueryAll(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "rows.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (3), (1), (2)`); err != nil {
		t.Fatal(err)
	}
	scanInt := func(rows *sql.Rows) (int, error) {
		var n int
		err := rows.Scan(&n)
		return n, err
	}
	got, err := queryAll(ctx, db, "reading t", scanInt, `SELECT n FROM t WHERE n >= ? ORDER BY n`, 2)
	if err != nil || len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Errorf("queryAll = %v, %v; want [2 3]", got, err)
	}
	if got, err := queryAll(ctx, db, "reading t", scanInt, `SELECT n FROM t WHERE n > 9`); err != nil || got != nil {
		t.Errorf("no rows: queryAll = %#v, %v; want nil, nil", got, err)
	}

	stop := errors.New("stop")
	seen := 0
	errs := map[string]error{
		"query": eachRow(ctx, db, "reading t", func(*sql.Rows) error { return nil }, `SELECT nothing FROM t`),
		"scan": func() error {
			_, err := queryAll(ctx, db, "reading t", scanInt, `SELECT 'x' FROM t`)
			return err
		}(),
		"callback": eachRow(ctx, db, "reading t", func(*sql.Rows) error { seen++; return stop }, `SELECT n FROM t`),
	}
	for name, err := range errs {
		if err == nil || !strings.HasPrefix(err.Error(), "reading t: ") {
			t.Errorf("%s: error %v, want one that starts with what was being read", name, err)
		}
	}
	if !errors.Is(errs["callback"], stop) || seen != 1 {
		t.Errorf("callback: error %v after %d rows, want stop after 1", errs["callback"], seen)
	}
}
