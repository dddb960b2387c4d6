package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"modernc.org/sqlite"
)

// ErrNotReadStatement is returned when `tracker query` is given something other than one
// read-only statement.
var ErrNotReadStatement = errors.New("not a single read-only statement")

// A read-only handle is read-only by construction, in three layers:
//  1. the file is opened with mode=ro and query_only(1);
//  2. every connection carries an SQLite authorizer (readOnlyAuthorizer) that denies, at
//     compile time, every action but reading: no INSERT/UPDATE/DELETE, no CREATE/DROP/ALTER,
//     no ATTACH/DETACH (so no other file is opened or created: VACUUM INTO attaches its
//     target and is denied with it), no transaction control, and no PRAGMA but a list of
//     reading ones without a value (PRAGMA query_only=0 and journal_mode=WAL are denied);
//  3. statements given by a user (ReadStatement) must be exactly one, starting with
//     SELECT, WITH, VALUES, EXPLAIN or PRAGMA.

// readConnector opens connections with the read-only authorizer installed.
type readConnector struct{ driver.Connector }

func (c readConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	reg, ok := conn.(sqlite.AuthorizerRegisterer)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("the SQLite driver cannot install an authorizer (%T)", conn)
	}
	if err := reg.RegisterAuthorizer(readOnlyAuthorizer); err != nil {
		conn.Close()
		return nil, fmt.Errorf("installing the read-only authorizer: %w", err)
	}
	return conn, nil
}

func openReadOnlySQL(dsn string) (*sql.DB, error) {
	if err := registerPercentiles(); err != nil {
		return nil, err
	}
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(readConnector{base}), nil
}

// readPragmas may run without a value; tablePragmas may also take a table or index name.
var (
	readPragmas = map[string]bool{"user_version": true, "schema_version": true, "application_id": true,
		"journal_mode": true, "page_size": true, "page_count": true, "freelist_count": true, "encoding": true,
		"compile_options": true, "database_list": true, "table_list": true, "function_list": true,
		"collation_list": true, "module_list": true, "pragma_list": true, "foreign_keys": true,
		"query_only": true, "data_version": true, "auto_vacuum": true}
	tablePragmas = map[string]bool{"table_info": true, "table_xinfo": true, "index_list": true,
		"index_info": true, "index_xinfo": true, "foreign_key_list": true, "integrity_check": true,
		"quick_check": true, "foreign_key_check": true}
)

func readOnlyAuthorizer(action sqlite.AuthorizerActionCode, arg1, arg2, _, _ string) sqlite.AuthorizerReturnCode {
	switch action {
	case sqlite.AuthSelect, sqlite.AuthRead, sqlite.AuthFunction, sqlite.AuthRecursive:
		return sqlite.AuthorizerOK
	case sqlite.AuthPragma:
		name := strings.ToLower(arg1)
		if tablePragmas[name] || (readPragmas[name] && arg2 == "") {
			return sqlite.AuthorizerOK
		}
	}
	return sqlite.AuthorizerDeny
}

// readKeywords may start a user's statement.
var readKeywords = map[string]bool{"SELECT": true, "WITH": true, "VALUES": true, "EXPLAIN": true, "PRAGMA": true}

// checkReadStatement accepts exactly one statement that starts with a reading keyword.
// Trailing semicolons, spaces and comments are allowed; a second statement is not.
func checkReadStatement(query string) error {
	toks := sqlTokens(query)
	if len(toks) == 0 {
		return fmt.Errorf("%w: the statement is empty", ErrNotReadStatement)
	}
	for i, t := range toks {
		if t == ";" && i+1 < len(toks) && toks[i+1] != ";" {
			return fmt.Errorf("%w: one statement per call (found more after a ';')", ErrNotReadStatement)
		}
	}
	if first := strings.ToUpper(toks[0]); !readKeywords[first] {
		return fmt.Errorf("%w: %q: want SELECT, WITH, VALUES, EXPLAIN or a reading PRAGMA", ErrNotReadStatement, toks[0])
	}
	return nil
}

// sqlTokens splits SQL into coarse tokens: words, quoted strings and identifiers (each one
// token), ";" and other single characters; spaces and comments are dropped. It only needs
// to find statement boundaries and the first keyword, so it never fails: an unterminated
// quote or comment runs to the end.
func sqlTokens(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				i = len(s)
			} else {
				i += end + 4
			}
		case c == '\'' || c == '"' || c == '`' || c == '[':
			j := quotedEnd(s, i)
			out = append(out, s[i:j])
			i = j
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			out = append(out, s[i:j])
			i = j
		default:
			out = append(out, s[i:i+1])
			i++
		}
	}
	return out
}

// quotedEnd returns the index after the quoted token starting at i (a doubled quote
// character inside stands for itself).
func quotedEnd(s string, i int) int {
	closer := s[i]
	if closer == '[' {
		closer = ']'
	}
	for j := i + 1; j < len(s); j++ {
		if s[j] != closer {
			continue
		}
		if closer != ']' && j+1 < len(s) && s[j+1] == closer {
			j++
			continue
		}
		return j + 1
	}
	return len(s)
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// Rows is a streamed query result: call Next until it returns false, then Err; Close always.
type Rows struct {
	rows *sql.Rows
	tx   *sql.Tx // PostgreSQL: the READ ONLY transaction the statement runs in
	cols []string
	vals []any
	ptrs []any
	db   *DB
}

// Columns are the result's column names.
func (r *Rows) Columns() []string { return r.cols }

// Next advances to the next row; false at the end or on an error (see Err).
func (r *Rows) Next() bool { return r.rows.Next() }

// Values scans the current row; the slice is reused by the next call.
func (r *Rows) Values() ([]any, error) {
	if err := r.rows.Scan(r.ptrs...); err != nil {
		return nil, r.db.wrapQueryErr(err)
	}
	return r.vals, nil
}

// Err is the error that ended the iteration, if any.
func (r *Rows) Err() error {
	if err := r.rows.Err(); err != nil {
		return r.db.wrapQueryErr(err)
	}
	return nil
}

// Close releases the result (and ends its read-only transaction).
func (r *Rows) Close() error {
	err := r.rows.Close()
	if r.tx != nil {
		r.tx.Rollback()
	}
	return err
}

// ReadStatement runs one read-only statement given by a user and streams its rows. It
// refuses anything but one statement starting with a reading keyword (before the database
// sees it). On SQLite, a read-only handle's authorizer refuses any write the statement
// compiles to. On PostgreSQL the statement runs alone in a READ ONLY transaction (on a
// handle whose sessions default to read-only too), through the extended protocol, which
// takes exactly one statement.
func (db *DB) ReadStatement(ctx context.Context, query string) (*Rows, error) {
	if err := checkReadStatement(query); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	var tx *sql.Tx
	var rows *sql.Rows
	var err error
	if db.dialect == dialectPostgres {
		tx, err = db.sql.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return nil, db.wrapQueryErr(err)
		}
		// One argument-free statement: pgx would send it with the simple protocol, which runs
		// several; QueryExecModeDescribeExec forces the extended protocol's single statement.
		rows, err = tx.QueryContext(ctx, query, pgx.QueryExecModeDescribeExec)
	} else {
		rows, err = db.sql.QueryContext(ctx, query)
	}
	if err != nil {
		if tx != nil {
			tx.Rollback()
		}
		return nil, db.wrapQueryErr(err)
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		if tx != nil {
			tx.Rollback()
		}
		return nil, db.wrapQueryErr(err)
	}
	r := &Rows{rows: rows, tx: tx, cols: cols, vals: make([]any, len(cols)), ptrs: make([]any, len(cols)), db: db}
	for i := range r.vals {
		r.ptrs[i] = &r.vals[i]
	}
	return r, nil
}
