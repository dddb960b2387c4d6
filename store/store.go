// Package store opens, migrates and writes tracker's SQLite database. It is the only
// package that speaks SQL; everything else goes through its types and methods.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrReadOnly is returned when a statement tries to write through a read-only handle.
	ErrReadOnly = errors.New("the database is open read-only")
	// ErrNewerSchema is returned when the file was written by a newer tracker.
	ErrNewerSchema = errors.New("database schema is newer than this tracker")
	// ErrNotFound is returned when a run or row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrNoDatabase is returned when a read-only open names a file that does not exist.
	ErrNoDatabase = errors.New("no database at this path")
)

// DB is an open tracker database.
type DB struct {
	path     string
	sql      *sql.DB
	readOnly bool
}

// Path is the file the database lives in.
func (db *DB) Path() string { return db.path }

// Close closes the database.
func (db *DB) Close() error { return db.sql.Close() }

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("mode", "ro")
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the database at path for writing and applies every
// migration in schema that the file has not seen. schema is the text of schema.sql.
func Open(ctx context.Context, path, schema string) (*DB, error) {
	migrations, err := ParseMigrations(schema)
	if err != nil {
		return nil, err
	}
	sqldb, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	// One connection: a single writer never contends for SQLite's lock with itself.
	sqldb.SetMaxOpenConns(1)
	db := &DB{path: path, sql: sqldb}
	if err := db.migrate(ctx, migrations); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("migrating database %s: %w", path, err)
	}
	return db, nil
}

// OpenReadOnly opens an existing database for reading only; writes fail with ErrReadOnly.
// A file at an older schema version is first migrated forward.
func OpenReadOnly(ctx context.Context, path string, schema string) (*DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("opening database %s: %w", path, ErrNoDatabase)
	}
	migrations, err := ParseMigrations(schema)
	if err != nil {
		return nil, err
	}
	sqldb, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	sqldb.SetMaxOpenConns(4)
	db := &DB{path: path, sql: sqldb, readOnly: true}
	v, err := db.userVersion(ctx)
	if err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	if v > len(migrations) {
		sqldb.Close()
		return nil, fmt.Errorf("opening database %s: version %d, this tracker knows %d: %w", path, v, len(migrations), ErrNewerSchema)
	}
	if v < len(migrations) {
		// An older file: migrate it forward (migrations only add), then read it.
		sqldb.Close()
		w, err := Open(ctx, path, schema)
		if err != nil {
			return nil, fmt.Errorf("opening database %s: schema version %d is older than %d and could not be migrated: %w", path, v, len(migrations), err)
		}
		w.Close()
		return OpenReadOnly(ctx, path, schema)
	}
	return db, nil
}

// ParseMigrations splits schema.sql into its numbered blocks ("-- migration: N").
func ParseMigrations(schema string) ([]string, error) {
	var blocks []string
	var cur *strings.Builder
	for i, line := range strings.Split(schema, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "-- migration:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(rest))
			if err != nil || n != len(blocks)+1 {
				return nil, fmt.Errorf("schema.sql line %d: want \"-- migration: %d\", got %q", i+1, len(blocks)+1, line)
			}
			blocks = append(blocks, "")
			cur = &strings.Builder{}
			continue
		}
		if cur != nil {
			cur.WriteString(line)
			cur.WriteByte('\n')
			blocks[len(blocks)-1] = cur.String()
		}
	}
	if len(blocks) == 0 {
		return nil, errors.New("schema.sql has no \"-- migration: 1\" block")
	}
	return blocks, nil
}

func (db *DB) userVersion(ctx context.Context) (int, error) {
	var v int
	if err := db.sql.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("reading schema version: %w", err)
	}
	return v, nil
}

// SchemaVersion is the migration the database is at.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) { return db.userVersion(ctx) }

func (db *DB) migrate(ctx context.Context, migrations []string) error {
	v, err := db.userVersion(ctx)
	if err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("version %d, this tracker knows %d: %w", v, len(migrations), ErrNewerSchema)
	}
	for i := v; i < len(migrations); i++ {
		tx, err := db.sql.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}
