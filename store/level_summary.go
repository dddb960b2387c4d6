package store

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"math"
	"strings"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/levelstat"
)

// querier is what computing and storing a level's summary needs: the database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// levelSample reads the columns of one measured request that levelstat needs, in its order.
const levelSampleSQL = `SELECT status, error_class, start_ms, elapsed_ms, scheduled_ms, ttft_ms, e2e_ms,
	tpot_ms, output_tokens, em, f1, relay_flag
	FROM requests WHERE level_id = ? AND warmup = 0 AND final = 1`

// metricColumns are the latency columns whose percentiles a level reports, by levelstat.Metric.
var metricColumns = [levelstat.NumMetrics]string{levelstat.E2E: "e2e_ms", levelstat.TTFT: "ttft_ms", levelstat.TPOT: "tpot_ms"}

// sortedSQL reads one latency of a level's successful measured requests in order, at most
// LIMIT rows (SQLite keeps only that many in its sorter).
func sortedSQL(col, order string) string {
	return `SELECT ` + col + ` FROM requests WHERE level_id = ? AND warmup = 0 AND final = 1 AND status = 'ok'
		AND ` + col + ` IS NOT NULL ORDER BY ` + col + ` ` + order + ` LIMIT ?`
}

// computeLevelStats computes one level's statistics with levelstat: one pass over its
// measured requests for the counts and sums, then one ordered read per latency for its
// percentiles. Memory is bounded whatever the level's size.
func computeLevelStats(ctx context.Context, q querier, levelID int64) (levelstat.Stats, error) {
	var slo bench.SLO
	if err := q.QueryRowContext(ctx, `SELECT r.slo_ttft_ms, r.slo_tpot_ms, r.slo_e2e_ms
		FROM levels l JOIN runs r ON r.id = l.run_id WHERE l.id = ?`, levelID).Scan(&slo.TTFTMS, &slo.TPOTMS, &slo.E2EMS); err != nil {
		return levelstat.Stats{}, fmt.Errorf("summarizing level %d: %w", levelID, err)
	}
	acc := levelstat.NewAccumulator(slo)
	if err := accumulateLevel(ctx, q, levelID, acc); err != nil {
		return levelstat.Stats{}, err
	}
	st := acc.Stats()
	for m := range levelstat.NumMetrics {
		if err := levelPercentiles(ctx, q, levelID, m, acc.Count(m), &st.Latency[m]); err != nil {
			return st, fmt.Errorf("summarizing level %d: %w", levelID, err)
		}
	}
	return st, nil
}

// levelPercentiles sets one metric's p50, p90 and p99 over its n values: p50 read from the
// bottom, p90 and p99 from the top, each read stopping at the last rank it needs (about 60 %
// of the values in all, through a bounded sorter).
func levelPercentiles(ctx context.Context, q querier, levelID int64, m levelstat.Metric, n int, l *levelstat.Latency) error {
	var readErr error
	up, err := levelstat.FromSorted(n, sortedValues(ctx, q, sortedSQL(metricColumns[m], "ASC"), &readErr,
		levelID, levelstat.AscendingRows(n, levelstat.P50)), levelstat.P50)
	if err == nil {
		err = readErr
	}
	if err != nil {
		return err
	}
	down, err := levelstat.FromSortedDesc(n, sortedValues(ctx, q, sortedSQL(metricColumns[m], "DESC"), &readErr,
		levelID, levelstat.DescendingRows(n, levelstat.P90)), levelstat.P90, levelstat.P99)
	if err == nil {
		err = readErr
	}
	if err != nil {
		return err
	}
	l.P50, l.P90, l.P99 = up[0], down[0], down[1]
	return nil
}

// accumulateLevel adds every measured request of a level to acc, in one pass.
func accumulateLevel(ctx context.Context, q querier, levelID int64, acc *levelstat.Accumulator) error {
	rows, err := q.QueryContext(ctx, levelSampleSQL, levelID)
	if err != nil {
		return fmt.Errorf("summarizing level %d: %w", levelID, err)
	}
	defer rows.Close()
	var status bench.RequestStatus
	var class bench.ErrorClass
	var sched, ttft, e2e, tpot, out, em, f1 sql.NullFloat64
	for rows.Next() {
		var start, elapsed float64
		var relayed bool
		if err := rows.Scan(&status, &class, &start, &elapsed, &sched, &ttft, &e2e, &tpot, &out, &em, &f1, &relayed); err != nil {
			return fmt.Errorf("summarizing level %d: %w", levelID, err)
		}
		s := levelstat.SampleOf(status, class)
		s.StartMS, s.ElapsedMS, s.Relayed = start, elapsed, relayed
		s.ScheduledMS, s.TTFTMS, s.E2EMS, s.TPOTMS = reportNaN(sched), reportNaN(ttft), reportNaN(e2e), reportNaN(tpot)
		s.OutputTokens, s.EM, s.F1 = reportNaN(out), reportNaN(em), reportNaN(f1)
		acc.Add(&s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("summarizing level %d: %w", levelID, err)
	}
	return nil
}

// sortedValues yields the values query returns for args, in its order; a read error is left
// in *errp.
func sortedValues(ctx context.Context, q querier, query string, errp *error, args ...any) iter.Seq[float64] {
	return func(yield func(float64) bool) {
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			*errp = err
			return
		}
		defer rows.Close()
		for rows.Next() {
			var v float64
			if err := rows.Scan(&v); err != nil {
				*errp = err
				return
			}
			if !yield(v) {
				return
			}
		}
		*errp = rows.Err()
	}
}

const levelSummaryColumns = `level_id, n, ok, good, canceled, client_resource, relayed,
	mean_e2e_ms, p50_e2e_ms, p90_e2e_ms, p99_e2e_ms, mean_ttft_ms, p50_ttft_ms, p90_ttft_ms, p99_ttft_ms,
	mean_tpot_ms, p50_tpot_ms, p90_tpot_ms, p99_tpot_ms, output_tokens, window_ms, send_span_ms,
	mean_req_tok_s, em, f1, mean_send_lag_ms, max_send_lag_ms`

// levelSummaryUpdate replaces every column but the key on conflict (an upsert both SQLite and
// PostgreSQL take, where INSERT OR REPLACE is SQLite's alone).
func levelSummaryUpdate() string {
	var sets []string
	for _, c := range strings.Split(levelSummaryColumns, ",") {
		if c = strings.TrimSpace(c); c != "level_id" {
			sets = append(sets, c+" = excluded."+c)
		}
	}
	return strings.Join(sets, ", ")
}

// nanNull is a REAL column's value: NULL for NaN (or an infinity).
func nanNull(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return x
}

// storeLevelStats writes (or replaces) a level's row of level_summary.
func storeLevelStats(ctx context.Context, q querier, levelID int64, s *levelstat.Stats) error {
	args := []any{levelID, s.N, s.OK, s.Good, s.Canceled, s.ClientResource, s.Relayed}
	for _, l := range s.Latency {
		args = append(args, nanNull(l.Mean), nanNull(l.P50), nanNull(l.P90), nanNull(l.P99))
	}
	var out any
	if !math.IsNaN(s.OutputTokens) {
		out = int64(s.OutputTokens)
	}
	args = append(args, out, nanNull(s.WindowMS), nanNull(s.SendSpanMS), nanNull(s.MeanReqTokS), nanNull(s.EM),
		nanNull(s.F1), nanNull(s.MeanSendLagMS), nanNull(s.MaxSendLagMS))
	if _, err := q.ExecContext(ctx, `INSERT INTO level_summary (`+levelSummaryColumns+`)
		VALUES (`+reportPlaceholders(len(args))+`) ON CONFLICT (level_id) DO UPDATE SET `+levelSummaryUpdate(), args...); err != nil {
		return fmt.Errorf("storing the summary of level %d: %w", levelID, err)
	}
	return nil
}

// summarizeLevel computes a level's statistics and stores them, through q.
func summarizeLevel(ctx context.Context, q querier, levelID int64) error {
	st, err := computeLevelStats(ctx, q, levelID)
	if err != nil {
		return err
	}
	return storeLevelStats(ctx, q, levelID, &st)
}

// LevelStats computes one level's statistics from its requests (levelstat, as FinishLevel
// stores them), whether or not it has a summary row.
func (db *DB) LevelStats(ctx context.Context, levelID int64) (levelstat.Stats, error) {
	return computeLevelStats(ctx, db.sql, levelID)
}

// summarizeEnded stores the summary of every level (of one run; runID 0: of every run) that
// is no longer running and has none (levels recorded before level_summary existed), through q.
func summarizeEnded(ctx context.Context, q querier, runID int64) error {
	rows, err := q.QueryContext(ctx, `SELECT id FROM levels WHERE status <> 'running' AND (?1 = 0 OR run_id = ?1)
		AND id NOT IN (SELECT level_id FROM level_summary) ORDER BY id`, runID)
	if err != nil {
		return fmt.Errorf("listing levels without a summary: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("listing levels without a summary: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("listing levels without a summary: %w", err)
	}
	for _, id := range ids {
		if err := summarizeLevel(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

// levelSummaryMigration is the schema migration that added level_summary.
const levelSummaryMigration = 9

// LevelSummaryColumns are level_summary's columns, level_id first (v_level_stats has them all).
const LevelSummaryColumns = levelSummaryColumns
