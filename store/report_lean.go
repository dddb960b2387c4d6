package store

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/levelstat"
)

// StoredLevelStats reads the stored statistics (level_summary, written by levelstat when a
// level ends) of those of the given levels that have them and are not running, keyed by level
// id. The report takes a level's own figures from here instead of recomputing them from its
// requests, and then needs fewer of each request's columns (EachStored).
func (db *DB) StoredLevelStats(ctx context.Context, levelIDs []int64) (map[int64]levelstat.Stats, error) {
	out := make(map[int64]levelstat.Stats, len(levelIDs))
	const chunk = 500 // SQLite bounds the number of bound parameters per statement
	for start := 0; start < len(levelIDs); start += chunk {
		ids := levelIDs[start:min(start+chunk, len(levelIDs))]
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		err := eachRow(ctx, db.sql, "reading stored level statistics", func(rows *sql.Rows) error {
			id, st, err := scanStoredStats(rows)
			if err == nil {
				out[id] = st
			}
			return err
		}, `SELECT `+prefixed("s.", levelSummaryColumns)+` FROM level_summary s JOIN levels l ON l.id = s.level_id
			WHERE l.status <> 'running' AND s.level_id IN (`+reportPlaceholders(len(ids))+`)`, args...)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// prefixed qualifies each name of a comma-separated column list.
func prefixed(prefix, columns string) string {
	var out []string
	for _, c := range strings.Split(columns, ",") {
		out = append(out, prefix+strings.TrimSpace(c))
	}
	return strings.Join(out, ", ")
}

// scanStoredStats reads one level_summary row (levelSummaryColumns) as storeLevelStats wrote it.
func scanStoredStats(rows *sql.Rows) (int64, levelstat.Stats, error) {
	var id int64
	var s levelstat.Stats
	var f [levelstat.NumMetrics][4]sql.NullFloat64
	var out sql.NullInt64
	var win, span, reqTokS, em, f1, lag, maxLag sql.NullFloat64
	dest := []any{&id, &s.N, &s.OK, &s.Good, &s.Canceled, &s.ClientResource, &s.Relayed}
	for m := range f {
		dest = append(dest, &f[m][0], &f[m][1], &f[m][2], &f[m][3])
	}
	dest = append(dest, &out, &win, &span, &reqTokS, &em, &f1, &lag, &maxLag)
	if err := rows.Scan(dest...); err != nil {
		return 0, s, err
	}
	for m := range f {
		s.Latency[m] = levelstat.Latency{Mean: reportNaN(f[m][0]), P50: reportNaN(f[m][1]), P90: reportNaN(f[m][2]), P99: reportNaN(f[m][3])}
	}
	s.OutputTokens = reportNaN(sql.NullFloat64{Float64: float64(out.Int64), Valid: out.Valid})
	s.WindowMS, s.SendSpanMS, s.MeanReqTokS = reportNaN(win), reportNaN(span), reportNaN(reqTokS)
	s.EM, s.F1, s.MeanSendLagMS, s.MaxSendLagMS = reportNaN(em), reportNaN(f1), reportNaN(lag), reportNaN(maxLag)
	return id, s, nil
}

var nan = math.NaN()

// The reads of EachStored: a level's successful requests in the order Each reads them (by
// sequence number, then id: the requests_by_level_seq index, no sort; okLayout.query), and its
// failures (through requests_by_level, without visiting the successes), few, sorted in Go.
// Each column SQLite gives costs one call into the driver when NULL, two otherwise, each
// taking the connection's mutex: a column less (em and f1 where no request is scored, a cache
// miss as NULL rather than 0) is about 0.03 CPU-s over 1M rows.
const (
	storedOKHead = `SELECT ttft_ms, e2e_ms, tpot_ms, server_ttft_ms, input_tokens, output_tokens, seq,
		CASE WHEN cached_tokens > 0 THEN 1 END`
	storedOKScores = `, em, f1`
	storedOKTail   = ` FROM requests WHERE level_id = ? AND status = 'ok' AND warmup = 0 AND final = 1 ORDER BY seq, id`

	storedFailedSQL = `SELECT status, error_class, error_message, em, f1, seq, id
		FROM requests WHERE level_id = ? AND (status < 'ok' OR status > 'ok') AND status <> 'canceled'
		AND warmup = 0 AND final = 1`
)

// okLayout is the columns of one read of a level's successes: the scores or not (a level
// none of whose measured requests is scored has em and f1 NaN in every row, given without
// reading them).
type okLayout struct {
	scored bool
}

// query is the layout's statement.
func (l okLayout) query() string {
	if l.scored {
		return storedOKHead + storedOKScores + storedOKTail
	}
	return storedOKHead + storedOKTail
}

// width is the number of columns of the layout's rows.
func (l okLayout) width() int {
	if l.scored {
		return 10
	}
	return 8
}

// decode fills r's columns from one row of the layout.
func (l okLayout) decode(dest []driver.Value, r *bench.ReportRequest) error {
	var v [10]float64
	for k, x := range dest {
		f, err := driverFloat(x)
		if err != nil {
			return fmt.Errorf("column %d: %w", k, err)
		}
		v[k] = f
	}
	r.TTFTMS, r.E2EMS, r.TPOTMS, r.ServerTTFTMS = v[0], v[1], v[2], v[3]
	r.InputTokens, r.OutputTokens, r.Seq, r.Cached = v[4], v[5], v[6], v[7] > 0
	r.EM, r.F1 = nan, nan
	if l.scored {
		r.EM, r.F1 = v[8], v[9]
	}
	return nil
}

// EachStored streams the measured requests of a level whose statistics are stored
// (StoredLevelStats), with only the columns the report needs beside them: a success's
// latencies, token counts, scores, server TTFT, cache hit and sequence number; a failure's
// status, error class, message, scores and sequence number. StartMS and ElapsedMS are NaN and
// Relayed is false (the stored statistics hold the window and the relay count). The order is
// Each's on SQLite (by sequence number, NULL first, then id), but for a failure and a success
// with the same sequence number, which come failure first. st is the level's stored
// statistics (StoredLevelStats), which say what need not be read: a level none of whose
// measured requests failed (N = OK, no client-resource failure) is not searched for failures,
// and one none of whose measured requests is scored (EM and F1 NaN) has its successes' em and
// f1 given as NaN without reading them.
func (sc *requestScanner) EachStored(ctx context.Context, levelID int64, st *levelstat.Stats, fn func(*bench.ReportRequest) error) error {
	return sc.EachStoredLevels(ctx, []int64{levelID}, []*levelstat.Stats{st}, func(_ int, r *bench.ReportRequest) error {
		return fn(r)
	})
}

// EachStoredLevels is EachStored of several levels, one after another (fn gets the index of
// the level in levelIDs and stats), on one connection that prepares each statement once for
// them all rather than once a level: about 30 us a level, a tenth of a second over 4,000.
func (sc *requestScanner) EachStoredLevels(ctx context.Context, levelIDs []int64, stats []*levelstat.Stats,
	fn func(i int, r *bench.ReportRequest) error) error {
	// The failures first, through the pool: the successes' read holds a connection, which may
	// be the pool's only one.
	if len(levelIDs) == 0 {
		return nil
	}
	failed := make([][]storedFailure, len(levelIDs))
	for i, id := range levelIDs {
		if st := stats[i]; st.N-st.OK+st.ClientResource > 0 { // the rows neither ok nor canceled
			var err error
			if failed[i], err = sc.storedFailures(ctx, id); err != nil {
				return err
			}
		}
	}
	conn, err := sc.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("reading requests of level %d: %w", levelIDs[0], err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		ps := preparedSet{conn: dc}
		defer ps.close()
		for i, id := range levelIDs {
			l := okLayout{scored: !math.IsNaN(stats[i].EM) || !math.IsNaN(stats[i].F1)}
			err := sc.eachStoredOK(ctx, &ps, id, l, failed[i], func(r *bench.ReportRequest) error { return fn(i, r) })
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// preparedSet is the statements prepared on one driver connection, inside one conn.Raw.
type preparedSet struct {
	conn  any
	stmts map[string]driver.Stmt
}

// stmt is query prepared on the connection, once.
func (ps *preparedSet) stmt(ctx context.Context, query string) (driver.StmtQueryContext, error) {
	st, ok := ps.stmts[query]
	if !ok {
		p, ok := ps.conn.(driver.ConnPrepareContext)
		if !ok {
			return nil, fmt.Errorf("the database driver (%T) cannot prepare", ps.conn)
		}
		var err error
		if st, err = p.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		if ps.stmts == nil {
			ps.stmts = map[string]driver.Stmt{}
		}
		ps.stmts[query] = st
	}
	q, ok := st.(driver.StmtQueryContext)
	if !ok {
		return nil, fmt.Errorf("the database driver's statement (%T) cannot query", st)
	}
	return q, nil
}

// close closes the statements.
func (ps *preparedSet) close() {
	for _, st := range ps.stmts {
		st.Close()
	}
}

// seqKey orders sequence numbers as SQLite does, NULL (NaN) first.
func seqKey(seq float64) float64 {
	if math.IsNaN(seq) {
		return math.Inf(-1)
	}
	return seq
}

// storedFailure is one failed request of EachStored, with its id to order it by.
type storedFailure struct {
	r  bench.ReportRequest
	id int64
}

// storedFailures reads a level's failures for EachStored, ordered by sequence number, then id.
func (sc *requestScanner) storedFailures(ctx context.Context, levelID int64) ([]storedFailure, error) {
	rows, err := sc.failed.QueryContext(ctx, levelID)
	if err != nil {
		return nil, fmt.Errorf("reading failed requests of level %d: %w", levelID, err)
	}
	defer rows.Close()
	var out []storedFailure
	for rows.Next() {
		f := storedFailure{r: bench.ReportRequest{StartMS: nan, ElapsedMS: nan, TTFTMS: nan, E2EMS: nan, TPOTMS: nan,
			ServerTTFTMS: nan, InputTokens: nan, OutputTokens: nan}}
		var em, f1, seq sql.NullFloat64
		if err := rows.Scan(&f.r.Status, &f.r.ErrorClass, &f.r.ErrorMessage, &em, &f1, &seq, &f.id); err != nil {
			return nil, fmt.Errorf("reading failed requests of level %d: %w", levelID, err)
		}
		f.r.EM, f.r.F1, f.r.Seq = reportNaN(em), reportNaN(f1), reportNaN(seq)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading failed requests of level %d: %w", levelID, err)
	}
	slices.SortFunc(out, func(a, b storedFailure) int {
		return cmp.Or(cmp.Compare(seqKey(a.r.Seq), seqKey(b.r.Seq)), cmp.Compare(a.id, b.id))
	})
	return out, nil
}

// eachStoredOK is EachStored's read of one level's successes in layout l, its failures
// (sorted) merged in. It reads the driver's rows itself (on one connection of the pool, only
// inside conn.Raw): database/sql's Scan converted every value a second time, about a third of
// the read's cost at ten columns a row.
func (sc *requestScanner) eachStoredOK(ctx context.Context, ps *preparedSet, levelID int64, l okLayout,
	failed []storedFailure, fn func(*bench.ReportRequest) error) error {
	next := 0
	err := func() error {
		q, err := ps.stmt(ctx, l.query())
		if err != nil {
			return err
		}
		rows, err := q.QueryContext(ctx, []driver.NamedValue{{Ordinal: 1, Value: levelID}})
		if err != nil {
			return err
		}
		defer rows.Close()
		r := bench.ReportRequest{Status: bench.StatusOK, StartMS: nan, ElapsedMS: nan}
		dest := make([]driver.Value, l.width())
		for {
			if err := rows.Next(dest); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
			if err := l.decode(dest, &r); err != nil {
				return err
			}
			for ; next < len(failed) && seqKey(failed[next].r.Seq) <= seqKey(r.Seq); next++ {
				if err := fn(&failed[next].r); err != nil {
					return err
				}
			}
			if err := fn(&r); err != nil {
				return err
			}
		}
	}()
	if err != nil {
		return fmt.Errorf("reading requests of level %d: %w", levelID, err)
	}
	for ; next < len(failed); next++ {
		if err := fn(&failed[next].r); err != nil {
			return err
		}
	}
	return nil
}

// driverFloat is a numeric column's driver value as a float64, NaN for NULL.
func driverFloat(x driver.Value) (float64, error) {
	switch x := x.(type) {
	case nil:
		return nan, nil
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case []byte:
		return strconv.ParseFloat(string(x), 64)
	case string:
		return strconv.ParseFloat(x, 64)
	}
	return 0, fmt.Errorf("not a number: %T", x)
}
