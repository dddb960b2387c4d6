package store

import (
	"context"
	"database/sql"
	"fmt"
)

// rowsQuerier is what reading rows needs: the database or a transaction.
type rowsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// eachRow runs query and calls fn on each of its rows in order, holding one row at a time;
// it stops at fn's first error. Every error is wrapped with what, which says what was being
// read ("reading endpoints of run 3").
func eachRow(ctx context.Context, q rowsQuerier, what string, fn func(*sql.Rows) error, query string, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// queryAll runs query and returns its rows, each read by scan, in order (nil when there are
// none). Errors are wrapped with what, as eachRow's.
func queryAll[T any](ctx context.Context, q rowsQuerier, what string, scan func(*sql.Rows) (T, error), query string, args ...any) ([]T, error) {
	var out []T
	err := eachRow(ctx, q, what, func(rows *sql.Rows) error {
		v, err := scan(rows)
		if err != nil {
			return err
		}
		out = append(out, v)
		return nil
	}, query, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}
