package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/trackerbench/tracker/bench"
)

// requestInserts are a Writer's multi-row INSERTs of requests on SQLite, each prepared once
// (by row count) on the database's one connection and executed through the driver itself:
// SQLite parses and compiles a 256-row INSERT of 11,264 placeholders in about a
// millisecond, a few µs per row when it is done for each batch, and database/sql's checking
// of 11,264 arguments (driverArgsConnLocked) was another ~1 µs per row. The values the driver
// binds are those database/sql would hand it: each is passed as it is when it is a
// driver.Value and converted by driver.DefaultParameterConverter otherwise, what
// database/sql does for a driver without a NamedValueChecker (TestWriterValuesGolden).
type requestInserts struct {
	db    *DB
	conn  rawConn // the connection the statements are prepared on
	stmts map[int]driver.Stmt
	args  []any
	named []driver.NamedValue
}

// rawConn is what requestInserts needs of a driver connection (modernc's has it).
type rawConn interface {
	driver.ConnBeginTx
	driver.ConnPrepareContext
}

var errRawConn = errors.New("the SQLite driver's connection cannot begin a transaction or prepare with a context")

// newRequestInserts is db's statement cache for a Writer: nil on PostgreSQL, whose driver
// (pgx) already keeps each statement text prepared per connection (its rows go through
// database/sql, insertMultiRow).
func newRequestInserts(db *DB) *requestInserts {
	if db.dialect == dialectPostgres {
		return nil
	}
	return &requestInserts{db: db, stmts: make(map[int]driver.Stmt)}
}

// insert writes reqs in one transaction on the database's connection, held for it.
func (ins *requestInserts) insert(ctx context.Context, reqs []bench.Request) error {
	conn, err := ins.db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("recording requests: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(rawConn)
		if !ok {
			return fmt.Errorf("recording requests: %w", errRawConn)
		}
		return ins.insertOn(ctx, c, reqs)
	})
}

// insertOn writes reqs in one transaction on c, preparing first the statements not
// prepared on it yet (a new connection, after the pool dropped a broken one, starts anew).
func (ins *requestInserts) insertOn(ctx context.Context, c rawConn, reqs []bench.Request) error {
	if c != ins.conn {
		ins.conn, ins.stmts = c, make(map[int]driver.Stmt)
	}
	if err := ins.prepare(ctx, len(reqs)); err != nil {
		return fmt.Errorf("recording requests: preparing the INSERT: %w", err)
	}
	tx, err := c.BeginTx(ctx, driver.TxOptions{})
	if err != nil {
		return fmt.Errorf("recording requests: %w", err)
	}
	for len(reqs) > 0 {
		n := multiRowCount(len(reqs))
		if err := ins.exec(ctx, n, reqs[:n]); err != nil {
			tx.Rollback()
			return fmt.Errorf("recording %d requests (from prompt %s): %w", n, reqs[0].PromptID, err)
		}
		reqs = reqs[n:]
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("recording requests: %w", err)
	}
	return nil
}

// prepare prepares on ins.conn the statements that writing rows requests takes.
func (ins *requestInserts) prepare(ctx context.Context, rows int) error {
	for rows > 0 {
		n := multiRowCount(rows)
		if ins.stmts[n] == nil {
			st, err := ins.conn.PrepareContext(ctx, insertRequestsSQL(n))
			if err != nil {
				return err
			}
			ins.stmts[n] = st
		}
		rows -= n
	}
	return nil
}

// exec runs the n-row INSERT of reqs.
func (ins *requestInserts) exec(ctx context.Context, n int, reqs []bench.Request) error {
	ins.args = ins.args[:0]
	for i := range reqs {
		ins.args = appendInsertArgs(ins.args, &reqs[i])
	}
	ins.named = ins.named[:0]
	for i, v := range ins.args {
		if !driver.IsValue(v) {
			var err error
			if v, err = driver.DefaultParameterConverter.ConvertValue(v); err != nil {
				return fmt.Errorf("converting argument $%d type: %w", i+1, err)
			}
		}
		ins.named = append(ins.named, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	st, ok := ins.stmts[n].(driver.StmtExecContext)
	if !ok {
		return errRawConn
	}
	_, err := st.ExecContext(ctx, ins.named)
	return err
}

// close finalizes the prepared statements, on their connection.
func (ins *requestInserts) close() {
	if ins == nil || len(ins.stmts) == 0 {
		return
	}
	conn, err := ins.db.sql.Conn(context.Background())
	if err != nil {
		return
	}
	defer conn.Close()
	conn.Raw(func(dc any) error {
		if c, ok := dc.(rawConn); ok && c == ins.conn {
			for _, st := range ins.stmts {
				st.Close()
			}
		}
		return nil
	})
	clear(ins.stmts)
}
