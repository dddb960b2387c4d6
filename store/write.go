package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/trackerbench/tracker/bench"
)

// timeText is how every time of day is stored: RFC 3339, UTC, nanoseconds.
func timeText(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CreateRun inserts a run row and returns its id.
func (db *DB) CreateRun(ctx context.Context, r bench.Run) (int64, error) {
	r = r.WithDefaults()
	var temp any
	if r.Temperature != nil {
		temp = *r.Temperature
	}
	id, err := db.insertRetry(ctx, `INSERT INTO runs
		(label, status, started_at, tool_version, host, config_json, dataset, dataset_hash,
		 prompt_set_hash, seed, max_tokens, temperature, stream, load_mode, run_order,
		 slo_ttft_ms, slo_tpot_ms, slo_e2e_ms, uuid)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
		r.Label, r.Status, timeText(r.StartedAt), r.ToolVersion, r.Host, r.ConfigJSON, r.Dataset,
		r.DatasetHash, r.PromptSetHash, r.Seed, nullInt(r.MaxTokens), temp, boolInt(r.Stream),
		r.LoadMode, r.Order, nullFloat(r.SLO.TTFTMS), nullFloat(r.SLO.TPOTMS), nullFloat(r.SLO.E2EMS), r.UUID)
	if err != nil {
		return 0, fmt.Errorf("recording run: %w", err)
	}
	return id, nil
}

// FinishRun sets a run's final status, end time and error text.
// It is retried while the database is busy, as the writer's batches are.
func (db *DB) FinishRun(ctx context.Context, runID int64, status bench.RunStatus, ended time.Time, errText string) error {
	_, err := db.execRetry(ctx, `UPDATE runs SET status = ?, ended_at = ?, error = ?, lease_until = NULL WHERE id = ?`,
		status, timeText(ended), errText, runID)
	if err != nil {
		return fmt.Errorf("finishing run %d: %w", runID, err)
	}
	return nil
}

// AddEndpoint records an endpoint of a run and returns its id.
func (db *DB) AddEndpoint(ctx context.Context, e bench.Endpoint) (int64, error) {
	if e.ConfigJSON == "" {
		e.ConfigJSON = "{}"
	}
	id, err := db.insertRetry(ctx, `INSERT INTO endpoints
		(run_id, name, base_url, model, hardware, preset, config_json) VALUES (?,?,?,?,?,?,?) RETURNING id`,
		e.RunID, e.Name, e.BaseURL, e.Model, e.Hardware, e.Preset, e.ConfigJSON)
	if err != nil {
		return 0, fmt.Errorf("recording endpoint %s: %w", e.Name, err)
	}
	return id, nil
}

// AddPrompts records a run's prompt set in one transaction (retried while busy).
func (db *DB) AddPrompts(ctx context.Context, runID int64, prompts []bench.Prompt) error {
	return retryBusy(ctx, DefaultRetryBudget, func() error { return db.addPrompts(ctx, runID, prompts) })
}

func (db *DB) addPrompts(ctx context.Context, runID int64, prompts []bench.Prompt) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recording prompts: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO prompts
		(run_id, idx, prompt_id, source_row, text_hash, input_tokens, gold_json) VALUES (?,?,?,?,?,?,?)`)
	if err != nil {
		return fmt.Errorf("recording prompts: %w", err)
	}
	defer stmt.Close()
	for _, p := range prompts {
		var row any
		if p.SourceRow >= 0 {
			row = p.SourceRow
		}
		gold := p.GoldJSON
		if gold == "" {
			gold = "[]"
		}
		if _, err := stmt.ExecContext(ctx, runID, p.Idx, p.PromptID, row, p.TextHash, p.InputTokens, gold); err != nil {
			return fmt.Errorf("recording prompt %d (%s): %w", p.Idx, p.PromptID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("recording prompts: %w", err)
	}
	return nil
}

// StartLevel records the start of a load level and returns its id.
func (db *DB) StartLevel(ctx context.Context, l bench.Level) (int64, error) {
	if l.Status == "" {
		l.Status = bench.LevelRunning
	}
	if l.Trial == 0 {
		l.Trial = 1
	}
	var rate any
	if l.Rate > 0 {
		rate = l.Rate
	}
	// endpoint_name: the endpoint's name, copied (levels_by_endpoint; schema.sql, migration 11).
	id, err := db.insertRetry(ctx, `INSERT INTO levels
		(run_id, endpoint_id, endpoint_name, concurrency, rate, trial, status, started_at, note)
		VALUES (?, ?, coalesce((SELECT name FROM endpoints WHERE id = ?), ''), ?, ?, ?, ?, ?, ?) RETURNING id`,
		l.RunID, l.EndpointID, l.EndpointID, l.Concurrency, rate, l.Trial, l.Status, timeText(l.StartedAt), l.Note)
	if err != nil {
		return 0, fmt.Errorf("recording level: %w", err)
	}
	return id, nil
}

// FinishLevel sets a level's final status, end time, note, lag flag and stop reason, and stores
// its statistics (level_summary, computed by levelstat from its recorded requests), in one
// transaction: a level that has ended always has its summary. Every request of the level must
// be recorded before (a Writer's Flush).
func (db *DB) FinishLevel(ctx context.Context, l bench.Level) error {
	err := retryBusy(ctx, DefaultRetryBudget, func() error {
		tx, err := db.sql.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `UPDATE levels SET status = ?, ended_at = ?, note = ?, lag_flag = ?,
			stop_reason = ? WHERE id = ?`, l.Status, timeText(l.EndedAt), l.Note, boolInt(l.LagFlag), l.StopReason, l.ID); err != nil {
			return err
		}
		if err := summarizeLevel(ctx, tx, l.ID); err != nil {
			return err
		}
		return tx.Commit()
	})
	if err != nil {
		return fmt.Errorf("finishing level %d: %w", l.ID, err)
	}
	return nil
}

// requestColumns are the requests columns every insert writes, in insertArgs' order.
const requestColumns = `run_id, level_id, endpoint_id, prompt_idx, prompt_id, warmup, attempt, final, status, http_status,
	 error_class, error_message, finish_reason, started_at, scheduled_ms, start_ms, queue_ms, elapsed_ms,
	 ttft_ms, ttfc_ms, e2e_ms, tpot_ms, itl_ms, chunks, input_tokens, input_tokens_source, output_tokens,
	 output_tokens_source, reasoning_tokens, response_text, reasoning_text, usage_json, server_ttft_ms,
	 server_e2e_ms, server_json, em, f1, relay_flag, seq,
	 conn_reused, connect_ms, conn_retries, http_proto, cached_tokens`

// requestArgs is how many values one request row binds.
const requestArgs = 44

// insertRequestsSQL is a multi-row INSERT of n requests.
func insertRequestsSQL(n int) string {
	row := "(" + strings.Repeat("?,", requestArgs-1) + "?)"
	var b strings.Builder
	b.Grow(len(requestColumns) + 40 + n*(len(row)+1))
	b.WriteString("INSERT INTO requests (" + requestColumns + ") VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	return b.String()
}

func nullFloat(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// appendInsertArgs appends one request row's values, in requestColumns' order. Integers are
// int64, booleans 0/1 int64 and the typed strings (status, error class, token sources)
// string: database/sql passes an int64 or a string to the driver as it is, while an int or
// a named string type goes through its reflection-based converter, which makes the int64
// or the string anyway (and one allocation more for each boxing): the values bound are
// the same (TestWriterValuesGolden).
func appendInsertArgs(args []any, r *bench.Request) []any {
	attempt := r.Attempt
	if attempt == 0 {
		attempt = 1
	}
	return append(args,
		r.RunID, r.LevelID, r.EndpointID, int64(r.PromptIdx), r.PromptID, bool64(r.Warmup), int64(attempt),
		bool64(r.Final), string(r.Status), nullInt64(r.HTTPStatus), string(r.ErrorClass), r.ErrorMessage, r.FinishReason,
		timeText(r.StartedAt), nullFloat(r.ScheduledMS), r.StartMS, r.QueueMS, r.ElapsedMS,
		nullFloat(r.TTFTMS), nullFloat(r.TTFCMS), nullFloat(r.E2EMS), nullFloat(r.TPOTMS),
		floatsJSON(r.ITLMS), int64(r.Chunks), nullInt64Ptr(r.InputTokens), string(r.InputTokensSource),
		nullInt64Ptr(r.OutputTokens), string(r.OutputTokensSource), nullInt64Ptr(r.ReasoningTokens),
		r.ResponseText, r.ReasoningText, nullString(r.UsageJSON), nullFloat(r.ServerTTFTMS),
		nullFloat(r.ServerE2EMS), nullString(r.ServerJSON), nullFloat(r.EM), nullFloat(r.F1),
		bool64(r.RelayFlag), nullInt64Ptr(r.Seq),
		nullBool64(r.ConnReused), nullFloat(r.ConnectMS), int64(r.ConnRetries), nullString(r.HTTPProto),
		nullInt64Ptr(r.CachedTokens),
	)
}

// bool64 is b as the int64 0 or 1.
func bool64(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// nullInt64 is n as an int64, or NULL for 0.
func nullInt64(n int) any {
	if n == 0 {
		return nil
	}
	return int64(n)
}

// nullInt64Ptr is *p as an int64, or NULL for nil.
func nullInt64Ptr(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

// nullBool64 is *p as bool64, or NULL for nil.
func nullBool64(p *bool) any {
	if p == nil {
		return nil
	}
	return bool64(*p)
}

// InsertRequests writes requests in one transaction. The Writer uses it; tests and tools
// that build databases directly may too.
func (db *DB) InsertRequests(ctx context.Context, reqs []bench.Request) error {
	return db.insertRequests(ctx, reqs, nil)
}

// insertRequests writes requests in one transaction with multi-row INSERTs: those of ins,
// prepared once on SQLite's connection (rawinsert.go), or for a nil ins (PostgreSQL, tools)
// each statement prepared for this transaction alone.
func (db *DB) insertRequests(ctx context.Context, reqs []bench.Request, ins *requestInserts) error {
	if ins != nil {
		return ins.insert(ctx, reqs)
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recording requests: %w", err)
	}
	defer tx.Rollback()
	if err := insertMultiRow(ctx, tx, reqs); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("recording requests: %w", err)
	}
	return nil
}

// multiRowMax is the most rows one multi-row INSERT carries (44 values each: under
// PostgreSQL's 65,535 bound parameters and SQLite's 32,766).
const multiRowMax = 256

// insertMultiRow writes reqs with multi-row INSERTs, on both backends: one statement
// execution per up to multiRowMax rows instead of one per row (on PostgreSQL a round trip
// per row on loopback caps recording near 2,000 rows/s; on SQLite each execution costs
// database/sql's and the driver's call overhead and a VDBE start). Statements carry
// multiRowMax rows, then the rest in power-of-two parts, so at most nine statement texts
// exist whatever the batch sizes.
func insertMultiRow(ctx context.Context, tx *sql.Tx, reqs []bench.Request) error {
	args := make([]any, 0, min(len(reqs), multiRowMax)*requestArgs)
	for len(reqs) > 0 {
		n := multiRowCount(len(reqs))
		args = args[:0]
		for i := range n {
			args = appendInsertArgs(args, &reqs[i])
		}
		if _, err := tx.ExecContext(ctx, insertRequestsSQL(n), args...); err != nil {
			return fmt.Errorf("recording %d requests (from prompt %s): %w", n, reqs[0].PromptID, err)
		}
		reqs = reqs[n:]
	}
	return nil
}

// multiRowCount is how many of left rows the next multi-row INSERT carries.
func multiRowCount(left int) int {
	n := multiRowMax
	for n > left {
		n /= 2
	}
	return n
}

// SetStopReason records why a sweep or an early stop ended at a level.
func (db *DB) SetStopReason(ctx context.Context, levelID int64, reason string) error {
	if _, err := db.execRetry(ctx, `UPDATE levels SET stop_reason = ? WHERE id = ?`, reason, levelID); err != nil {
		return fmt.Errorf("recording stop reason of level %d: %w", levelID, err)
	}
	return nil
}

// insertRetry runs one INSERT ... RETURNING id, retried while the database is busy or
// locked, and returns the id: the database assigns it (an SQLite rowid, a PostgreSQL identity
// column), so two processes writing into one database never pick the same.
func (db *DB) insertRetry(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := retryBusy(ctx, DefaultRetryBudget, func() error {
		return db.sql.QueryRowContext(ctx, query, args...).Scan(&id)
	})
	return id, err
}

// execRetry runs one write statement, retried while the database is busy or locked.
func (db *DB) execRetry(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := retryBusy(ctx, DefaultRetryBudget, func() error {
		var err error
		res, err = db.sql.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}
