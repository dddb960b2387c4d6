package store

import (
	"context"
	"fmt"

	"github.com/trackerbench/tracker/bench"
)

// RequestCounts is how many measured requests (final attempts, no warm-ups) a run recorded,
// how many of those were canceled by an interruption, and how many failed for want of a
// client resource (neither has an outcome: OutcomeOf).
func (db *DB) RequestCounts(ctx context.Context, runID int64) (total, canceled, clientResource int, err error) {
	err = db.sql.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE status = 'canceled'),
		COUNT(*) FILTER (WHERE status NOT IN ('ok', 'canceled') AND error_class = ?) FROM requests
		WHERE run_id = ? AND warmup = 0 AND final = 1`, bench.ClassClientResource, runID).Scan(&total, &canceled, &clientResource)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("counting the requests of run %d: %w", runID, err)
	}
	return total, canceled, clientResource, nil
}
