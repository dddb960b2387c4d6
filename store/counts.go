package store

import (
	"context"
	"fmt"
)

// RequestCounts is how many measured requests (final attempts, no warm-ups) a run recorded,
// and how many of those were canceled by an interruption.
func (db *DB) RequestCounts(ctx context.Context, runID int64) (total, canceled int, err error) {
	err = db.sql.QueryRowContext(ctx, `SELECT COUNT(*), coalesce(SUM(status = 'canceled'), 0) FROM requests
		WHERE run_id = ? AND warmup = 0 AND final = 1`, runID).Scan(&total, &canceled)
	if err != nil {
		return 0, 0, fmt.Errorf("counting the requests of run %d: %w", runID, err)
	}
	return total, canceled, nil
}
