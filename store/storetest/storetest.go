package storetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/trackerbench/tracker/store"
)

// Schema returns the text of the repository's schema.sql.
func Schema(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			b, err := os.ReadFile(filepath.Join(dir, "schema.sql"))
			if err != nil {
				t.Fatalf("reading schema.sql: %v", err)
			}
			return string(b)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("schema.sql: no go.mod above the test's directory")
		}
		dir = parent
	}
}

// Open creates a fresh database file in t.TempDir() and closes it when the test ends.
func Open(t testing.TB) *store.DB {
	t.Helper()
	return OpenAt(t, filepath.Join(t.TempDir(), "tracker.db"))
}

// OpenAt opens (creating if needed) the database at path and closes it when the test ends.
func OpenAt(t testing.TB, path string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), path, Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
