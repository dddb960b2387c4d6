package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for creating schemas

	"github.com/trackerbench/tracker/internal/testenv"
	"github.com/trackerbench/tracker/store"
)

// Backend is a kind of database the store's tests run against.
type Backend struct {
	Name string
	// Path returns the --db value of a fresh, empty database of this kind for t (an SQLite
	// file in t.TempDir(); a new PostgreSQL schema, dropped when t ends).
	Path func(t testing.TB) string
}

// Open opens (creating and migrating) a fresh database of this kind, closed when t ends.
func (b Backend) Open(t testing.TB) *store.DB {
	t.Helper()
	return OpenAt(t, b.Path(t))
}

// Postgres reports whether the backend is PostgreSQL.
func (b Backend) Postgres() bool { return b.Name == "postgres" }

// SQLite is the embedded default.
var SQLite = Backend{Name: "sqlite", Path: func(t testing.TB) string {
	return filepath.Join(t.TempDir(), "tracker.db")
}}

// Postgres is the server named by TRACKER_TEST_POSTGRES (internal/testenv): each database
// is a schema of its own on it. Without a server, its tests skip locally and fail under CI.
var Postgres = Backend{Name: "postgres", Path: PostgresPath}

// Backends are every kind of database, SQLite first.
func Backends() []Backend { return []Backend{SQLite, Postgres} }

// ForEach runs fn as a subtest per backend ("sqlite", "postgres").
func ForEach(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, b) })
	}
}

// PostgresPath creates an empty schema on the tests' PostgreSQL server and returns a URL
// whose connections use it (search_path); the schema is dropped when t ends.
func PostgresPath(t testing.TB) string {
	t.Helper()
	server := testenv.Postgres(t)
	admin, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatalf("PostgreSQL server (%s): %v", testenv.PostgresEnv, err)
	}
	t.Cleanup(func() { admin.Close() })
	name := schemaName(t)
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("creating schema %s on the PostgreSQL server (%s): %v", name, testenv.PostgresEnv, err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", name, err)
		}
	})
	return WithParam(t, server, "search_path", name)
}

// WithParam returns the URL u with one query parameter set.
func WithParam(t testing.TB, u, key, value string) string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", testenv.PostgresEnv, err)
	}
	q := parsed.Query()
	q.Set(key, value)
	parsed.RawQuery = q.Encode()
	return parsed.String()
}

// schemaName is a fresh schema name that says which test made it.
func schemaName(t testing.TB) string {
	var b [4]byte
	rand.Read(b[:])
	base := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '_'
	}, t.Name())
	if len(base) > 40 {
		base = base[len(base)-40:]
	}
	return fmt.Sprintf("t_%s_%s", base, hex.EncodeToString(b[:]))
}
