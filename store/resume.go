package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// LevelState is what a resumed run needs to know of one recorded level.
type LevelState struct {
	Level
	Endpoint string
	Done     map[int]bool // seqs with a final record that is not canceled
	LastEnd  float64      // max(start_ms + elapsed_ms) of its requests, ms after its start
}

// LevelStates reads every level of a run with the request sequence numbers it completed.
func (db *DB) LevelStates(ctx context.Context, runID int64) ([]LevelState, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT l.id, l.endpoint_id, e.name, l.concurrency, l.rate, l.trial,
		l.status, l.started_at, l.note, l.stop_reason,
		coalesce((SELECT MAX(start_ms + elapsed_ms) FROM requests WHERE level_id = l.id), 0)
		FROM levels l JOIN endpoints e ON e.id = l.endpoint_id WHERE l.run_id = ? ORDER BY l.id`, runID)
	if err != nil {
		return nil, fmt.Errorf("reading levels of run %d: %w", runID, err)
	}
	var out []LevelState
	for rows.Next() {
		var ls LevelState
		var rate sql.NullFloat64
		var started sql.NullString
		if err := rows.Scan(&ls.ID, &ls.EndpointID, &ls.Endpoint, &ls.Concurrency, &rate, &ls.Trial, &ls.Status,
			&started, &ls.Note, &ls.StopReason, &ls.LastEnd); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading levels of run %d: %w", runID, err)
		}
		ls.RunID, ls.Rate, ls.StartedAt = runID, rate.Float64, parseTime(started)
		out = append(out, ls)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		done, err := db.doneSeqs(ctx, out[i].ID)
		if err != nil {
			return nil, err
		}
		out[i].Done = done
	}
	return out, nil
}

func (db *DB) doneSeqs(ctx context.Context, levelID int64) (map[int]bool, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT seq FROM requests
		WHERE level_id = ? AND warmup = 0 AND final = 1 AND status <> 'canceled' AND seq IS NOT NULL`, levelID)
	if err != nil {
		return nil, fmt.Errorf("reading level %d: %w", levelID, err)
	}
	defer rows.Close()
	done := map[int]bool{}
	for rows.Next() {
		var s int
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		done[s] = true
	}
	return done, rows.Err()
}

// Endpoints lists a run's endpoints.
func (db *DB) Endpoints(ctx context.Context, runID int64) ([]Endpoint, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT id, run_id, name, base_url, model, hardware, preset, config_json
		FROM endpoints WHERE run_id = ? ORDER BY id`, runID)
	if err != nil {
		return nil, fmt.Errorf("reading endpoints of run %d: %w", runID, err)
	}
	defer rows.Close()
	var out []Endpoint
	for rows.Next() {
		var e Endpoint
		if err := rows.Scan(&e.ID, &e.RunID, &e.Name, &e.BaseURL, &e.Model, &e.Hardware, &e.Preset, &e.ConfigJSON); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ReopenRun marks an interrupted run as running again, for --resume, and takes its lease
// for l.Owner, in one write transaction: a run whose lease another process holds (see
// Lease.Held) is refused with ErrLeased, so two processes never run one run. Its canceled
// requests stop being final: the resumed run sends them again and its records replace them in
// every statistic, while the canceled rows stay for the record.
func (db *DB) ReopenRun(ctx context.Context, runID int64, l Lease, dead func(owner string) bool) error {
	return retryBusy(ctx, DefaultRetryBudget, func() error { return db.reopenRun(ctx, runID, l, dead) })
}

func (db *DB) reopenRun(ctx context.Context, runID int64, l Lease, dead func(owner string) bool) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("reopening run %d: %w", runID, err)
	}
	defer tx.Rollback()
	status, held, err := runLease(ctx, tx, runID)
	if err != nil {
		return err
	}
	if status == RunRunning && held.Held(time.Now(), l.Owner, dead) {
		return fmt.Errorf("run %d: %w (%s, lease renewed until %s)", runID, ErrLeased, held.Owner, held.Until.Local().Format(time.TimeOnly))
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET status = 'running', ended_at = NULL, error = '',
		lease_owner = ?, lease_until = ? WHERE id = ?`, l.Owner, timeText(l.Until), runID); err != nil {
		return fmt.Errorf("reopening run %d: %w", runID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE requests SET final = 0 WHERE run_id = ? AND status = 'canceled' AND final = 1`, runID); err != nil {
		return fmt.Errorf("reopening run %d: %w", runID, err)
	}
	return tx.Commit()
}
