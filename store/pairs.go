package store

import (
	"context"
	"database/sql"
	"fmt"
)

// PairCount compares two endpoints of one run prompt by prompt at one level: requests with
// the same (concurrency, rate, trial, seq) got the same prompt.
type PairCount struct {
	Concurrency int
	Rate        *float64
	Trial       int
	A, B        string // endpoint names, A < B
	N           int    // prompts both answered successfully
	AFaster     int    // prompts where A's E2E was lower
	BFaster     int
}

// levelPair is two levels of one run, of different endpoints, at the same load and trial.
type levelPair struct {
	PairCount
	levelA, levelB int64
}

// PairCounts pairs a run's successful measured requests across endpoints by prompt. It first
// lists the pairs of levels to compare (none when the run has one endpoint), then counts each
// pair in one pass over level A's requests, each looked up in level B by the
// requests_by_level_seq index: linear in the run's size, never a self-join of v_requests.
func (db *DB) PairCounts(ctx context.Context, runID int64) ([]PairCount, error) {
	pairs, err := db.levelPairs(ctx, runID)
	if err != nil {
		return nil, err
	}
	var prep preparer = db.sql
	if db.dialect == dialectPostgres {
		// Right after a run, PostgreSQL's statistics may not know the requests yet and plan
		// a nested loop over the wrong index: quadratic (47 s for 20,000 requests). Without
		// nested loops the pair is a hash or merge join whatever the statistics say.
		tx, err := db.sql.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return nil, fmt.Errorf("pairing requests of run %d: %w", runID, err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "SET LOCAL enable_nestloop = off"); err != nil {
			return nil, fmt.Errorf("pairing requests of run %d: %w", runID, err)
		}
		prep = tx
	}
	stmt, err := prep.PrepareContext(ctx, fmt.Sprintf(pairCountSQL, db.dialect.indexedBy("requests_by_level_seq")))
	if err != nil {
		return nil, fmt.Errorf("pairing requests of run %d: %w", runID, err)
	}
	defer stmt.Close()
	var out []PairCount
	for _, p := range pairs {
		var a, b sql.NullInt64
		if err := stmt.QueryRowContext(ctx, p.levelA, p.levelB).Scan(&p.N, &a, &b); err != nil {
			return nil, fmt.Errorf("pairing levels %d and %d of run %d: %w", p.levelA, p.levelB, runID, err)
		}
		if p.N > 0 {
			p.AFaster, p.BFaster = int(a.Int64), int(b.Int64)
			out = append(out, p.PairCount)
		}
	}
	return out, nil
}

type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// pairCountSQL counts one pair of levels: a's measured successes joined to b's by seq (%s:
// SQLite's hint to use requests_by_level_seq).
const pairCountSQL = `SELECT COUNT(*), COUNT(*) FILTER (WHERE a.e2e_ms < b.e2e_ms), COUNT(*) FILTER (WHERE b.e2e_ms < a.e2e_ms)
	FROM requests a JOIN requests b%s ON b.level_id = ?2 AND b.seq = a.seq
	WHERE a.level_id = ?1 AND a.warmup = 0 AND a.final = 1 AND a.status = 'ok' AND a.seq IS NOT NULL
	  AND a.e2e_ms IS NOT NULL
	  AND b.warmup = 0 AND b.final = 1 AND b.status = 'ok' AND b.e2e_ms IS NOT NULL`

// levelPairs lists the run's pairs of levels to compare, in the order of the summary.
func (db *DB) levelPairs(ctx context.Context, runID int64) ([]levelPair, error) {
	return queryAll(ctx, db.sql, fmt.Sprintf("pairing levels of run %d", runID), func(rows *sql.Rows) (levelPair, error) {
		var p levelPair
		err := rows.Scan(&p.levelA, &p.levelB, &p.Concurrency, &p.Rate, &p.Trial, &p.A, &p.B)
		return p, err
	}, `SELECT la.id, lb.id, la.concurrency, la.rate, la.trial, ea.name, eb.name
		FROM levels la
		JOIN endpoints ea ON ea.id = la.endpoint_id
		JOIN levels lb ON lb.run_id = la.run_id AND lb.concurrency = la.concurrency AND lb.rate IS NOT DISTINCT FROM la.rate
		 AND lb.trial = la.trial
		JOIN endpoints eb ON eb.id = lb.endpoint_id AND eb.name > ea.name
		WHERE la.run_id = ?
		ORDER BY la.concurrency, la.rate, la.trial, ea.name, eb.name`, runID)
}
