package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/trackerbench/tracker/bench"
)

// LevelStates reads every level of a run with the request sequence numbers it completed.
func (db *DB) LevelStates(ctx context.Context, runID int64) ([]bench.LevelState, error) {
	// queryAll has closed the rows before each level's progress is read.
	out, err := queryAll(ctx, db.sql, fmt.Sprintf("reading levels of run %d", runID), func(rows *sql.Rows) (bench.LevelState, error) {
		var ls bench.LevelState
		var rate sql.NullFloat64
		var started, ended sql.NullString
		err := rows.Scan(&ls.ID, &ls.EndpointID, &ls.Endpoint, &ls.Concurrency, &rate, &ls.Trial, &ls.Status,
			&started, &ended, &ls.Note, &ls.LagFlag, &ls.StopReason)
		ls.RunID, ls.Rate, ls.StartedAt, ls.EndedAt = runID, rate.Float64, parseTime(started), parseTime(ended)
		return ls, err
	}, `SELECT l.id, l.endpoint_id, e.name, l.concurrency, l.rate, l.trial,
		l.status, l.started_at, l.ended_at, l.note, l.lag_flag, l.stop_reason
		FROM levels l JOIN endpoints e ON e.id = l.endpoint_id WHERE l.run_id = ? ORDER BY l.id`, runID)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if err := db.readLevelProgress(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readLevelProgress reads, in one pass over the level's requests, the seqs it completed (a
// final, measured record that is not canceled) and the latest end of any of its requests.
func (db *DB) readLevelProgress(ctx context.Context, ls *bench.LevelState) error {
	return eachRow(ctx, db.sql, fmt.Sprintf("reading level %d", ls.ID), func(rows *sql.Rows) error {
		var seq int
		var end float64
		var done bool
		if err := rows.Scan(&seq, &end, &done); err != nil {
			return err
		}
		if done {
			ls.Done.Add(seq) // -1 (no seq) is ignored
		}
		ls.LastEnd = max(ls.LastEnd, end)
		return nil
	}, `SELECT coalesce(seq, -1), start_ms + elapsed_ms,
		warmup = 0 AND final = 1 AND status <> 'canceled'
		FROM requests WHERE level_id = ?`, ls.ID)
}

// Endpoints lists a run's endpoints.
func (db *DB) Endpoints(ctx context.Context, runID int64) ([]bench.Endpoint, error) {
	return queryAll(ctx, db.sql, fmt.Sprintf("reading endpoints of run %d", runID), func(rows *sql.Rows) (bench.Endpoint, error) {
		var e bench.Endpoint
		err := rows.Scan(&e.ID, &e.RunID, &e.Name, &e.BaseURL, &e.Model, &e.Hardware, &e.Preset, &e.ConfigJSON)
		return e, err
	}, `SELECT id, run_id, name, base_url, model, hardware, preset, config_json
		FROM endpoints WHERE run_id = ? ORDER BY id`, runID)
}

// ReopenRun marks an interrupted run as running again, for --resume, and takes its lease
// for l.Owner, in one write transaction: a run whose lease another process holds (see
// Lease.Held) is refused with ErrLeased, so two processes never run one run. Its canceled
// requests stop being final: the resumed run sends them again and its records replace them in
// every statistic, while the canceled rows stay for the record.
func (db *DB) ReopenRun(ctx context.Context, runID int64, l bench.Lease, dead func(owner string) bool) error {
	return retryBusy(ctx, DefaultRetryBudget, func() error { return db.reopenRun(ctx, runID, l, dead) })
}

func (db *DB) reopenRun(ctx context.Context, runID int64, l bench.Lease, dead func(owner string) bool) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("reopening run %d: %w", runID, err)
	}
	defer tx.Rollback()
	status, held, err := runLease(ctx, tx, runID, db.dialect.forUpdate())
	if err != nil {
		return err
	}
	if status == bench.RunRunning && held.Held(time.Now(), l.Owner, dead) {
		return fmt.Errorf("run %d: %w (%s, lease renewed until %s)", runID, ErrLeased, held.Owner, held.Until.Local().Format(time.TimeOnly))
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET status = 'running', ended_at = NULL, error = '',
		lease_owner = ?, lease_until = ? WHERE id = ?`, l.Owner, timeText(l.Until), runID); err != nil {
		return fmt.Errorf("reopening run %d: %w", runID, err)
	}
	// A level whose canceled requests stop being final changes its figures: it is running again
	// (it will be resumed) and has no summary until it ends (v_summary computes it meanwhile).
	// (Each of the run's levels looked up by requests_by_level: only canceled rows are read.)
	if _, err := tx.ExecContext(ctx, `UPDATE levels SET status = 'running' WHERE run_id = ? AND EXISTS
		(SELECT 1 FROM requests r WHERE r.level_id = levels.id AND r.status = 'canceled' AND r.final = 1)`, runID); err != nil {
		return fmt.Errorf("reopening run %d: %w", runID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM level_summary WHERE level_id IN
		(SELECT id FROM levels WHERE run_id = ? AND status = 'running')`, runID); err != nil {
		return fmt.Errorf("reopening run %d: %w", runID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE requests SET final = 0 WHERE run_id = ? AND status = 'canceled' AND final = 1`, runID); err != nil {
		return fmt.Errorf("reopening run %d: %w", runID, err)
	}
	return tx.Commit()
}

// ReopenLevel marks a level of a resumed run as running again and drops its summary: the
// requests the resume adds change its figures, which FinishLevel stores anew at its end.
func (db *DB) ReopenLevel(ctx context.Context, levelID int64) error {
	err := retryBusy(ctx, DefaultRetryBudget, func() error {
		tx, err := db.sql.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `UPDATE levels SET status = 'running', ended_at = NULL WHERE id = ?`, levelID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM level_summary WHERE level_id = ?`, levelID); err != nil {
			return err
		}
		return tx.Commit()
	})
	if err != nil {
		return fmt.Errorf("reopening level %d: %w", levelID, err)
	}
	return nil
}

// EndOpenLevels ends the levels of a run that are still running when the run ends (a level a
// failure left behind, or one a resume reopened and did not reach) with the given status, and
// stores their summaries: every level of an ended run has one.
func (db *DB) EndOpenLevels(ctx context.Context, runID int64, status bench.LevelStatus, ended time.Time) error {
	err := retryBusy(ctx, DefaultRetryBudget, func() error {
		tx, err := db.sql.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `UPDATE levels SET status = ?, ended_at = coalesce(ended_at, ?)
			WHERE run_id = ? AND status = 'running'`, status, timeText(ended), runID); err != nil {
			return err
		}
		if err := summarizeEnded(ctx, tx, runID); err != nil {
			return err
		}
		return tx.Commit()
	})
	if err != nil {
		return fmt.Errorf("ending the open levels of run %d: %w", runID, err)
	}
	return nil
}
