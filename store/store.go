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
	parsed, err := ParseSchema(schema)
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
	if err := db.migrate(ctx, parsed); err != nil {
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

// Schema is schema.sql split into its parts: the numbered migration blocks, which change
// tables and indexes, and the views, which are derived and re-created after migrating.
type Schema struct {
	Migrations []string
	Views      string
}

const (
	migrationMarker = "-- migration:"
	viewsMarker     = "-- views"
)

// ParseSchema splits schema.sql into its numbered blocks ("-- migration: N") and its views
// section (after a line "-- views"). Lines before the first marker are a header.
func ParseSchema(schema string) (Schema, error) {
	var s Schema
	var cur *strings.Builder
	inViews := false
	var views strings.Builder
	flush := func() {
		if cur != nil {
			s.Migrations[len(s.Migrations)-1] = cur.String()
		}
	}
	for i, line := range strings.Split(schema, "\n") {
		trimmed := strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(trimmed, migrationMarker); ok {
			n, err := strconv.Atoi(strings.TrimSpace(rest))
			if err != nil || n != len(s.Migrations)+1 {
				return Schema{}, fmt.Errorf("schema.sql line %d: want \"-- migration: %d\", got %q", i+1, len(s.Migrations)+1, line)
			}
			flush()
			s.Migrations = append(s.Migrations, "")
			cur, inViews = &strings.Builder{}, false
			continue
		}
		if trimmed == viewsMarker {
			flush()
			cur, inViews = nil, true
			continue
		}
		switch {
		case inViews:
			views.WriteString(line)
			views.WriteByte('\n')
		case cur != nil:
			cur.WriteString(line)
			cur.WriteByte('\n')
		}
	}
	flush()
	if len(s.Migrations) == 0 {
		return Schema{}, errors.New("schema.sql has no \"-- migration: 1\" block")
	}
	s.Views = views.String()
	return s, nil
}

// ParseMigrations splits schema.sql into its numbered blocks ("-- migration: N").
func ParseMigrations(schema string) ([]string, error) {
	s, err := ParseSchema(schema)
	return s.Migrations, err
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

// migrate brings the file to the schema's version in one write transaction. The version is
// read again after the lock is taken (the connection's transactions are IMMEDIATE), so two
// processes opening one file at once migrate it once: the second finds the work done. Views
// are dropped and created again when a migration ran or a definition differs from the file's.
func (db *DB) migrate(ctx context.Context, schema Schema) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("taking the write lock to migrate: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if v > len(schema.Migrations) {
		return fmt.Errorf("version %d, this tracker knows %d: %w", v, len(schema.Migrations), ErrNewerSchema)
	}
	for i := v; i < len(schema.Migrations); i++ {
		if strings.TrimSpace(stripComments(schema.Migrations[i])) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, schema.Migrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	if err := syncViews(ctx, tx, schema.Views, v < len(schema.Migrations)); err != nil {
		return err
	}
	if v < len(schema.Migrations) {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(schema.Migrations))); err != nil {
			return fmt.Errorf("setting schema version %d: %w", len(schema.Migrations), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing migrations %d..%d: %w", v+1, len(schema.Migrations), err)
	}
	return nil
}

// syncViews re-creates every view from the schema's views section when force is set or when
// the file's views are not exactly those (by name and text).
func syncViews(ctx context.Context, tx *sql.Tx, views string, force bool) error {
	have, err := currentViews(ctx, tx)
	if err != nil {
		return err
	}
	want := viewStatements(views)
	if !force && equalViews(have, want) {
		return nil
	}
	for name := range have {
		if _, err := tx.ExecContext(ctx, `DROP VIEW IF EXISTS "`+name+`"`); err != nil {
			return fmt.Errorf("dropping view %s: %w", name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, views); err != nil {
		return fmt.Errorf("creating views: %w", err)
	}
	return nil
}

func currentViews(ctx context.Context, tx *sql.Tx) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT name, sql FROM sqlite_master WHERE type = 'view'")
	if err != nil {
		return nil, fmt.Errorf("listing views: %w", err)
	}
	defer rows.Close()
	have := map[string]string{}
	for rows.Next() {
		var name, text string
		if err := rows.Scan(&name, &text); err != nil {
			return nil, fmt.Errorf("listing views: %w", err)
		}
		have[name] = text
	}
	return have, rows.Err()
}

// viewStatements maps each view's name to its CREATE VIEW text as SQLite stores it in
// sqlite_master (from "CREATE VIEW" to the statement's end, without the semicolon).
func viewStatements(views string) map[string]string {
	want := map[string]string{}
	for _, stmt := range strings.Split(stripComments(views), ";") {
		stmt = strings.TrimSpace(stmt)
		fields := strings.Fields(stmt)
		if len(fields) >= 3 && strings.EqualFold(fields[0], "CREATE") && strings.EqualFold(fields[1], "VIEW") {
			want[fields[2]] = stmt
		}
	}
	return want
}

func equalViews(have, want map[string]string) bool {
	if len(have) != len(want) {
		return false
	}
	for name, text := range want {
		if strings.TrimSpace(stripComments(have[name])) != text {
			return false
		}
	}
	return true
}

// stripComments removes "--" comments (schema.sql has no "--" inside string literals).
func stripComments(sqlText string) string {
	var b strings.Builder
	for _, line := range strings.Split(sqlText, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}
