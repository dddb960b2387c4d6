package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/trackerbench/tracker/bench"
)

// ErrLeased is returned when a run is still held by the process running it (bench.ErrLeased).
var ErrLeased = bench.ErrLeased

// RunLease reads a run's status and lease (Until is zero when none is held).
func (db *DB) RunLease(ctx context.Context, runID int64) (bench.RunStatus, bench.Lease, error) {
	return runLease(ctx, db.sql, runID, "")
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// runLease reads the lease; lock is the dialect's row lock when it is read to be changed.
func runLease(ctx context.Context, q queryRower, runID int64, lock string) (bench.RunStatus, bench.Lease, error) {
	var status bench.RunStatus
	var owner string
	var until sql.NullString
	err := q.QueryRowContext(ctx, `SELECT status, lease_owner, lease_until FROM runs WHERE id = ?`+lock, runID).Scan(&status, &owner, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return "", bench.Lease{}, fmt.Errorf("run %d: %w", runID, ErrNotFound)
	}
	if err != nil {
		return "", bench.Lease{}, fmt.Errorf("reading the lease of run %d: %w", runID, err)
	}
	return status, bench.Lease{Owner: owner, Until: parseTime(until)}, nil
}

// RenewLease sets the run's lease to l (the running process calls it every few seconds).
func (db *DB) RenewLease(ctx context.Context, runID int64, l bench.Lease) error {
	if _, err := db.execRetry(ctx, `UPDATE runs SET lease_owner = ?, lease_until = ? WHERE id = ?`,
		l.Owner, timeText(l.Until), runID); err != nil {
		return fmt.Errorf("renewing the lease of run %d: %w", runID, err)
	}
	return nil
}
