package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// The merge's writes are plain SQL that SQLite and PostgreSQL both take: INSERT ... VALUES
// (one row with RETURNING id, or many rows at once), UPDATE ... WHERE id = ?, DELETE ...
// WHERE with a subquery. Only the "?" placeholders differ by dialect.

// mergeBatchParams bounds the parameters of one multi-row INSERT (SQLite allows 32766,
// PostgreSQL 65535); larger statements are not faster.
const mergeBatchParams = 4096

// runWriter copies one run into the target inside one transaction.
type runWriter struct {
	tx       *sql.Tx
	cols     map[string][]string
	ids      map[string]map[int64]int64 // table -> source id -> target id
	progress func(requests int)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// insertRunRow inserts the source's runs row (its uuid among the columns) and returns the
// target's id for it.
func insertRunRow(ctx context.Context, tx *sql.Tx, cols []string, vals []any) (int64, error) {
	var id int64
	q := `INSERT INTO runs (` + strings.Join(cols, ", ") + `) VALUES (` + placeholders(len(cols)) + `) RETURNING id`
	if err := tx.QueryRowContext(ctx, q, vals...).Scan(&id); err != nil {
		return 0, fmt.Errorf("inserting the run: %w", err)
	}
	return id, nil
}

// replaceRunRows deletes every row of the target's copy of a run but its runs row, which
// takes the source's values (the target keeps its id for the run).
func replaceRunRows(ctx context.Context, tx *sql.Tx, cols []string, vals []any, targetID int64) error {
	for _, t := range slices.Backward(mergeTables) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t.name+` WHERE `+t.where, targetID); err != nil {
			return fmt.Errorf("removing the older copy's %s: %w", t.name, err)
		}
	}
	set := make([]string, len(cols))
	for i, c := range cols {
		set[i] = c + " = ?"
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET `+strings.Join(set, ", ")+` WHERE id = ?`, append(slices.Clone(vals), targetID)...); err != nil {
		return fmt.Errorf("updating the run: %w", err)
	}
	return nil
}

// copyTable copies one table's rows of the source's run, their references rewritten to the
// target's ids, and returns how many it wrote.
func (w *runWriter) copyTable(ctx context.Context, src *DB, t mergeTable, srcRunID int64) (int, error) {
	cols := w.cols[t.name]
	refs := refIndexes(t, cols)
	ins := &batchInsert{tx: w.tx, table: t.name, cols: cols, rows: max(1, mergeBatchParams/len(cols))}
	if t.name == tableRequests {
		ins.onFlush = w.progress
	}
	defer ins.close()
	var ids map[int64]int64
	if t.mapped {
		ids = map[int64]int64{}
		w.ids[t.name] = ids
	}
	err := src.eachRow(ctx, t, cols, srcRunID, func(id int64, vals []any) error {
		for i, ref := range refs {
			old, _ := asInt64(vals[i])
			to, ok := w.ids[ref][old]
			if !ok {
				return fmt.Errorf("%s of run %d: a row refers to %s %v, which is not in the run", t.name, srcRunID, ref, vals[i])
			}
			vals[i] = to
		}
		if !t.mapped {
			return ins.add(ctx, vals)
		}
		newID, err := ins.one(ctx, vals)
		ids[id] = newID
		return err
	})
	if err == nil {
		err = ins.flush(ctx)
	}
	return ins.written, err
}

// batchInsert writes rows of one table: many per statement, or one with its new id read back.
type batchInsert struct {
	tx      *sql.Tx
	table   string
	cols    []string
	rows    int   // rows per full statement
	pending []any // values of the rows not yet written
	full    *sql.Stmt
	single  *sql.Stmt
	written int
	onFlush func(n int)
}

func (b *batchInsert) statement(rows int, returning bool) string {
	row := "(" + placeholders(len(b.cols)) + ")"
	q := `INSERT INTO ` + b.table + ` (` + strings.Join(b.cols, ", ") + `) VALUES ` + strings.TrimSuffix(strings.Repeat(row+",", rows), ",")
	if returning {
		q += ` RETURNING id`
	}
	return q
}

// one inserts a row and returns its id in the target.
func (b *batchInsert) one(ctx context.Context, vals []any) (int64, error) {
	if b.single == nil {
		st, err := b.tx.PrepareContext(ctx, b.statement(1, true))
		if err != nil {
			return 0, fmt.Errorf("copying %s: %w", b.table, err)
		}
		b.single = st
	}
	var id int64
	if err := b.single.QueryRowContext(ctx, vals...).Scan(&id); err != nil {
		return 0, fmt.Errorf("copying %s: %w", b.table, err)
	}
	b.written++
	return id, nil
}

// add queues a row (its values are copied) and writes a full statement's worth.
func (b *batchInsert) add(ctx context.Context, vals []any) error {
	b.pending = append(b.pending, vals...)
	if len(b.pending) < b.rows*len(b.cols) {
		return nil
	}
	if b.full == nil {
		st, err := b.tx.PrepareContext(ctx, b.statement(b.rows, false))
		if err != nil {
			return fmt.Errorf("copying %s: %w", b.table, err)
		}
		b.full = st
	}
	if _, err := b.full.ExecContext(ctx, b.pending...); err != nil {
		return fmt.Errorf("copying %s: %w", b.table, err)
	}
	return b.done(b.rows)
}

// flush writes the rows still queued.
func (b *batchInsert) flush(ctx context.Context) error {
	n := len(b.pending) / len(b.cols)
	if n == 0 {
		return nil
	}
	if _, err := b.tx.ExecContext(ctx, b.statement(n, false), b.pending...); err != nil {
		return fmt.Errorf("copying %s: %w", b.table, err)
	}
	return b.done(n)
}

func (b *batchInsert) done(n int) error {
	clear(b.pending)
	b.pending = b.pending[:0]
	b.written += n
	if b.onFlush != nil {
		b.onFlush(n)
	}
	return nil
}

func (b *batchInsert) close() {
	if b.full != nil {
		b.full.Close()
	}
	if b.single != nil {
		b.single.Close()
	}
}
