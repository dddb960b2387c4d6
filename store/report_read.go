package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/trackerbench/tracker/bench"
)

// ReportRuns returns the selected runs, oldest first (by started_at, then id). Runs that are
// still running are included; the report says which.
func (db *DB) ReportRuns(ctx context.Context, sel bench.ReportSelection) ([]bench.Run, error) {
	var where []string
	var args []any
	if len(sel.RunIDs) > 0 {
		where = append(where, "r.id IN ("+reportPlaceholders(len(sel.RunIDs))+")")
		for _, id := range sel.RunIDs {
			args = append(args, id)
		}
	}
	if sel.Label != "" {
		where = append(where, "r.label = ?")
		args = append(args, sel.Label)
	}
	if !sel.Since.IsZero() {
		// started_at is RFC 3339 UTC text with nanoseconds; compare as times, not strings.
		where = append(where, db.dialect.timeValue("r.started_at")+" >= "+db.dialect.timeValue("?"))
		args = append(args, timeText(sel.Since))
	}
	if len(sel.Endpoints) > 0 {
		where = append(where, "r.id IN (SELECT run_id FROM endpoints WHERE name IN ("+reportPlaceholders(len(sel.Endpoints))+"))")
		for _, e := range sel.Endpoints {
			args = append(args, e)
		}
	}
	q := `SELECT ` + runColumns + ` FROM runs r`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY " + db.dialect.timeValue("r.started_at") + ", r.id"
	return queryAll(ctx, db.sql, "selecting runs for the report", func(rows *sql.Rows) (bench.Run, error) {
		return scanRun(rows)
	}, q, args...)
}

// ReportLevels lists the levels of the given runs, restricted to the named endpoints when
// endpoints is not empty, ordered by run, endpoint name, concurrency, rate and trial.
func (db *DB) ReportLevels(ctx context.Context, runIDs []int64, endpoints []string) ([]bench.ReportLevel, error) {
	if len(runIDs) == 0 {
		return nil, nil
	}
	var out []bench.ReportLevel
	// Chunk the run list: SQLite bounds the number of bound parameters per statement.
	const chunk = 500
	for start := 0; start < len(runIDs); start += chunk {
		ids := runIDs[start:min(start+chunk, len(runIDs))]
		args := make([]any, 0, len(ids)+len(endpoints))
		for _, id := range ids {
			args = append(args, id)
		}
		q := `SELECT l.id, l.run_id, l.endpoint_id, l.concurrency, l.rate, l.trial, l.status, l.started_at,
			l.ended_at, l.note, e.name, e.model, e.hardware, e.config_json
			FROM levels l JOIN endpoints e ON e.id = l.endpoint_id
			WHERE l.run_id IN (` + reportPlaceholders(len(ids)) + `)`
		if len(endpoints) > 0 {
			q += " AND e.name IN (" + reportPlaceholders(len(endpoints)) + ")"
			for _, e := range endpoints {
				args = append(args, e)
			}
		}
		q += " ORDER BY l.run_id, e.name, l.concurrency, coalesce(l.rate, 0), l.trial, l.id"
		levels, err := queryAll(ctx, db.sql, "listing levels for the report", scanReportLevel, q, args...)
		if err != nil {
			return nil, err
		}
		out = append(out, levels...)
	}
	return out, nil
}

// scanReportLevel reads one row of ReportLevels' query.
func scanReportLevel(rows *sql.Rows) (bench.ReportLevel, error) {
	var l bench.ReportLevel
	var rate sql.NullFloat64
	var started, ended sql.NullString
	err := rows.Scan(&l.ID, &l.RunID, &l.EndpointID, &l.Concurrency, &rate, &l.Trial,
		&l.Status, &started, &ended, &l.Note, &l.Endpoint, &l.Model, &l.Hardware,
		&l.EndpointConfigJSON)
	l.Rate = rate.Float64
	l.StartedAt, l.EndedAt = parseTime(started), parseTime(ended)
	return l, err
}

// EachLevelRequest streams the measured requests of one level (warm-ups and superseded
// attempts excluded, as in v_requests) by sequence number, then id, one row at a time: fn receives a struct
// that is reused for the next row, so it must copy what it keeps. An error from fn stops the
// scan and is returned.
func (db *DB) EachLevelRequest(ctx context.Context, levelID int64, fn func(*bench.ReportRequest) error) error {
	sc, err := db.NewRequestScanner(ctx)
	if err != nil {
		return err
	}
	defer sc.Close()
	return sc.Each(ctx, levelID, fn)
}

// requestScanner streams levels' measured requests through one prepared statement, so a
// report over thousands of levels does not prepare thousands of statements. One scanner is
// used by one goroutine at a time; several scanners may read concurrently.
type requestScanner struct {
	db     *sql.DB
	stmt   *sql.Stmt
	failed *sql.Stmt // EachStored's failures
}

// NewRequestScanner prepares the per-level request query. Close it when done.
func (db *DB) NewRequestScanner(ctx context.Context) (bench.RequestScanner, error) {
	// By sequence number, then id: the order of the requests_by_level_seq index, which costs no
	// sort, and the same on PostgreSQL. The pooled columns keep this order, so the bootstrap's
	// draws and the sums do not depend on the planner.
	stmt, err := db.sql.PrepareContext(ctx, `SELECT status, error_class,
		CASE WHEN status = 'ok' THEN '' ELSE error_message END,
		start_ms, elapsed_ms, ttft_ms, e2e_ms, tpot_ms, server_ttft_ms, input_tokens, output_tokens, em, f1,
		relay_flag, seq, CASE WHEN cached_tokens > 0 THEN 1 ELSE 0 END FROM requests WHERE level_id = ? AND warmup = 0 AND final = 1 AND status <> 'canceled'
		ORDER BY seq, id`)
	if err != nil {
		return nil, fmt.Errorf("preparing the request scan: %w", err)
	}
	sc := &requestScanner{db: db.sql, stmt: stmt}
	if sc.failed, err = db.sql.PrepareContext(ctx, storedFailedSQL); err != nil {
		sc.Close()
		return nil, fmt.Errorf("preparing the request scan: %w", err)
	}
	return sc, nil
}

// Close releases the prepared statements.
func (sc *requestScanner) Close() error {
	var errs []error
	for _, st := range []*sql.Stmt{sc.stmt, sc.failed} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// Each streams one level's measured requests, as EachLevelRequest does.
func (sc *requestScanner) Each(ctx context.Context, levelID int64, fn func(*bench.ReportRequest) error) error {
	rows, err := sc.stmt.QueryContext(ctx, levelID)
	if err != nil {
		return fmt.Errorf("reading requests of level %d: %w", levelID, err)
	}
	defer rows.Close()
	var r bench.ReportRequest
	var ttft, e2e, tpot, sttft, in, out, em, f1, seq sql.NullFloat64
	for rows.Next() {
		if err := rows.Scan(&r.Status, &r.ErrorClass, &r.ErrorMessage, &r.StartMS, &r.ElapsedMS,
			&ttft, &e2e, &tpot, &sttft, &in, &out, &em, &f1, &r.Relayed, &seq, &r.Cached); err != nil {
			return fmt.Errorf("reading requests of level %d: %w", levelID, err)
		}
		r.TTFTMS, r.E2EMS, r.TPOTMS, r.ServerTTFTMS = reportNaN(ttft), reportNaN(e2e), reportNaN(tpot), reportNaN(sttft)
		r.InputTokens, r.OutputTokens, r.EM, r.F1 = reportNaN(in), reportNaN(out), reportNaN(em), reportNaN(f1)
		r.Seq = reportNaN(seq)
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading requests of level %d: %w", levelID, err)
	}
	return nil
}

// LevelSummaries reads v_summary for the given levels, keyed by level id. It exists so tests
// (and scripts) can check figures computed elsewhere against the view's definitions.
func (db *DB) LevelSummaries(ctx context.Context, runIDs []int64) (map[int64]SummaryRow, error) {
	out := map[int64]SummaryRow{}
	for _, id := range runIDs {
		rows, err := db.Summary(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.LevelID] = r
		}
	}
	return out, nil
}

func reportNaN(n sql.NullFloat64) float64 {
	if !n.Valid {
		return math.NaN()
	}
	return n.Float64
}

func reportPlaceholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?,", n-1) + "?"
}
