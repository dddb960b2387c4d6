package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

// OpenInBackground gives what Open gives: a database ready to read and write, or Open's
// error naming the file. Discard returns after an open that succeeded or failed.
func TestOpenInBackground(t *testing.T) {
	ctx := context.Background()
	schema := storetest.Schema(t)
	dir := t.TempDir()

	path := filepath.Join(dir, "t.db")
	db, err := store.OpenInBackground(ctx, path, schema).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Runs(ctx, 1); err != nil {
		t.Errorf("reading the opened database: %v", err)
	}
	db.Close()

	store.OpenInBackground(ctx, path, schema).Discard()

	bad := filepath.Join(dir, "not-a-db")
	if err := os.WriteFile(bad, []byte(strings.Repeat("not sqlite ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := store.OpenInBackground(ctx, bad, schema).Wait(); err == nil || !strings.Contains(err.Error(), "not-a-db") {
		t.Errorf("opening a file that is not SQLite: %v, want an error naming it", err)
	}
	store.OpenInBackground(ctx, bad, schema).Discard() // nothing to close: no panic
}
