package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	_ "embed" // schema_pg.sql
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgresSchema is the PostgreSQL schema (store/schema_pg.sql): the same migration numbers,
// tables and views as schema.sql, in PostgreSQL's dialect.
//
//go:embed schema_pg.sql
var PostgresSchema string

// SQLSTATE codes the store reacts to.
const (
	pgReadOnlyTransaction = "25006" // read_only_sql_transaction
	pgSerialization       = "40001" // serialization_failure
	pgDeadlock            = "40P01" // deadlock_detected
	pgLockNotAvailable    = "55P03" // lock_not_available
	pgInsufficientPriv    = "42501" // insufficient_privilege
)

// Connections a PostgreSQL handle keeps at most: the writer's batches, the runner's level and
// lease updates and a report's parallel readers each take one.
const pgMaxConns = 4

// migrationLockKey is the first half of the advisory lock taken while migrating (the second
// is a hash of the schema the tables live in): two processes migrate one schema once.
const migrationLockKey = 0x7472 // "tr"

// pgConnector hands out connections that accept the store's SQLite-style placeholders.
type pgConnector struct{ driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(*stdlib.Conn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("unexpected PostgreSQL driver connection %T", conn)
	}
	return pgConn{sc}, nil
}

// pgConn rewrites "?" and "?N" placeholders to "$N" (rebind) in statements that take
// arguments. A statement without arguments is passed as it is: it has no placeholders, and
// PostgreSQL's own "?" operators (jsonb) in an analyst's query stay intact.
type pgConn struct{ *stdlib.Conn }

func (c pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(context.Background(), rebind(query))
}

func (c pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, rebind(query))
}

func (c pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if bindsArgs(args) {
		query = rebind(query)
	}
	return c.Conn.ExecContext(ctx, query, args)
}

func (c pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if bindsArgs(args) {
		query = rebind(query)
	}
	return c.Conn.QueryContext(ctx, query, args)
}

// bindsArgs reports whether args hold a value to bind (not only pgx's options, such as a
// QueryExecMode).
func bindsArgs(args []driver.NamedValue) bool {
	for _, a := range args {
		if _, ok := a.Value.(pgx.QueryExecMode); !ok {
			return true
		}
	}
	return false
}

// errBadURL stands for every error parsing a PostgreSQL URL: the parser's own messages may
// quote the URL, password included, so none of them is passed on.
var errBadURL = errors.New("not a valid PostgreSQL URL (postgres://user@host:port/database?param=value); the URL is not repeated here as it may hold a password")

// openPostgresSQL connects to the database rawURL names. A read-only handle's sessions
// default to READ ONLY transactions. The password, if any, comes from the URL, PGPASSWORD or
// ~/.pgpass (pgx reads them); it is never kept in the DB's printable path.
func openPostgresSQL(ctx context.Context, rawURL string, readOnly bool) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(strings.TrimSpace(rawURL))
	if err != nil {
		return nil, errBadURL
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = "tracker"
	if readOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	sqldb := sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)})
	sqldb.SetMaxOpenConns(pgMaxConns)
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("connecting: %w", err)
	}
	return sqldb, nil
}

// openPostgres opens the PostgreSQL database at rawURL for writing, creating the schema or
// migrating it (pgSchema is its text: PostgresSchema, or a test's).
func openPostgres(ctx context.Context, rawURL, pgSchema string) (*DB, error) {
	shown := redactedURL(rawURL)
	parsed, err := ParseSchema(pgSchema)
	if err != nil {
		return nil, err
	}
	sqldb, err := openPostgresSQL(ctx, rawURL, false)
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", shown, err)
	}
	db := &DB{path: shown, sql: sqldb, dialect: dialectPostgres}
	if err := retryBusy(ctx, DefaultRetryBudget, func() error { return db.migratePostgres(ctx, parsed) }); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("opening database %s: migrating: %w", shown, err)
	}
	return db, nil
}

// openPostgresReadOnly opens the PostgreSQL database at rawURL for reading only. It changes
// nothing: a database at an older schema version is refused with what to do (a PostgreSQL
// database is migrated by the next `tracker run` against it, not copied).
func openPostgresReadOnly(ctx context.Context, rawURL, pgSchema string) (*DB, error) {
	shown := redactedURL(rawURL)
	migrations, err := ParseMigrations(pgSchema)
	if err != nil {
		return nil, err
	}
	sqldb, err := openPostgresSQL(ctx, rawURL, true)
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", shown, err)
	}
	db := &DB{path: shown, sql: sqldb, readOnly: true, dialect: dialectPostgres}
	v, _, err := postgresVersion(ctx, sqldb)
	if err == nil && v == 0 {
		err = fmt.Errorf("no tracker tables in this database (tracker run --db URL creates them): %w", ErrNoDatabase)
	}
	if err == nil && v < len(migrations) {
		err = fmt.Errorf("schema version %d is older than this tracker's %d: open it once for writing (tracker run --db ...) to migrate it", v, len(migrations))
	}
	if err == nil && v > len(migrations) {
		err = fmt.Errorf("version %d, this tracker knows %d: %w", v, len(migrations), ErrNewerSchema)
	}
	if err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("opening database %s: %w", shown, err)
	}
	return db, nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// postgresVersion reads the schema version and views hash from tracker_schema in the current
// schema. With no such table the version is 0, and a schema that holds other tables is not
// a tracker database (ErrNotTracker).
func postgresVersion(ctx context.Context, q queryer) (int, string, error) {
	var exists bool
	var tables int
	if err := q.QueryRowContext(ctx, `SELECT to_regclass(quote_ident(current_schema()) || '.tracker_schema') IS NOT NULL,
		(SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema())`).Scan(&exists, &tables); err != nil {
		return 0, "", fmt.Errorf("reading the schema version: %w", err)
	}
	if !exists {
		if tables > 0 {
			return 0, "", fmt.Errorf("schema version 0 with %d tables: %w", tables, ErrNotTracker)
		}
		return 0, "", nil
	}
	var v int
	var views string
	err := q.QueryRowContext(ctx, `SELECT version, views_sha256 FROM tracker_schema`).Scan(&v, &views)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("reading the schema version: %w", err)
	}
	return v, views, nil
}

// migratePostgres brings the database to the schema's version in one transaction, under an
// advisory lock so that two processes opening one database at once migrate it once (the
// second finds the work done). Views are dropped and created again when a migration ran or
// the views section's hash differs from the one recorded.
func (db *DB) migratePostgres(ctx context.Context, schema Schema) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("starting the migration: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?, hashtext(current_schema()))`, migrationLockKey); err != nil {
		return fmt.Errorf("taking the migration lock: %w", err)
	}
	v, viewsHash, err := postgresVersion(ctx, tx)
	if err != nil {
		return err
	}
	known := len(schema.Migrations)
	if v > known {
		return fmt.Errorf("version %d, this tracker knows %d: %w", v, known, ErrNewerSchema)
	}
	if v == 0 {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS tracker_schema (
			version      INTEGER NOT NULL,
			views_sha256 TEXT    NOT NULL)`); err != nil {
			return fmt.Errorf("creating tracker_schema: %w", err)
		}
	}
	for i := v; i < known; i++ {
		if strings.TrimSpace(stripComments(schema.Migrations[i])) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, schema.Migrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	if v < levelSummaryMigration && known >= levelSummaryMigration {
		if err := summarizeEnded(ctx, tx, 0); err != nil {
			return fmt.Errorf("migration %d: %w", levelSummaryMigration, err)
		}
	}
	if v < known {
		if err := fillRunUUIDs(ctx, tx, dialectPostgres); err != nil {
			return err
		}
	}
	want := viewsDigest(schema.Views)
	if v < known || viewsHash != want {
		if err := recreatePostgresViews(ctx, tx, schema.Views); err != nil {
			return err
		}
	}
	if v != known || viewsHash != want {
		if _, err := tx.ExecContext(ctx, `DELETE FROM tracker_schema`); err != nil {
			return fmt.Errorf("recording the schema version: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tracker_schema (version, views_sha256) VALUES (?, ?)`, known, want); err != nil {
			return fmt.Errorf("recording the schema version: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing migrations %d..%d: %w", v+1, known, err)
	}
	return nil
}

// viewNames lists the views the section creates, in their order.
func viewNames(views string) []string {
	var names []string
	for _, stmt := range strings.Split(stripComments(views), ";") {
		fields := strings.Fields(stmt)
		if len(fields) >= 3 && strings.EqualFold(fields[0], "CREATE") && strings.EqualFold(fields[1], "VIEW") {
			names = append(names, fields[2])
		}
	}
	return names
}

func viewsDigest(views string) string {
	sum := sha256.Sum256([]byte(views))
	return hex.EncodeToString(sum[:])
}

// recreatePostgresViews drops the section's views, the last defined first (a view may read an
// earlier one), by name and without CASCADE (a view an analyst built on one of them makes the
// migration fail with PostgreSQL's message rather than vanish), and creates them again.
func recreatePostgresViews(ctx context.Context, tx *sql.Tx, views string) error {
	names := viewNames(views)
	for i := len(names) - 1; i >= 0; i-- {
		name := names[i]
		if _, err := tx.ExecContext(ctx, `DROP VIEW IF EXISTS `+name); err != nil {
			return fmt.Errorf("dropping view %s: %w", name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, views); err != nil {
		return fmt.Errorf("creating views: %w", err)
	}
	return nil
}

// pgCode is the SQLSTATE of a PostgreSQL error, "" for any other error.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}
