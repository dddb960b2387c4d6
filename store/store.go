package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/trackerbench/tracker/bench"
	"modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrReadOnly is returned when a statement tries to write through a read-only handle.
	ErrReadOnly = errors.New("the database is open read-only")
	// ErrNewerSchema is returned when the file was written by a newer tracker.
	ErrNewerSchema = errors.New("database schema is newer than this tracker")
	// ErrNotFound is returned when a run or row asked for does not exist (bench.ErrNotFound).
	ErrNotFound = bench.ErrNotFound
	// ErrNoDatabase is returned when a read-only open finds nothing recorded: no file at the
	// path (SQLite), or no tracker schema in the database (PostgreSQL).
	ErrNoDatabase = errors.New("nothing recorded here yet")
	// ErrEmptyPath is returned for an empty database path (--db "" or TRACKER_DB=).
	ErrEmptyPath = errors.New("the database path is empty (--db or TRACKER_DB)")
	// ErrNotTracker is returned for an SQLite file that is not a tracker database.
	ErrNotTracker = errors.New("not a tracker database")
)

// DB is an open tracker database.
type DB struct {
	path     string // the file, or the PostgreSQL URL without its password
	sql      *sql.DB
	readOnly bool
	dialect  dialect
	// olderVersion is the file's schema version when it was older than this tracker's and
	// is read through a migrated temporary copy (0 = read in place).
	olderVersion int
	cleanup      func() // removes the temporary copy
}

// Path is the file the database lives in, or for PostgreSQL its URL without the password
// (safe to print).
func (db *DB) Path() string { return db.path }

// Postgres reports whether the database is PostgreSQL (else SQLite).
func (db *DB) Postgres() bool { return db.dialect == dialectPostgres }

// OlderVersion is the schema version of a file that was older than this tracker's and is
// read through a migrated temporary copy, left untouched; 0 when read in place.
func (db *DB) OlderVersion() int { return db.olderVersion }

// Close closes the database (and removes a temporary migrated copy).
func (db *DB) Close() error {
	err := db.sql.Close()
	if db.cleanup != nil {
		db.cleanup()
	}
	return err
}

// OpenOptions tune Open; zero values take the defaults.
type OpenOptions struct {
	// BusyTimeout is how long one statement waits for another process's lock (default 10 s).
	BusyTimeout time.Duration
	// MaxPages caps the file's size in pages (PRAGMA max_page_count; 0 = SQLite's default).
	// A cap makes inserts fail with SQLITE_FULL as a full disk does.
	MaxPages int
	// NoMap makes a read-only handle read pages with read(2) instead of mapping the file
	// (readerMmapBytes). Every mapped page a statement touched counts in the process's
	// resident memory until the connection closes: a reader that goes through the whole file
	// once and keeps what it needs (tracker report) would hold the file beside its own
	// data. It costs a copy of each page read.
	NoMap bool
	// immutable opens a read-only handle with SQLite's immutable=1: no locks, no -shm, no
	// -wal (see openReadOnlyFile for when that is safe).
	immutable bool
	// PostgresSchema is the PostgreSQL schema's text for a postgres:// path (default:
	// PostgresSchema, embedded); the schema argument is SQLite's.
	PostgresSchema string
}

const defaultBusyTimeout = 10 * time.Second

// readerMmapBytes is how much of a file a read-only handle maps (PRAGMA mmap_size).
const readerMmapBytes = 1 << 30

func dsn(path string, readOnly bool, o OpenOptions) string {
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = defaultBusyTimeout
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("mode", "ro")
		q.Add("_pragma", "query_only(1)")
		// Readers map the file instead of copying each page with a read(2): a scan over a
		// million requests spends a fifth of its time in those calls otherwise. A reader
		// never changes the file; tracker's writers never shrink it (no VACUUM).
		if !o.NoMap {
			q.Add("_pragma", fmt.Sprintf("mmap_size(%d)", readerMmapBytes))
		}
		if o.immutable {
			q.Add("immutable", "1")
		}
	} else {
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_txlock", "immediate")
		if o.MaxPages > 0 {
			q.Add("_pragma", fmt.Sprintf("max_page_count(%d)", o.MaxPages))
		}
	}
	return "file:" + escapePath(path) + "?" + q.Encode()
}

// escapePath makes a file path safe in a "file:" URI: '%', '?' and '#' would otherwise
// start an escape, the query or the fragment (SQLite decodes %HH in the path).
func escapePath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

func checkPath(path string) error {
	if strings.TrimSpace(path) == "" {
		return ErrEmptyPath
	}
	return nil
}

// Open opens (creating if needed) the database at path for writing and applies every
// migration in schema that the file has not seen. schema is the text of schema.sql. A path
// that is a postgres:// or postgresql:// URL opens that PostgreSQL database instead, with
// the embedded PostgresSchema.
func Open(ctx context.Context, path, schema string) (*DB, error) {
	return OpenWith(ctx, path, schema, OpenOptions{})
}

// OpenWith is Open with options. A file that is not a tracker database (schema version 0
// with tables in it) or that a newer tracker wrote is refused before anything in it changes
// (its journal mode included); only then is the file switched to WAL and migrated.
func OpenWith(ctx context.Context, path, schema string, o OpenOptions) (*DB, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	if IsPostgresURL(path) {
		pg := o.PostgresSchema
		if pg == "" {
			pg = PostgresSchema
		}
		return openPostgres(ctx, path, pg)
	}
	parsed, err := ParseSchema(schema)
	if err != nil {
		return nil, err
	}
	if err := registerPercentiles(); err != nil {
		return nil, err
	}
	sqldb, err := sql.Open("sqlite", dsn(path, false, o))
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	// One connection: a single writer never contends for SQLite's lock with itself.
	sqldb.SetMaxOpenConns(1)
	db := &DB{path: path, sql: sqldb}
	if err := db.prepareForWriting(ctx, parsed); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	return db, nil
}

func (db *DB) prepareForWriting(ctx context.Context, schema Schema) error {
	v, err := db.userVersion(ctx)
	if err != nil {
		return err
	}
	if err := db.checkTracker(ctx, v, len(schema.Migrations), true); err != nil {
		return err
	}
	// Changing the journal mode takes an exclusive lock and SQLite answers BUSY at once, without
	// its busy handler, while another process opens or migrates the same file: retry it, and the
	// migration (one transaction, rolled back on failure) likewise.
	if err := retryBusy(ctx, DefaultRetryBudget, func() error {
		_, err := db.sql.ExecContext(ctx, "PRAGMA journal_mode = WAL")
		return err
	}); err != nil {
		return fmt.Errorf("switching to WAL: %w", err)
	}
	if err := retryBusy(ctx, DefaultRetryBudget, func() error { return db.migrate(ctx, schema) }); err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	return nil
}

// checkTracker refuses a file another program wrote (version 0 with tables; with
// emptyOK, an empty file is a new database) and one a newer tracker wrote.
func (db *DB) checkTracker(ctx context.Context, v, known int, emptyOK bool) error {
	if v > known {
		return fmt.Errorf("version %d, this tracker knows %d: %w", v, known, ErrNewerSchema)
	}
	if v > 0 {
		return nil
	}
	// The version and the objects are read in one statement (one snapshot): read apart, another
	// process's migration could commit between them (version 0, then its tables).
	var n int
	if err := db.sql.QueryRowContext(ctx, "SELECT count(*), (SELECT user_version FROM pragma_user_version) FROM sqlite_master").Scan(&n, &v); err != nil {
		return fmt.Errorf("reading the schema: %w", err)
	}
	if v > 0 {
		return db.checkTracker(ctx, v, known, emptyOK)
	}
	if n > 0 || !emptyOK {
		return fmt.Errorf("schema version 0 with %d schema objects: %w", n, ErrNotTracker)
	}
	return nil
}

// OpenReadOnly opens an existing database for reading only: nothing a statement does can
// change or create a file (readonly.go). It never changes the file either: a file that is
// not a tracker database or that a newer tracker wrote is refused; one at an older schema
// version is copied to a temporary file, migrated there and read from the copy (the next
// `tracker run` upgrades the file itself). A PostgreSQL URL opens that database with every
// transaction READ ONLY (postgres.go).
func OpenReadOnly(ctx context.Context, path string, schema string) (*DB, error) {
	return OpenReadOnlyWith(ctx, path, schema, OpenOptions{})
}

// OpenReadOnlyWith is OpenReadOnly with options: of them, a read-only handle uses
// BusyTimeout and NoMap (SQLite only).
func OpenReadOnlyWith(ctx context.Context, path string, schema string, o OpenOptions) (*DB, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	if IsPostgresURL(path) {
		return openPostgresReadOnly(ctx, path, PostgresSchema)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("opening database %s: no such file: %w", path, ErrNoDatabase)
	}
	migrations, err := ParseMigrations(schema)
	if err != nil {
		return nil, err
	}
	db, v, err := openReadOnlyFile(ctx, path, o)
	if err != nil {
		return nil, err
	}
	if err := db.checkTracker(ctx, v, len(migrations), false); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	if v == len(migrations) {
		return db, nil
	}
	defer db.Close()
	cp, err := db.migratedCopy(ctx, schema, o)
	if err != nil {
		return nil, fmt.Errorf("opening database %s (schema version %d, older than %d): %w", path, v, len(migrations), err)
	}
	cp.path, cp.olderVersion = path, v
	return cp, nil
}

// openReadOnlyFile opens path read-only and reads its schema version. A database in a
// folder this process may not write (another user's, a read-only mount) cannot get its -shm
// file, and SQLite refuses even to read it; when it has no write-ahead log with content (so
// the file alone holds every committed row), it is opened again as immutable, which needs
// neither locks nor -shm. With a log present, the error stands: reading the file without it
// would miss committed rows.
func openReadOnlyFile(ctx context.Context, path string, o OpenOptions) (*DB, int, error) {
	db, v, err := openReadOnlyWith(ctx, path, o)
	if err != nil && cannotShareLocks(err) && walEmpty(path) {
		o.immutable = true
		db, v, err = openReadOnlyWith(ctx, path, o)
	}
	return db, v, err
}

func openReadOnlyWith(ctx context.Context, path string, o OpenOptions) (*DB, int, error) {
	sqldb, err := openReadOnlySQL(dsn(path, true, o))
	if err != nil {
		return nil, 0, fmt.Errorf("opening database %s: %w", path, err)
	}
	sqldb.SetMaxOpenConns(4)
	db := &DB{path: path, sql: sqldb, readOnly: true}
	v, err := db.userVersion(ctx)
	if err != nil {
		sqldb.Close()
		return nil, 0, fmt.Errorf("opening database %s: %w", path, err)
	}
	return db, v, nil
}

// cannotShareLocks reports SQLite's "read-only" and "cannot open" answers, given when the
// -shm file of a WAL database cannot be created or opened.
func cannotShareLocks(err error) bool {
	return hasCode(err, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN)
}

// walEmpty reports whether path has no write-ahead log with content beside it.
func walEmpty(path string) bool {
	st, err := os.Stat(path + "-wal")
	return errors.Is(err, os.ErrNotExist) || (err == nil && st.Size() == 0)
}

// migratedCopy copies the database with SQLite's backup API into a temporary file,
// migrates the copy and opens it read-only; closing it removes the copy.
func (db *DB) migratedCopy(ctx context.Context, schema string, o OpenOptions) (*DB, error) {
	dir, err := os.MkdirTemp("", "tracker-read-*")
	if err != nil {
		return nil, fmt.Errorf("making a temporary copy: %w", err)
	}
	remove := func() { os.RemoveAll(dir) }
	tmp := filepath.Join(dir, "copy.db")
	if err := db.backupTo(ctx, tmp); err != nil {
		remove()
		return nil, err
	}
	w, err := Open(ctx, tmp, schema)
	if err != nil {
		remove()
		return nil, fmt.Errorf("migrating the temporary copy: %w", err)
	}
	w.Close()
	cp, _, err := openReadOnlyFile(ctx, tmp, o)
	if err != nil {
		remove()
		return nil, err
	}
	cp.cleanup = remove
	return cp, nil
}

type backuper interface {
	NewBackup(dstURI string) (*sqlite.Backup, error)
}

func (db *DB) backupTo(ctx context.Context, dst string) error {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("copying the database: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		b, ok := dc.(backuper)
		if !ok {
			return fmt.Errorf("copying the database: the driver has no backup API (%T)", dc)
		}
		bk, err := b.NewBackup("file:" + escapePath(dst))
		if err != nil {
			return fmt.Errorf("copying the database: %w", err)
		}
		if _, err := bk.Step(-1); err != nil {
			bk.Finish()
			return fmt.Errorf("copying the database: %w", err)
		}
		if err := bk.Finish(); err != nil {
			return fmt.Errorf("copying the database: %w", err)
		}
		return nil
	})
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
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	if db.dialect == dialectPostgres {
		v, _, err := postgresVersion(ctx, db.sql)
		return v, err
	}
	return db.userVersion(ctx)
}

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
	if v < len(schema.Migrations) {
		if err := fillRunUUIDs(ctx, tx, db.dialect); err != nil {
			return err
		}
	}
	if err := syncViews(ctx, tx, schema.Views, v < len(schema.Migrations)); err != nil {
		return err
	}
	if v < levelSummaryMigration && len(schema.Migrations) >= levelSummaryMigration {
		// Levels recorded before level_summary existed get their row now, in the migration's
		// transaction: v_summary computes in SQL only the levels still running.
		if err := summarizeEnded(ctx, tx, 0); err != nil {
			return fmt.Errorf("migration %d: %w", levelSummaryMigration, err)
		}
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
