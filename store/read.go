package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trackerbench/tracker/bench"
	sqlite3 "modernc.org/sqlite/lib"
)

// Table is the result of an ad-hoc query: column names and rows of driver values
// (int64, float64, string, []byte or nil).
type Table struct {
	Columns []string
	Rows    [][]any
}

// Query runs one analyst's statement. Through a read-only handle a write fails with ErrReadOnly
// (on PostgreSQL the statement runs in a READ ONLY transaction that is rolled back, so not even
// a session setting outlives it).
func (db *DB) Query(ctx context.Context, query string, args ...any) (*Table, error) {
	var q interface {
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	} = db.sql
	if db.readOnly && db.dialect == dialectPostgres {
		tx, err := db.sql.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return nil, db.wrapQueryErr(err)
		}
		defer tx.Rollback()
		q = tx
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, db.wrapQueryErr(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, db.wrapQueryErr(err)
	}
	t := &Table{Columns: cols}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, db.wrapQueryErr(err)
		}
		t.Rows = append(t.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, db.wrapQueryErr(err)
	}
	return t, nil
}

func (db *DB) wrapQueryErr(err error) error {
	if db.readOnly && db.dialect == dialectPostgres {
		if code := pgCode(err); code == pgReadOnlyTransaction || code == pgInsufficientPriv {
			return fmt.Errorf("query: %w (%v)", ErrReadOnly, err)
		}
	}
	// SQLITE_AUTH: the read-only authorizer denied the statement; SQLITE_READONLY: the
	// read-only file or query_only refused the write.
	if db.readOnly && hasCode(err, sqlite3.SQLITE_AUTH, sqlite3.SQLITE_READONLY) {
		return fmt.Errorf("query: %w (%v)", ErrReadOnly, err)
	}
	return fmt.Errorf("query: %w", err)
}

func parseTime(s sql.NullString) time.Time {
	if !s.Valid {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, s.String)
	return t
}

// RunInfo is one line of the run history.
type RunInfo struct {
	bench.Run
	Endpoints []string
	Requests  int
	OK        int
}

// Runs lists runs newest first; limit <= 0 lists all.
func (db *DB) Runs(ctx context.Context, limit int) ([]RunInfo, error) {
	q := `SELECT ` + runColumns + `, coalesce(v.endpoints, ''), v.requests, v.ok
	      FROM runs r JOIN v_runs v ON v.run_id = r.id ORDER BY r.id DESC`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	return queryAll(ctx, db.sql, "listing runs", func(rows *sql.Rows) (RunInfo, error) {
		var ri RunInfo
		var eps string
		var err error
		ri.Run, err = scanRun(rows, &eps, &ri.Requests, &ri.OK)
		if eps != "" {
			ri.Endpoints = strings.Split(eps, ",")
		}
		return ri, err
	}, q)
}

// runColumns are the runs columns scanRun reads, in its order (alias r).
const runColumns = `r.id, r.label, r.status, r.started_at, r.ended_at, r.tool_version, r.host, r.config_json,
	r.dataset, r.dataset_hash, r.prompt_set_hash, r.seed, r.max_tokens, r.temperature, r.stream,
	r.load_mode, r.run_order, r.error, r.slo_ttft_ms, r.slo_tpot_ms, r.slo_e2e_ms, coalesce(r.uuid, '')`

// scanRun reads one row that starts with runColumns; extra receives the columns after them.
func scanRun(sc interface{ Scan(...any) error }, extra ...any) (bench.Run, error) {
	var r bench.Run
	var started, ended sql.NullString
	var maxTok sql.NullInt64
	var temp sql.NullFloat64
	var stream int
	dest := append([]any{&r.ID, &r.Label, &r.Status, &started, &ended, &r.ToolVersion, &r.Host,
		&r.ConfigJSON, &r.Dataset, &r.DatasetHash, &r.PromptSetHash, &r.Seed, &maxTok, &temp, &stream,
		&r.LoadMode, &r.Order, &r.Error, &r.SLO.TTFTMS, &r.SLO.TPOTMS, &r.SLO.E2EMS, &r.UUID}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return r, err
	}
	r.StartedAt, r.EndedAt = parseTime(started), parseTime(ended)
	r.MaxTokens = int(maxTok.Int64)
	if temp.Valid {
		t := temp.Float64
		r.Temperature = &t
	}
	r.Stream = stream == 1
	return r, nil
}

// GetRun reads one run row.
func (db *DB) GetRun(ctx context.Context, id int64) (bench.Run, error) {
	r, err := scanRun(db.sql.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs r WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("run %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("reading run %d: %w", id, err)
	}
	return r, nil
}

// SummaryRow is one row of v_summary. Nil pointers are NULL (no successful request).
type SummaryRow struct {
	RunID        int64
	Label        string
	Endpoint     string
	Model        string
	Concurrency  int
	Rate         *float64
	Trial        int
	LevelID      int64
	LevelStatus  string
	N            int
	OK           int
	SuccessRate  float64
	MeanE2EMS    *float64
	P50E2EMS     *float64
	P90E2EMS     *float64
	P99E2EMS     *float64
	MeanTTFTMS   *float64
	P50TTFTMS    *float64
	P90TTFTMS    *float64
	P99TTFTMS    *float64
	MeanTPOTMS   *float64
	P50TPOTMS    *float64
	P90TPOTMS    *float64
	P99TPOTMS    *float64
	OutputTokens *int64 // Σ over ok requests with a count; nil when none has one (output_tok_s is nil too)
	DurationS    *float64
	OutputTokS   *float64
	ReqS         *float64
	MeanReqTokS  *float64
	EM           *float64
	F1           *float64
	AchievedRPS  *float64
	MeanLagMS    *float64
	MaxLagMS     *float64
	LagFlag      bool
	SLOAttain    float64
	GoodputRPS   *float64
	StopReason   string
	SLOSet       bool     // the run set latency targets
	Canceled     int      // requests canceled by an interruption: not in N
	ClientRes    int      // requests failed for want of a client resource (EMFILE...): not in N
	RelayShare   *float64 // share of ok requests whose stream arrived in relayed bursts
}

// Summary reads v_summary for one run, in level order.
func (db *DB) Summary(ctx context.Context, runID int64) ([]SummaryRow, error) {
	// A level that ended is read from level_summary by its key; one still running is computed
	// from its requests, reached through the run's levels (v_summary, schema.sql).
	return queryAll(ctx, db.sql, fmt.Sprintf("reading summary of run %d", runID), scanSummaryRow, `SELECT s.run_id, label, s.endpoint, model, concurrency, rate, trial,
		s.level_id, level_status, s.n, ok, success_rate, mean_e2e_ms, p50_e2e_ms, p90_e2e_ms, p99_e2e_ms,
		mean_ttft_ms, p50_ttft_ms, p90_ttft_ms, p99_ttft_ms, mean_tpot_ms, p50_tpot_ms, p90_tpot_ms,
		p99_tpot_ms, output_tokens, duration_s, output_tok_s, req_s, mean_req_tok_s, em, f1,
		achieved_rps, mean_send_lag_ms, max_send_lag_ms, lag_flag, slo_attainment, goodput_rps, stop_reason,
		(SELECT coalesce(slo_ttft_ms, slo_tpot_ms, slo_e2e_ms) IS NOT NULL FROM runs WHERE id = s.run_id), canceled,
		client_resource, relay_share
		FROM v_summary s WHERE s.run_id = ? ORDER BY s.level_id`, runID)
}

// scanSummaryRow reads one row of Summary's query.
func scanSummaryRow(rows *sql.Rows) (SummaryRow, error) {
	var s SummaryRow
	err := rows.Scan(&s.RunID, &s.Label, &s.Endpoint, &s.Model, &s.Concurrency, &s.Rate, &s.Trial,
		&s.LevelID, &s.LevelStatus, &s.N, &s.OK, &s.SuccessRate, &s.MeanE2EMS, &s.P50E2EMS, &s.P90E2EMS,
		&s.P99E2EMS, &s.MeanTTFTMS, &s.P50TTFTMS, &s.P90TTFTMS, &s.P99TTFTMS, &s.MeanTPOTMS,
		&s.P50TPOTMS, &s.P90TPOTMS, &s.P99TPOTMS, &s.OutputTokens, &s.DurationS, &s.OutputTokS,
		&s.ReqS, &s.MeanReqTokS, &s.EM, &s.F1, &s.AchievedRPS, &s.MeanLagMS, &s.MaxLagMS, &s.LagFlag,
		&s.SLOAttain, &s.GoodputRPS, &s.StopReason, &s.SLOSet, &s.Canceled, &s.ClientRes, &s.RelayShare)
	return s, err
}
